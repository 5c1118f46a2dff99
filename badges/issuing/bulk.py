"""Bulk issuing: a CSV or JSON list of recipients becomes a job with per-row results.

Rows are stored first, then issued one per transaction, so a crash loses nothing: a rerun
resumes the pending rows, and the external id (given, or derived from the e-mail and the
micro-credential) makes sure nobody is issued twice.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from badges import status
from badges.issuing import service as issuing
from badges.models import BulkJob, BulkJobRow, IssuedCredential, Issuer
from badges.securing import JwtAlgorithm, check_format
from catalogue.base import pk
from catalogue.errors import DomainError, InvalidInput, NotFound
from catalogue.models import MicroCredential
from keys.sealing import MasterKey

log = logging.getLogger("skillshub.bulk")

FIELDS = (
    "name", "given_name", "family_name", "email", "did", "grade", "evidence_url", "external_id",
    "evidence_narrative", "contact_consent",
)  # fmt: skip
MAX_ROWS = 100_000
Progress = Callable[[BulkJob], None]


@dataclass(frozen=True)
class ParsedRow:
    line: int
    recipient: issuing.Recipient | None
    error: str | None = None
    values: dict[str, str] | None = None  # a bad row's cells, kept for its report


def _recipient(values: dict[str, Any]) -> issuing.Recipient:
    unknown = sorted(set(values) - set(FIELDS))
    if unknown:
        # repr: a key may hold a lone surrogate, which the row's stored error could not.
        raise InvalidInput(f"unknown column(s): {', '.join(map(repr, unknown))}")
    clean = {k: (str(v).strip() if v is not None else None) for k, v in values.items()}
    # Any: a missing name or e-mail is None here, which check_recipient refuses.
    fields: dict[str, Any] = {k: clean.get(k) or None for k in FIELDS}
    return issuing.check_recipient(issuing.Recipient(**fields))


def parse_csv(text: str) -> list[ParsedRow]:
    """Rows of a CSV with a header (email; name, or given_name and family_name, or all three;
    optional did, grade, evidence_url, external_id, evidence_narrative); a bad row is reported
    with its line and does not stop the others."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    try:
        return _csv_rows(reader)
    except csv.Error as exc:  # e.g. a field past the csv module's size limit
        raise InvalidInput(f"malformed CSV at line {reader.line_num + 1}: {exc}") from None


def _csv_rows(reader: csv.DictReader) -> list[ParsedRow]:
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    if "email" not in header:
        raise InvalidInput("the CSV header must name the column 'email'")
    if not {"name", "given_name", "family_name"} & set(header):
        raise InvalidInput(
            "the CSV header must name the column 'name', or 'given_name' and 'family_name'"
        )
    unknown = sorted(set(header) - set(FIELDS))
    if unknown:
        raise InvalidInput(f"unknown CSV column(s): {', '.join(unknown)}; known: {FIELDS}")
    reader.fieldnames = header
    rows: list[ParsedRow] = []
    for number, raw in enumerate(reader, start=2):
        if len(rows) >= MAX_ROWS:
            raise InvalidInput(f"at most {MAX_ROWS} rows per job")
        line = reader.line_num or number
        if None in raw:
            rows.append(ParsedRow(line, None, "the row has more fields than the header"))
            continue
        if not any((v or "").strip() for v in raw.values()):
            continue
        try:
            rows.append(ParsedRow(line, _recipient(raw)))
        except DomainError as exc:
            rows.append(ParsedRow(line, None, exc.message))
    return rows


def parse_json(items: Any) -> list[ParsedRow]:
    """Rows of a JSON array of objects; the "line" of each is its 1-based position."""
    if not isinstance(items, list):
        raise InvalidInput("a JSON bulk request must be an array of recipient objects")
    if len(items) > MAX_ROWS:
        raise InvalidInput(f"at most {MAX_ROWS} rows per job")
    rows = []
    for position, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            rows.append(ParsedRow(position, None, "each item must be an object"))
            continue
        try:
            rows.append(ParsedRow(position, _recipient(item)))
        except DomainError as exc:
            rows.append(ParsedRow(position, None, exc.message))
    return rows


def _external_id(recipient: issuing.Recipient, mc: MicroCredential) -> str:
    if recipient.external_id:
        return recipient.external_id
    digest = hashlib.sha256(f"{recipient.email.lower()}|{mc.slug}".encode()).hexdigest()
    return f"auto:{digest[:40]}"


def create_job(
    session: Session,
    *,
    issuer: Issuer,
    micro_credential: MicroCredential,
    rows: Iterable[ParsedRow],
    fmt: str = "ldp",
) -> BulkJob:
    """Store the job and every row (bad rows as failed) in one transaction."""
    check_format(fmt)
    issuing.check_issuable(micro_credential)
    job = BulkJob(
        uuid=str(uuid.uuid4()),
        issuer_id=pk(issuer),
        micro_credential_id=pk(micro_credential),
        format=fmt,
    )
    session.add(job)
    session.flush()
    records = []
    for row in rows:
        if row.recipient is None:
            records.append(
                BulkJobRow(
                    job_id=pk(job),
                    line=row.line,
                    payload=json.dumps(row.values or {}),
                    status="failed",
                    error=row.error,
                )
            )
            continue
        recipient = row.recipient
        external_id = _external_id(recipient, micro_credential)
        payload = asdict(recipient) | {"external_id": external_id}
        records.append(
            BulkJobRow(
                job_id=pk(job),
                line=row.line,
                external_id=external_id,
                payload=json.dumps(payload),
                status="pending",
            )
        )
    if not records:
        raise InvalidInput("the bulk request has no rows")
    session.add_all(records)
    job.total = len(records)
    job.failed = sum(1 for r in records if r.status == "failed")
    session.add(job)
    session.flush()
    return job


