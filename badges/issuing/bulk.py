"""Bulk issuing: a CSV or JSON list of recipients becomes a job with per-row results.

Rows are stored first, then issued in chunks (`run_chunk`, the unit a job engine hands to a
worker: skillshub.jobs), a batch of a few hundred rows per transaction with everything the
issuer's credentials share loaded once (`issuing.issue_context`). A crash loses nothing: the
pending rows are resumed, and the external id (given, or derived from the e-mail and the
micro-credential) makes sure nobody is issued twice.
"""

from __future__ import annotations

import bisect
import csv
import hashlib
import io
import json
import logging
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, insert, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from badges import status
from badges.issuing import service as issuing
from badges.models import BulkJob, BulkJobRow, IssuedCredential, Issuer
from badges.securing import JwtAlgorithm, check_format
from catalogue.base import pk, table_of
from catalogue.errors import DomainError, InvalidInput, NotFound
from catalogue.models import MicroCredential
from keys.sealing import MasterKey

log = logging.getLogger("skillshub.bulk")

FIELDS = (
    "name", "given_name", "family_name", "email", "did", "grade", "evidence_url", "external_id",
    "evidence_narrative", "contact_consent",
)  # fmt: skip
MAX_ROWS = 100_000
_INSERT_ROWS = 5_000
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
    table = table_of(BulkJobRow)
    records: list[dict[str, Any]] = []
    for row in rows:  # executemany, a slice at a time: 100,000 rows never held as dicts at once
        records.append(_row_record(pk(job), row, micro_credential))
        job.total += 1
        job.failed += records[-1]["status"] == "failed"
        if len(records) == _INSERT_ROWS:
            session.execute(insert(table), records)
            records = []
    if records:
        session.execute(insert(table), records)
    if not job.total:
        raise InvalidInput("the bulk request has no rows")
    session.add(job)
    session.flush()
    return job


def _row_record(job_id: int, row: ParsedRow, mc: MicroCredential) -> dict[str, Any]:
    if row.recipient is None:
        return {
            "job_id": job_id,
            "line": row.line,
            "external_id": None,
            "payload": json.dumps(row.values or {}),
            "status": "failed",
            "error": row.error,
        }
    external_id = _external_id(row.recipient, mc)
    return {
        "job_id": job_id,
        "line": row.line,
        "external_id": external_id,
        "payload": json.dumps(vars(row.recipient) | {"external_id": external_id}),
        "status": "pending",
        "error": None,
    }


CHUNK_ROWS = 1000  # rows per chunk: the unit a job engine hands to one worker at a time
BATCH_ROWS = 250  # rows per transaction within a chunk
Chunk = tuple[int, int]  # first and last row id of a chunk (inclusive)
# Called after each batch commits, with the uuids of the credentials it issued.
Issued = Callable[[list[str]], object]
# Called in each batch's transaction, before its commit, with the same uuids: what it writes
# (a job queue's e-mail task) commits, or rolls back, with the credentials.
IssuedInBatch = Callable[[Session, list[str]], object]


@dataclass(frozen=True)
class Issuing:
    """How a job's credentials are issued: what every chunk of it needs besides its rows."""

    master_key: MasterKey
    base_url: str
    status_purposes: tuple[str, ...] = status.DEFAULT_PURPOSES
    jwt_algorithm: JwtAlgorithm = "ES256"


def chunks(session: Session, job: BulkJob, *, size: int | None = None) -> list[Chunk]:
    """The job's rows cut into chunks of `size` consecutive ids; the same cuts every time
    (they name the chunk tasks and their queueing locks)."""
    ids = session.exec(
        select(BulkJobRow.id).where(BulkJobRow.job_id == job.id).order_by(col(BulkJobRow.id))
    ).all()
    known = [i for i in ids if i is not None]
    size = size or CHUNK_ROWS
    parts = (known[n : n + size] for n in range(0, len(known), size))
    return [(part[0], part[-1]) for part in parts]


def pending_chunks(session: Session, job: BulkJob) -> list[Chunk]:
    """The chunks that still have pending rows."""
    pending = [
        i
        for i in session.exec(
            select(BulkJobRow.id)
            .where(BulkJobRow.job_id == job.id, BulkJobRow.status == "pending")
            .order_by(col(BulkJobRow.id))
        ).all()
        if i is not None
    ]
    return [
        (first, last)
        for first, last in chunks(session, job)
        if bisect.bisect_right(pending, last) > bisect.bisect_left(pending, first)
    ]


