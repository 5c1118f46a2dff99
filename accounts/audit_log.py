"""Reading an organisation's audit log: filters (action, actor, dates), pages newest first
by keyset on (created_at, id) — every page costs the same, however deep — and CSV export.

A cursor is the (created_at, id) of the last event shown, opaque to clients (base64url);
a page asks for the events strictly older than it, so events written meanwhile never shift
a page nor show twice.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Row, func, tuple_
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from accounts.models import AuditEvent, User
from accounts.roles import Role
from accounts.users import require_role
from catalogue.base import pk
from catalogue.errors import InvalidInput
from catalogue.models import Organisation

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
MAX_EXPORT = 100_000
_EXPORT_BATCH = 1000
MAX_FILTER_LENGTH = 100
# Spreadsheet programs run a cell that starts with one of these as a formula (OWASP "CSV
# injection"): such cells get a leading apostrophe, which shows the text as typed.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\0")


class AuditFilterInvalid(InvalidInput):
    code = "audit_filter_invalid"


@dataclass(frozen=True)
class AuditFilter:
    """`action`: exact ("member.invite") or a group ending with "." ("member."); `actor`:
    part of the actor's label, any case; `since`/`until`: days (UTC), both included."""

    action: str | None = None
    actor: str | None = None
    since: date | None = None
    until: date | None = None

    @property
    def active(self) -> bool:
        return any((self.action, self.actor, self.since, self.until))


def _text(value: str | None, field: str) -> str | None:
    value = (value or "").strip()
    if len(value) > MAX_FILTER_LENGTH:
        raise AuditFilterInvalid(
            f"At most {MAX_FILTER_LENGTH} characters.", details={"field": field}
        )
    return value or None


def _day(value: str | date | None, field: str) -> date | None:
    if value is None or isinstance(value, date):
        return value
    value = value.strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise AuditFilterInvalid(
            "Give a date as YYYY-MM-DD, e.g. 2026-03-31.", details={"field": field}
        ) from None


def parse_filter(
    action: str | None = None,
    actor: str | None = None,
    since: str | date | None = None,
    until: str | date | None = None,
) -> AuditFilter:
    """Filters from a form or a query string; AuditFilterInvalid names the bad field."""
    parsed = AuditFilter(
        _text(action, "action"), _text(actor, "actor"), _day(since, "since"), _day(until, "until")
    )
    if parsed.since and parsed.until and parsed.since > parsed.until:
        raise AuditFilterInvalid(
            "The start date is after the end date.", details={"field": "until"}
        )
    return parsed


# --- cursors ----------------------------------------------------------------------------------


def encode_cursor(event: AuditEvent) -> str:
    raw = f"{event.created_at.astimezone(UTC).isoformat()}|{pk(event)}"
    return base64.urlsafe_b64encode(raw.encode()).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        if len(cursor) > 200:
            raise ValueError
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment, _, event_id = raw.partition("|")
        when = datetime.fromisoformat(moment)
        if when.tzinfo is None:
            raise ValueError
        return when.astimezone(UTC), int(event_id)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise AuditFilterInvalid(
            "This page link is damaged; start again from the newest events.",
            details={"field": "cursor"},
        ) from None


# --- queries ----------------------------------------------------------------------------------


def _query(organisation_id: int, filters: AuditFilter) -> SelectOfScalar[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.organisation_id == organisation_id)
    if filters.action:
        if filters.action.endswith("."):
            query = query.where(col(AuditEvent.action).startswith(filters.action, autoescape=True))
        else:
            query = query.where(AuditEvent.action == filters.action)
    if filters.actor:
        query = query.where(
            func.lower(col(AuditEvent.actor_label)).contains(filters.actor.lower(), autoescape=True)
        )
    if filters.since:
        query = query.where(AuditEvent.created_at >= datetime.combine(filters.since, time(), UTC))
    if filters.until:
        end = datetime.combine(filters.until + timedelta(days=1), time(), UTC)
        query = query.where(AuditEvent.created_at < end)
    return query.order_by(col(AuditEvent.created_at).desc(), col(AuditEvent.id).desc())


def _older_than(
    query: SelectOfScalar[AuditEvent], cursor: tuple[datetime, int]
) -> SelectOfScalar[AuditEvent]:
    # A row-value comparison, which both databases answer from the (organisation_id,
    # created_at, id) index as one range; the equivalent OR of two conditions is not.
    return query.where(tuple_(col(AuditEvent.created_at), col(AuditEvent.id)) < cursor)


@dataclass(frozen=True)
class AuditPage:
    events: list[AuditEvent]
    next_cursor: str | None


def read_page(
    session: Session,
    organisation_id: int,
    filters: AuditFilter,
    *,
    cursor: str | None = None,
    limit: int = PAGE_SIZE,
) -> AuditPage:
    """One page, newest first; `next_cursor` opens the next (None: this was the last)."""
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    query = _query(organisation_id, filters)
    if cursor:
        query = _older_than(query, decode_cursor(cursor))
    rows = list(session.exec(query.limit(limit + 1)).all())
    more = len(rows) > limit
    rows = rows[:limit]
    return AuditPage(rows, encode_cursor(rows[-1]) if more and rows else None)


def page_for(
    session: Session,
    user: User,
    organisation: Organisation,
    filters: AuditFilter,
    *,
    cursor: str | None = None,
    limit: int = PAGE_SIZE,
) -> AuditPage:
    """`read_page` for a console user: every member may read the log (see the route)."""
    require_role(session, user, organisation, Role.viewer)
    return read_page(session, pk(organisation), filters, cursor=cursor, limit=limit)


def exported_events(
    session: Session, organisation_id: int, filters: AuditFilter, *, cap: int = MAX_EXPORT
) -> Iterator[Row[Any]]:
    """Every matching event (plain rows with the event's columns: no ORM objects, the export
    reads many), newest first, at most `cap`, read a batch at a time."""
    columns = AuditEvent.__table__.c  # type: ignore[attr-defined]
    cursor: tuple[datetime, int] | None = None
    left = cap
    while left > 0:
        query = _query(organisation_id, filters)
        if cursor is not None:
            query = _older_than(query, cursor)
        size = min(_EXPORT_BATCH, left)
        batch = list(session.execute(query.with_only_columns(*columns).limit(size)).all())
        yield from batch
        if len(batch) < size:
            return
        left -= len(batch)
        cursor = (batch[-1].created_at, batch[-1].id)


# --- CSV --------------------------------------------------------------------------------------


def safe_cell(value: object) -> str:
    """A CSV cell a spreadsheet shows as text, never runs as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


CSV_HEADER = [
    "time (UTC)",
    "actor kind",
    "actor",
    "action",
    "what",
    "subject type",
    "subject",
    "details",
    "address",
    "command",
]


def csv_rows(
    events: Iterator[Row[Any]] | Iterator[AuditEvent],
    *,
    words: dict[str, str],
    with_addresses: bool,
) -> Iterator[str]:
    """The export, a line at a time (header first); `words` says each action in words."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def line(cells: list[object]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([safe_cell(c) for c in cells])
        return buffer.getvalue()

    yield line(list(CSV_HEADER))
    for e in events:
        yield line(
            [
                e.created_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
                e.actor_kind,
                e.actor_label,
                e.action,
                words.get(e.action, e.action),
                e.subject_type,
                e.subject_id,
                json.dumps(e.details, ensure_ascii=False, sort_keys=True) if e.details else "",
                e.address if with_addresses else "",
                e.command,
            ]
        )
