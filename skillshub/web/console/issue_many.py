"""Issue many: upload a class list (CSV or XLSX) → match its columns → preview every row →
confirm → a bulk job with a progress bar → per-row results as CSV.

Nothing is issued before the confirmation, and a bad file is refused before it is stored
(accounts.bulk_issue). The progress page works without JavaScript (it reloads itself while
the job runs, in a <noscript> refresh) and, with it, updates in place from the JSON of
`…/jobs/{id}/progress`: the console's twin of `GET /api/v1/jobs/{id}`, which needs an API
token, where the console has a cookie scoped to /console.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, BackgroundTasks, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel
from sqlalchemy.engine import Engine
from sqlmodel import Session

from accounts import bulk_issue, credentials
from badges.issuing import bulk
from badges.issuing.columns import TARGETS
from badges.issuing.spreadsheet import MAX_ROWS, column_letter
from catalogue.base import pk
from catalogue.errors import InvalidInput
from skillshub.db import session_scope
from skillshub.jobs import enqueue_job, jobs_of
from skillshub.settings import Settings
from skillshub.web.console.auth import IssuerDep, OrgAccess, ViewerDep
from skillshub.web.console.csv_export import csv_response
from skillshub.web.console.issue_one import field_errors
from skillshub.web.console.pages import register_action, register_notice, render
from skillshub.web.csrf import CsrfDep
from skillshub.web.deps import MasterKeyDep, SessionDep, SettingsDep
from skillshub.web.i18n import N_, say

router = APIRouter(include_in_schema=False)
UPLOAD = "/console/orgs/{slug}/issue/bulk"
JOB = "/console/orgs/{slug}/jobs/{job_uuid}"
SHOWN_BAD_ROWS = 500
SHOWN_GOOD_ROWS = 10

register_notice("job_started", N_("Issuing has started. You can leave this page and come back."))
register_notice(
    "job_seen", N_("This list was confirmed before: this is its job (nobody is issued twice).")
)
register_action("bulk.start", N_("started issuing to a list"))


def _upload_page(
    request: Request,
    access: OrgAccess,
    session: Session,
    settings: Settings,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        "errors": errors or {},
        "values": values or {},
        "micro_credentials": credentials.micro_credentials_of(session, access.organisation),
        "issuers": credentials.issuers_of(session, access.organisation),
        "max_size": bulk_issue.size_text(settings.console_upload_max_bytes),
        "max_rows": MAX_ROWS,
    }
    return render(
        request,
        "console/issue_many.html",
        context,
        me=access.me,
        organisation=access.organisation,
        status_code=status_code,
    )


@router.get(UPLOAD, response_class=HTMLResponse)
def upload_form(
    request: Request,
    access: IssuerDep,
    session: SessionDep,
    settings: SettingsDep,
    micro_credential: str = "",
) -> Response:
    values = {"micro_credential": micro_credential}
    return _upload_page(request, access, session, settings, values=values)


@router.post(UPLOAD, response_class=HTMLResponse, dependencies=[CsrfDep])
def upload(
    request: Request,
    access: IssuerDep,
    session: SessionDep,
    settings: SettingsDep,
    file: Annotated[UploadFile | None, File()] = None,
    micro_credential: Annotated[str, Form()] = "",
    issuer: Annotated[str, Form()] = "",
) -> Response:
    """Check the file (bounded), keep it, then go to the column matching. The body is read
    before the session starts (FastAPI parses forms first): a slow upload holds no lock."""
    data = file.file.read(settings.console_upload_max_bytes + 1) if file else b""
    filename = (file.filename or "") if file else ""
    values = {"micro_credential": micro_credential, "issuer": issuer}
    try:
        credentials.choose_micro_credential(session, access.organisation, micro_credential)
        staged = bulk_issue.upload_as(
            session,
            access.user,
            access.organisation,
            filename=filename,
            data=data,
            max_bytes=settings.console_upload_max_bytes,
        )
    except InvalidInput as exc:
        errors = field_errors(exc)
        return _upload_page(
            request, access, session, settings, errors=errors, values=values, status_code=422
        )
    query = urlencode({k: v for k, v in values.items() if v})
    target = f"/console/orgs/{access.organisation.slug}/issue/bulk/{staged.uuid}?{query}"
    return RedirectResponse(target, status_code=303)


@router.get(UPLOAD + "/{upload_uuid}", response_class=HTMLResponse)
def preview(
    request: Request,
    upload_uuid: str,
    access: IssuerDep,
    session: SessionDep,
) -> Response:
    """The columns as matched (selects to change them) and every row checked."""
    form = dict(request.query_params)
    errors: dict[str, str] = {}
    try:
        found = bulk_issue.preview_as(session, access.user, access.organisation, upload_uuid, form)
    except InvalidInput as exc:  # a hand-made mapping: back to the guess, saying why
        errors = field_errors(exc)
        found = bulk_issue.preview_as(session, access.user, access.organisation, upload_uuid)
    return _preview_page(request, access, session, found, form, errors)


def _preview_page(
    request: Request,
    access: OrgAccess,
    session: Session,
    found: bulk_issue.Preview,
    form: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> HTMLResponse:
    checked = found.checked
    bad = checked.bad if checked else []
    good = checked.good if checked else []
    context: dict[str, Any] = {
        "found": found,
        "upload": found.upload,
        "header": [
            (
                index,
                f"{column_letter(index)}: {title}"
                if title
                else say(N_("%(column)s: (no title)"), column=column_letter(index)),
            )
            for index, title in enumerate(found.table.header)
        ],
        "targets": TARGETS,
        "mapping": found.mapping,
        "errors": {**found.mapping_problems, **errors},
        "bad": bad[:SHOWN_BAD_ROWS],
        "bad_count": len(bad),
        "good_count": len(good),
        "sample": [(row, checked.values.get(row.line, {})) for row in good[:SHOWN_GOOD_ROWS]]
        if checked
        else [],
        "bad_values": checked.values if checked else {},
        "micro_credentials": credentials.micro_credentials_of(session, access.organisation),
        "issuers": credentials.issuers_of(session, access.organisation),
        "micro_credential": form.get("micro_credential", ""),
        "issuer": form.get("issuer", ""),
    }
    return render(
        request,
        "console/issue_many_preview.html",
        context,
        me=access.me,
        organisation=access.organisation,
        status_code=status_code,
    )


class ConfirmForm(BaseModel):
    micro_credential: str = ""
    issuer: str = ""
    map_name: str = ""
    map_first_name: str = ""
    map_last_name: str = ""
    map_email: str = ""
    map_grade: str = ""
    map_evidence_url: str = ""
    map_evidence_narrative: str = ""
    map_external_id: str = ""
    map_did: str = ""
    map_contact_consent: str = ""


@router.post(UPLOAD + "/{upload_uuid}/confirm", response_class=HTMLResponse, dependencies=[CsrfDep])
def confirm(
    request: Request,
    upload_uuid: str,
    access: IssuerDep,
    session: SessionDep,
    background: BackgroundTasks,
    settings: SettingsDep,
    master_key: MasterKeyDep,
    body: Annotated[ConfirmForm, Form()],
) -> Response:
    """Store the job (committed before the response), then run it after the response."""
    form = body.model_dump()
    try:
        started = bulk_issue.confirm_as(
            session, access.user, access.organisation, upload_uuid, form, address=access.address
        )
    except InvalidInput as exc:
        session.rollback()
        found = bulk_issue.preview_as(session, access.user, access.organisation, upload_uuid, form)
        errors = field_errors(exc)
        return _preview_page(request, access, session, found, form, errors, status_code=422)
    if started.new:
        enqueue_job(session, started.job.uuid)  # its tasks commit with its rows (PostgreSQL)
        background.add_task(jobs_of(request.app.state).run, started.job.uuid)
    notice = "job_started" if started.new else "job_seen"
    return RedirectResponse(
        f"/console/orgs/{access.organisation.slug}/jobs/{started.job.uuid}?notice={notice}",
        status_code=303,
    )


def _progress(job: Any) -> dict[str, Any]:
    done = job.issued + job.skipped + job.failed
    return {
        "id": job.uuid,
        "status": job.status,
        "total": job.total,
        "issued": job.issued,
        "duplicates": job.skipped,
        "failed": job.failed,
        "pending": job.total - done,
        "done": done,
    }


@router.get(JOB, response_class=HTMLResponse)
def job_page(request: Request, job_uuid: str, access: ViewerDep, session: SessionDep) -> Response:
    view = bulk_issue.job_as(session, access.user, access.organisation, job_uuid)
    context = {
        "view": view,
        "job": view.job,
        "progress": _progress(view.job),
        "running": view.job.status in ("pending", "running"),
        "values": {row.line: bulk.row_values(row) for row in view.problems},
    }
    return render(
        request, "console/job.html", context, me=access.me, organisation=access.organisation
    )


@router.get(JOB + "/progress")
def job_progress(job_uuid: str, access: ViewerDep, session: SessionDep) -> dict[str, Any]:
    """The job's figures as JSON, for the progress bar's script (its words are on the page,
    in the reader's language)."""
    view = bulk_issue.job_as(session, access.user, access.organisation, job_uuid, limit=0)
    return _progress(view.job)


RESULT_HEADER = ("line", "name", "email", "status", "credential", "error", "external_id")


def _result_rows(engine: Engine, organisation_id: int, job_uuid: str) -> Iterator[tuple]:
    with session_scope(engine, write=False) as session:
        job = bulk.owned_job(session, job_uuid, organisation_id)
        for row in bulk.iter_rows(session, job):
            values = bulk.row_values(row)
            yield (
                row.line, values.get("name", ""), values.get("email", ""), row.status,
                row.credential_uuid or "", row.error or "", row.external_id or "",
            )  # fmt: skip


@router.get(JOB + "/results.csv")
def job_results(
    request: Request, job_uuid: str, access: ViewerDep, session: SessionDep
) -> Response:
    """One line per row of the list: issued (with the credential), already issued, failed
    (with the reason)."""
    bulk_issue.job_as(session, access.user, access.organisation, job_uuid, limit=0)
    rows = _result_rows(request.app.state.engine, pk(access.organisation), job_uuid)
    return csv_response(f"results-{job_uuid[:8]}.csv", RESULT_HEADER, rows)
