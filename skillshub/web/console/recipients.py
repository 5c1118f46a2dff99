"""Recipients: every credential the organisation issued, with its state, filters, search,
keyset pages and a CSV export; one credential's page with its history, and revoke /
suspend / unsuspend (with a reason) and "send the claim link again"."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.engine import Engine

from accounts import credentials
from accounts.roles import Role
from badges import recipients
from badges.recipients import Filters
from catalogue.base import pk
from catalogue.errors import Conflict, InvalidInput
from skillshub.db import session_scope
from skillshub.web.console import nav
from skillshub.web.console.auth import IssuerDep, OrgAccess, ViewerDep
from skillshub.web.console.csv_export import csv_response
from skillshub.web.console.issue_one import field_errors
from skillshub.web.console.pages import register_action, register_notice, render
from skillshub.web.csrf import CsrfDep
from skillshub.web.deps import MasterKeyDep, SessionDep, SettingsDep
from skillshub.web.i18n import N_

router = APIRouter(include_in_schema=False)
LIST = "/console/orgs/{slug}/recipients"
ONE = "/console/orgs/{slug}/credentials/{credential_uuid}"

nav.register(N_("Recipients"), LIST, needs=Role.viewer, order=30)
register_notice(
    "revoke", N_("The badge is revoked. Its public page and every verifier now say so.")
)
register_notice("suspend", N_("The badge is suspended until you lift the suspension."))
register_notice("unsuspend", N_("The suspension is lifted: the badge is valid again."))
register_notice("resent", N_("A new claim link was e-mailed; earlier links no longer work."))
register_notice("resend_failed", N_("The new claim link could not be e-mailed; see the history."))
for _action, _words in {
    "credential.revoke": N_("revoked a badge"),
    "credential.suspend": N_("suspended a badge"),
    "credential.unsuspend": N_("lifted a badge's suspension"),
    "credential.resend": N_("sent a claim link again"),
}.items():
    register_action(_action, _words)

CSV_HEADER = (
    "credential", "name", "email", "micro_credential", "state", "public", "issued_at",
    "valid_until", "claimed_at", "revoked_at", "delivery", "delivery_error", "grade",
    "external_id", "url",
)  # fmt: skip


def _date(value: str, field: str) -> date | None:
    """A date field of the filter form: empty is no filter (a browser sends it empty)."""
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(f"{field}: a date as YYYY-MM-DD", details={"field": field}) from None


def _filters(
    micro_credential: str, state: str, issued_from: str, issued_until: str, q: str
) -> Filters:
    return Filters(
        micro_credential or None,
        state or None,
        _date(issued_from, "issued_from"),
        _date(issued_until, "issued_until"),
        q or None,
    )


FilterArgs = dict[str, str]


@router.get(LIST, response_class=HTMLResponse)
def recipient_list(
    request: Request,
    access: ViewerDep,
    session: SessionDep,
    micro_credential: str = "",
    state: str = "",
    issued_from: Annotated[str, Query(max_length=40)] = "",
    issued_until: Annotated[str, Query(max_length=40)] = "",
    q: Annotated[str, Query(max_length=200)] = "",
    after: Annotated[str | None, Query(max_length=200)] = None,
    before: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    direction: recipients.Direction = "before" if before else "after"
    cursor = before or after
    error = None
    filters = Filters()
    try:
        filters = _filters(micro_credential, state, issued_from, issued_until, q)
        found = credentials.recipients_as(
            session, access.user, access.organisation, filters, cursor=cursor, direction=direction
        )
    except InvalidInput as exc:
        error = field_errors(exc)
        found = credentials.recipients_as(session, access.user, access.organisation, Filters())
    query = {
        "micro_credential": micro_credential,
        "state": state,
        "issued_from": issued_from,
        "issued_until": issued_until,
        "q": q,
    }
    context = {
        "page": found,
        "filters": filters,
        "query": {k: v for k, v in query.items() if v},
        "states": recipients.STATES,
        "micro_credentials": credentials.micro_credentials_of(session, access.organisation),
        "errors": error or {},
        "cap": recipients.COUNT_CAP,
        "can_issue": access.role >= Role.issuer,
    }
    return render(
        request,
        "console/recipients.html",
        context,
        me=access.me,
        organisation=access.organisation,
        status_code=422 if error else 200,
    )


def _csv_rows(engine: Engine, organisation_id: int, filters: Filters, base_url: str) -> Iterator:
    # Its own reader session: the response streams after the request's session has closed.
    now = datetime.now(UTC)
    with session_scope(engine, write=False) as session:
        for row in recipients.all_rows(session, organisation_id, filters):
            yield (
                row.uuid, row.recipient_name, row.recipient_email, row.micro_credential,
                row.state_at(now), "yes" if row.public else "no", _iso(row.created_at),
                _iso(row.valid_until), _iso(row.claimed_at), _iso(row.revoked_at),
                row.delivery_status or "", row.delivery_error or "", row.grade or "",
                row.external_id or "", f"{base_url}/credentials/{row.uuid}",
            )  # fmt: skip


@router.get(LIST + ".csv")
def recipient_export(
    request: Request,
    access: ViewerDep,
    session: SessionDep,
    settings: SettingsDep,
    micro_credential: str = "",
    state: str = "",
    issued_from: Annotated[str, Query(max_length=40)] = "",
    issued_until: Annotated[str, Query(max_length=40)] = "",
    q: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    """Every matching credential as CSV (the filters of the page), streamed."""
    filters = _filters(micro_credential, state, issued_from, issued_until, q)
    # Checked here, with the role, before the download starts: a bad filter is a clear 422.
    credentials.recipients_as(session, access.user, access.organisation, filters, limit=1)
    rows = _csv_rows(request.app.state.engine, pk(access.organisation), filters, settings.base_url)
    return csv_response(f"recipients-{access.organisation.slug}.csv", CSV_HEADER, rows)


def _iso(moment: object) -> str:
    return moment.isoformat() if moment is not None else ""  # type: ignore[attr-defined]


def _credential_page(
    request: Request,
    access: OrgAccess,
    session: SessionDep,
    credential_uuid: str,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    view = credentials.credential_as(session, access.user, access.organisation, credential_uuid)
    context = {
        "view": view,
        "row": view.row,
        "state": view.row.state_at(view.now),
        "states": recipients.STATES,
        "can_issue": access.role >= Role.issuer,
        "errors": errors or {},
        "values": values or {},
    }
    return render(
        request,
        "console/credential.html",
        context,
        me=access.me,
        organisation=access.organisation,
        status_code=status_code,
    )


@router.get(ONE, response_class=HTMLResponse)
def credential_page(
    request: Request, credential_uuid: str, access: ViewerDep, session: SessionDep
) -> Response:
    return _credential_page(request, access, session, credential_uuid)


@router.post(ONE + "/resend", response_class=HTMLResponse, dependencies=[CsrfDep])
def resend(
    request: Request,
    credential_uuid: str,
    access: IssuerDep,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    try:
        sent = credentials.resend_as(
            session,
            access.user,
            access.organisation,
            settings,
            credential_uuid,
            address=access.address,
        )
    except Conflict as exc:
        errors = {"resend": exc.message}
        return _credential_page(
            request, access, session, credential_uuid, errors=errors, status_code=409
        )
    notice = "resent" if sent.sent else "resend_failed"
    return RedirectResponse(
        f"/console/orgs/{access.organisation.slug}/credentials/{credential_uuid}?notice={notice}",
        status_code=303,
    )


@router.post(ONE + "/{action}", response_class=HTMLResponse, dependencies=[CsrfDep])
def change_status(
    request: Request,
    credential_uuid: str,
    action: Literal["revoke", "suspend", "unsuspend"],
    access: IssuerDep,
    session: SessionDep,
    settings: SettingsDep,
    master_key: MasterKeyDep,
    reason: Annotated[str, Form(max_length=4000)] = "",
    confirm: Annotated[str, Form()] = "",
) -> Response:
    """Revoke (final: the form asks to confirm), suspend or unsuspend, with a reason."""
    errors: dict[str, str] = {}
    status_code = 422
    if action == "revoke" and confirm != "yes":
        errors["confirm"] = N_("Tick the box to confirm: revocation is final.")
    if not errors:
        try:
            credentials.change_status_as(
                session,
                access.user,
                access.organisation,
                master_key,
                credential_uuid=credential_uuid,
                action=action,
                reason=reason,
                base_url=settings.base_url,
                address=access.address,
            )
        except InvalidInput as exc:
            errors = {f"{action}_{k}": v for k, v in field_errors(exc).items()}
        except Conflict as exc:
            errors, status_code = {f"{action}_form": exc.message}, 409
    else:
        errors = {f"{action}_{k}": v for k, v in errors.items()}
    if errors:
        session.rollback()
        values = {"action": action, "reason": reason}
        return _credential_page(
            request,
            access,
            session,
            credential_uuid,
            errors=errors,
            values=values,
            status_code=status_code,
        )
    return RedirectResponse(
        f"/console/orgs/{access.organisation.slug}/credentials/{credential_uuid}?notice={action}",
        status_code=303,
    )