def start_job(engine: Engine, job_uuid: str) -> BulkJob:
    """Mark the job running (a job is `pending` until a worker first takes it)."""
    with Session(engine, expire_on_commit=False) as session:
        job = get_job(session, job_uuid)
        table = table_of(BulkJob)
        started = session.execute(
            update(table)
            .where(table.c.id == job.id, table.c.status == "pending")
            .values(status="running")
        )
        session.commit()
        session.refresh(job)
        if started.rowcount:  # type: ignore[attr-defined]  # CursorResult of an UPDATE
            log.info("bulk job %s started: %d rows", job.uuid, job.total)
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
    on_issued: Issued | None = None,
) -> BulkJob:
    """Issue every pending row, chunk by chunk, in this process; safe to rerun after a crash
    (a rerun resumes the pending rows; nobody is issued twice)."""
    job = start_job(engine, job_uuid)
    how = Issuing(master_key, base_url, status_purposes, jwt_algorithm)
    with Session(engine) as session:
        todo = pending_chunks(session, job)
    for chunk in todo:
        run_chunk(engine, how, job_uuid, chunk, progress=progress, on_issued=on_issued)
    finish_if_done(engine, job_uuid)
    with Session(engine, expire_on_commit=False) as session:
        return get_job(session, job_uuid)


def run_chunk(
    engine: Engine,
    how: Issuing,
    job_uuid: str,
    chunk: Chunk,
    *,
    progress: Progress | None = None,
    on_issued: Issued | None = None,
    in_batch: IssuedInBatch | None = None,
    batch_rows: int = BATCH_ROWS,
) -> None:
    """Issue the chunk's pending rows, one transaction per batch. On PostgreSQL the batch's
    rows are locked with SKIP LOCKED, so two workers given the same chunk (a re-enqueued
    one) share its rows and never issue one twice; on SQLite the writer lock does that.
    `in_batch` runs in each batch's transaction, `on_issued` after its commit."""
    with Session(engine, expire_on_commit=False) as session:
        job = get_job(session, job_uuid)
        if job.status == "done":
            return
        issuer = session.get(Issuer, job.issuer_id)
        mc = session.get(MicroCredential, job.micro_credential_id)
        assert issuer is not None and mc is not None
        context = issuing.issue_context(
            session,
            how.master_key,
            issuer=issuer,
            micro_credential=mc,
            base_url=how.base_url,
            fmt=job.format,
            status_purposes=how.status_purposes,
            jwt_algorithm=how.jwt_algorithm,
        )
        session.commit()  # the context may have made the issuer's ES256 key
    while True:
        done, issued = _run_batch(engine, how, context, job, chunk, batch_rows, in_batch)
        if on_issued and issued:
            on_issued(issued)
        if progress:
            with Session(engine, expire_on_commit=False) as session:
                progress(get_job(session, job_uuid))
        if not done:
            return


