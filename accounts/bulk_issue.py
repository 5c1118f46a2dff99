"""Issue many from the console: upload a class list → map its columns → preview every row →
confirm → a bulk job (badges.issuing.bulk) with per-row results.

The file is read and refused (SpreadsheetError) before it is stored; stored, it waits in
badges.issuing.staging until it is confirmed. A preview writes nothing. The confirmation
checks the rows again from the stored file with the confirmed mapping, stores the job with
every row (bad ones as failed, with their reason) and records `bulk.start`; a second
confirmation of the same upload leads to the first one's job.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from accounts.audit import Actor
from accounts.credentials import Origin, choose_issuer, choose_micro_credential, start_bulk
from accounts.models import User
from accounts.roles import Role
from accounts.users import require_role
from badges.issuing import bulk, columns, spreadsheet, staging
from badges.issuing.columns import Checked, Mapping
from badges.issuing.spreadsheet import SpreadsheetError, Table
from badges.models import BulkJob, BulkJobRow, Issuer, StagedUpload
from catalogue.base import pk
from catalogue.errors import InvalidInput, NotFound
from catalogue.models import MicroCredential, Organisation


@dataclass(frozen=True)
class Preview:
    upload: StagedUpload
    table: Table
    mapping: Mapping
    mapping_problems: dict[str, str]
    checked: Checked | None  # None while the mapping cannot be used


def size_text(count: int) -> str:
    """4194304 -> "4 MB", 2048 -> "2 KB": an upload limit in words."""
    if count >= 2**20:
        return f"{count / 2**20:.3g} MB"
    return f"{max(1, count // 1024)} KB"


def upload_as(
    session: Session,
    user: User,
    organisation: Organisation,
    *,
    filename: str,
    data: bytes,
    max_bytes: int,
) -> StagedUpload:
    """Check the file can be read (refused otherwise, nothing stored), then keep it."""
    require_role(session, user, organisation, Role.issuer)
    if not data:
        raise SpreadsheetError("Choose a file: a spreadsheet (.xlsx) or a CSV file.")
    if len(data) > max_bytes:
        raise SpreadsheetError(
            f"The file is larger than {size_text(max_bytes)}, the most that can be uploaded. "
            "Split the list, or save it as CSV (smaller than .xlsx)."
        )
    table = spreadsheet.read_table(data, filename)
    return staging.stage(
        session,
        organisation_id=pk(organisation),
        uploaded_by=user.email,
        filename=filename,
        kind=table.kind,
        data=data,
    )


def _table(upload: StagedUpload) -> Table:
    if upload.data is None:
        raise staging.UploadGone("This upload was issued already; see its job.")
    return spreadsheet.read_table(upload.data, upload.filename)


def preview_as(
    session: Session,
    user: User,
    organisation: Organisation,
    upload_uuid: str,
    form: dict[str, str] | None = None,
) -> Preview:
    """The table, the mapping (the form's, else the guess) and every row checked."""
    require_role(session, user, organisation, Role.issuer)
    upload = staging.staged(session, pk(organisation), upload_uuid)
    table = _table(upload)
    if form and any(key.startswith("map_") for key in form):
        mapping = columns.from_form(form, len(table.header))
    else:
        mapping = columns.guess(table.header)
    problems = columns.problems(mapping)
    checked = None if problems else columns.check_rows(table, mapping)
    return Preview(upload, table, mapping, problems, checked)


@dataclass(frozen=True)
class Started:
    job: BulkJob
    new: bool  # False: this upload was confirmed before, and this is its job


def confirm_as(
    session: Session,
    user: User,
    organisation: Organisation,
    upload_uuid: str,
    form: dict[str, str],
    *,
    address: str | None = None,
) -> Started:
    """Store the job of a previewed upload (the caller commits, then runs it)."""
    require_role(session, user, organisation, Role.issuer)
    upload = staging.staged(session, pk(organisation), upload_uuid, lock=True)
    if upload.job_uuid is not None:
        return Started(bulk.get_job(session, upload.job_uuid), new=False)
    issuer = choose_issuer(session, organisation, form.get("issuer"))
    mc = choose_micro_credential(session, organisation, form.get("micro_credential"))
    table = _table(upload)
    mapping = columns.from_form(form, len(table.header))
    problems = columns.problems(mapping)
    if problems:
        raise InvalidInput(next(iter(problems.values())), details={"field": next(iter(problems))})
    checked = columns.check_rows(table, mapping)
    if not checked.good:
        raise InvalidInput(
            "No row of this file can be issued: correct the rows listed and upload it again.",
            details={"field": "file"},
        )
    job = start_bulk(
        session,
        issuer=issuer,
        micro_credential=mc,
        rows=checked.rows,
        origin=Origin(Actor.for_user(user), address),
        source=upload.filename,
    )
    staging.started(session, upload, job.uuid)
    return Started(job, new=True)


@dataclass(frozen=True)
class JobView:
    job: BulkJob
    issuer: Issuer
    micro_credential: MicroCredential
    problems: list[BulkJobRow]  # failed rows, first ones


def job_as(
    session: Session, user: User, organisation: Organisation, job_uuid: str, *, limit: int = 200
) -> JobView:
    require_role(session, user, organisation, Role.viewer)
    job = bulk.owned_job(session, job_uuid, pk(organisation))
    issuer = session.get(Issuer, job.issuer_id)
    mc = session.get(MicroCredential, job.micro_credential_id)
    if issuer is None or mc is None:  # foreign keys
        raise NotFound(f"bulk job {job_uuid!r} does not exist")
    return JobView(job, issuer, mc, bulk.failed_rows(session, job, limit=limit))


def job_rows_as(
    session: Session, user: User, organisation: Organisation, job_uuid: str
) -> list[BulkJobRow]:
    require_role(session, user, organisation, Role.viewer)
    return bulk.job_rows(session, bulk.owned_job(session, job_uuid, pk(organisation)))