def run_job(
    engine: Engine,
    master_key: MasterKey,
    job_uuid: str,
    *,
    base_url: str,
    progress: Progress | None = None,
    status_purposes: tuple[str, ...] = status.DEFAULT_PURPOSES,
    jwt_algorithm: JwtAlgorithm = "ES256",
    on_issued: Callable[[Session, IssuedCredential], object] | None = None,
) -> BulkJob:
    """Issue every pending row, one transaction each; safe to rerun after a crash.

    `on_issued` runs after each new credential's transaction commits (e.g. e-mail delivery).
    """
    with Session(engine, expire_on_commit=False) as session:
        job = get_job(session, job_uuid)
        job.status = "running"
        session.add(job)
        session.commit()
        log.info("bulk job %s started: %d rows", job.uuid, job.total)
        pending = session.exec(
            select(BulkJobRow.id)
            .where(BulkJobRow.job_id == job.id, BulkJobRow.status == "pending")
            .order_by(col(BulkJobRow.line))
        ).all()
        issuer = session.get(Issuer, job.issuer_id)
        mc = session.get(MicroCredential, job.micro_credential_id)
        assert issuer is not None and mc is not None
        for row_id in pending:
            row = session.get(BulkJobRow, row_id)
            assert row is not None
            recipient = issuing.Recipient(**json.loads(row.payload))
            try:
                record = issuing.issue(
                    session,
                    master_key,
                    issuer=issuer,
                    micro_credential=mc,
                    recipient=recipient,
                    base_url=base_url,
                    fmt=job.format,
                    status_purposes=status_purposes,
                    jwt_algorithm=jwt_algorithm,
                )
                row.status, row.credential_uuid = "issued", record.uuid
                job.issued += 1
            except issuing.DuplicateExternalId as exc:
                row.status, row.credential_uuid = "duplicate", exc.existing.uuid
                job.skipped += 1
            except DomainError as exc:
                row.status, row.error = "failed", exc.message
                job.failed += 1
            session.add(row)
            session.add(job)
            session.commit()
            if on_issued and row.status == "issued":
                on_issued(session, record)
            if progress:
                progress(job)
        job.status = "done"
        job.finished_at = datetime.now(UTC)
        session.add(job)
        session.commit()
        log.info(
            "bulk job %s done: %d issued, %d duplicates, %d failed",
            job.uuid,
            job.issued,
            job.skipped,
            job.failed,
        )
        return job


def get_job(session: Session, job_uuid: str) -> BulkJob:
    job = session.exec(select(BulkJob).where(BulkJob.uuid == job_uuid)).first()
    if job is None:
        raise NotFound(f"bulk job {job_uuid!r} does not exist")
    return job


def owned_job(session: Session, job_uuid: str, organisation_id: int | None) -> BulkJob:
    """The job, if one of the organisation's issuers runs it (else it does not exist for them)."""
    job = get_job(session, job_uuid)
    issuer = session.get(Issuer, job.issuer_id)
    if issuer is None or issuer.organisation_id != organisation_id:
        raise NotFound(f"bulk job {job_uuid!r} does not exist")
    return job


def job_rows(session: Session, job: BulkJob) -> list[BulkJobRow]:
    statement = select(BulkJobRow).where(BulkJobRow.job_id == job.id)
    return list(session.exec(statement.order_by(col(BulkJobRow.line))))


def job_report(session: Session, job: BulkJob) -> dict[str, Any]:
    return {
        "id": job.uuid,
        "status": job.status,
        "format": job.format,
        "total": job.total,
        "issued": job.issued,
        "duplicates": job.skipped,
        "failed": job.failed,
        "pending": job.total - job.issued - job.skipped - job.failed,
        "rows": [
            {
                "line": r.line,
                "external_id": r.external_id,
                "status": r.status,
                "credential": r.credential_uuid,
                "error": r.error,
            }
            for r in job_rows(session, job)
        ],
    }


def failed_rows(session: Session, job: BulkJob, *, limit: int = 200) -> list[BulkJobRow]:
    statement = select(BulkJobRow).where(BulkJobRow.job_id == job.id, BulkJobRow.status == "failed")
    return list(session.exec(statement.order_by(col(BulkJobRow.line)).limit(limit)))


def iter_rows(session: Session, job: BulkJob, *, batch: int = 1000) -> Iterator[BulkJobRow]:
    """Every row of the job by line, a batch at a time (a report of 100,000 rows)."""
    after = -1
    while True:
        rows = session.exec(
            select(BulkJobRow)
            .where(BulkJobRow.job_id == job.id, col(BulkJobRow.line) > after)
            .order_by(col(BulkJobRow.line))
            .limit(batch)
        ).all()
        yield from rows
        if len(rows) < batch:
            return
        after = rows[-1].line


def row_values(row: BulkJobRow) -> dict[str, str]:
    """What a row held (its recipient, or a bad row's cells), for its report."""
    try:
        values = json.loads(row.payload)
    except ValueError:
        return {}
    return (
        {k: str(v) for k, v in values.items() if v is not None} if isinstance(values, dict) else {}
    )