def _pending(session: Session, job: BulkJob, chunk: Chunk, limit: int) -> list[BulkJobRow]:
    statement = (
        select(BulkJobRow)
        .where(BulkJobRow.job_id == job.id, BulkJobRow.status == "pending")
        .where(col(BulkJobRow.id) >= chunk[0], col(BulkJobRow.id) <= chunk[1])
        .order_by(col(BulkJobRow.id))
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update(skip_locked=True)
    return list(session.exec(statement))


def _run_batch(
    engine: Engine,
    how: Issuing,
    context: issuing.IssueContext,
    job: BulkJob,
    chunk: Chunk,
    limit: int,
    in_batch: IssuedInBatch | None = None,
) -> tuple[int, list[str]]:
    """One transaction: up to `limit` pending rows issued (or found duplicate, or failed).
    Returns how many rows it settled and the new credentials' uuids. A concurrent duplicate
    (the unique external id) rolls the batch back; its rows are then settled one by one."""
    with Session(engine, expire_on_commit=False) as session:
        rows = _pending(session, job, chunk, limit)
        if not rows:
            return 0, []
        ids = [pk(row) for row in rows]
        try:
            issued = _settle(session, how, context, job, rows)
            if in_batch and issued:
                in_batch(session, issued)
            session.commit()
            return len(rows), issued
        except IntegrityError:
            session.rollback()
            if limit == 1:
                raise
    issued = []
    for row_id in ids:
        issued += _run_batch(engine, how, context, job, (row_id, row_id), 1, in_batch)[1]
    return len(ids), issued


def _settle(
    session: Session,
    how: Issuing,
    context: issuing.IssueContext,
    job: BulkJob,
    rows: list[BulkJobRow],
) -> list[str]:
    recipients = [issuing.Recipient(**json.loads(row.payload)) for row in rows]
    existing = _existing(session, job, [r.external_id for r in recipients if r.external_id])
    first: dict[str, int] = {}  # external id -> position of the row that issues it
    fresh: list[int] = []
    for position, recipient in enumerate(recipients):
        key = recipient.external_id or ""
        if key in existing or key in first:
            continue
        if key:
            first[key] = position
        fresh.append(position)
    outcomes = issuing.issue_many(session, how.master_key, context, [recipients[p] for p in fresh])
    by_position = dict(zip(fresh, outcomes, strict=True))
    changes: list[dict[str, Any]] = []
    counts = {"issued": 0, "duplicate": 0, "failed": 0}
    for position, (row, recipient) in enumerate(zip(rows, recipients, strict=True)):
        change = _row_change(position, recipient, by_position, first, existing)
        counts[change["new_status"]] += 1
        changes.append({"row_id": pk(row), **change})
    _record_changes(session, changes)
    jobs = table_of(BulkJob)
    session.execute(
        update(jobs)
        .where(jobs.c.id == job.id)
        .values(
            issued=jobs.c.issued + counts["issued"],
            skipped=jobs.c.skipped + counts["duplicate"],
            failed=jobs.c.failed + counts["failed"],
        )
    )
    return [o.uuid for o in outcomes if o.uuid is not None]


# PostgreSQL: a batch's row results as four arrays in one statement (executemany would send
# and execute one UPDATE per row).
_ROW_CHANGES_POSTGRES = text(
    "UPDATE bulk_job_row SET status = changed.status, credential_uuid = changed.credential, "
    "error = changed.message FROM unnest(CAST(:ids AS integer[]), CAST(:statuses AS text[]), "
    "CAST(:credentials AS text[]), CAST(:messages AS text[])) "
    "AS changed(id, status, credential, message) WHERE bulk_job_row.id = changed.id"
)


def _record_changes(session: Session, changes: list[dict[str, Any]]) -> None:
    """Each row's status, credential and error, as `_row_change` gave them."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            _ROW_CHANGES_POSTGRES,
            {
                "ids": [change["row_id"] for change in changes],
                "statuses": [change["new_status"] for change in changes],
                "credentials": [change["credential"] for change in changes],
                "messages": [change["message"] for change in changes],
            },
        )
        return
    table = table_of(BulkJobRow)
    session.execute(
        update(table)
        .where(table.c.id == bindparam("row_id"))
        .values(
            status=bindparam("new_status"),
            credential_uuid=bindparam("credential"),
            error=bindparam("message"),
        ),
        changes,
    )


def _row_change(
    position: int,
    recipient: issuing.Recipient,
    by_position: dict[int, issuing.Outcome],
    first: dict[str, int],
    existing: dict[str, str],
) -> dict[str, Any]:
    key = recipient.external_id or ""
    if key in existing:
        return {"new_status": "duplicate", "credential": existing[key], "message": None}
    outcome = by_position.get(position)
    if outcome is None:  # the same external id earlier in this batch
        outcome = by_position[first[key]]
        if outcome.uuid is not None:
            return {"new_status": "duplicate", "credential": outcome.uuid, "message": None}
    if outcome.uuid is not None:
        return {"new_status": "issued", "credential": outcome.uuid, "message": None}
    assert outcome.error is not None
    return {"new_status": "failed", "credential": None, "message": outcome.error.message}


def _existing(session: Session, job: BulkJob, external_ids: list[str]) -> dict[str, str]:
    """Credential uuid by external id, for those of the ids the issuer already issued."""
    if not external_ids:
        return {}
    found = session.exec(
        select(IssuedCredential.external_id, IssuedCredential.uuid).where(
            IssuedCredential.issuer_id == job.issuer_id,
            col(IssuedCredential.external_id).in_(external_ids),
        )
    ).all()
    return {external_id: uuid for external_id, uuid in found if external_id}


def finish_if_done(engine: Engine, job_uuid: str) -> bool:
    """Mark the job done once no row is pending (whichever worker settles the last row)."""
    with Session(engine, expire_on_commit=False) as session:
        job = get_job(session, job_uuid)
        if job.status == "done":
            return True
        left = session.exec(
            select(BulkJobRow.id)
            .where(BulkJobRow.job_id == job.id, BulkJobRow.status == "pending")
            .limit(1)
        ).first()
        if left is not None:
            return False
        table = table_of(BulkJob)
        changed = session.execute(
            update(table)
            .where(table.c.id == job.id, table.c.status != "done")
            .values(status="done", finished_at=datetime.now(UTC))
        )
        session.commit()
        if changed.rowcount:  # type: ignore[attr-defined]  # CursorResult of an UPDATE
            session.refresh(job)
            log.info(
                "bulk job %s done: %d issued, %d duplicates, %d failed",
                job.uuid,
                job.issued,
                job.skipped,
                job.failed,
            )
        return True


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
