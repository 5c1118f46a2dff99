"""Who received what: an organisation's issued credentials with their state, filtered,
searched and keyset-paged (the console's recipients page and its CSV export,
`GET /api/v1/credentials`), and one credential's history.

State. A credential's state is the furthest it got, first match wins: revoked, suspended,
expired, claimed (the learner redeemed a claim link), delivery failed (the last claim e-mail
failed), e-mailed, issued (no e-mail tried yet). "Public" is shown beside it (the learner, or
the issuer's default, made its page public). Each state is a filter that selects exactly the
rows showing it, "public" the rows marked public.

Paging. Newest first on (created_at, id), the order of the indexes
`ix_issued_credential_issuer_created` and `ix_issued_credential_mc_created`: a page costs the
same on page 1 and on page 2,000 (no OFFSET). A cursor is an opaque position (base64 of the
last row's time and id), not a page number: new credentials never shift what the next page
shows.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from sqlalchemy import and_, func, not_, or_, tuple_
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from badges.models import BulkJob, BulkJobRow, ClaimToken, IssuedCredential, Issuer, StatusChange
from catalogue.base import pk
from catalogue.errors import InvalidInput
from catalogue.models import Course, MicroCredential
from catalogue.text import fold

STATES: dict[str, str] = {
    "issued": "Issued",
    "emailed": "E-mailed",
    "delivery_failed": "E-mail failed",
    "claimed": "Claimed",
    "public": "Public",
    "revoked": "Revoked",
    "suspended": "Suspended",
    "expired": "Expired",
}
SOURCES = ("catalogue", "vc-api")
MAX_PAGE = 200
DEFAULT_PAGE = 50
COUNT_CAP = 1_000  # "more than 1,000" is all a page says: counting stays one short scan
MAX_QUERY = 200
LIST_INDEX = "ix_issued_credential_issuer_list"
Direction = Literal["after", "before"]


@dataclass(frozen=True)
class Filters:
    micro_credential: str | None = None  # its slug
    state: str | None = None
    issued_from: date | None = None
    issued_until: date | None = None
    q: str | None = None
    source: str | None = None  # "catalogue" (awards) | "vc-api" (signed through the VC-API)

    def checked(self) -> Filters:
        if self.state and self.state not in STATES:
            raise InvalidInput(
                f"state: one of {', '.join(STATES)}, not {self.state!r}",
                details={"field": "state"},
            )
        if self.issued_from and self.issued_until and self.issued_from > self.issued_until:
            raise InvalidInput(
                "issued_until: the end date is before the start date",
                details={"field": "issued_until"},
            )
        q = " ".join((self.q or "").split())
        if len(q) > MAX_QUERY:
            raise InvalidInput(f"q: at most {MAX_QUERY} characters", details={"field": "q"})
        if self.source and self.source not in SOURCES:
            raise InvalidInput(
                f"source: one of {', '.join(SOURCES)}, not {self.source!r}",
                details={"field": "source"},
            )
        return Filters(
            self.micro_credential or None,
            self.state or None,
            self.issued_from,
            self.issued_until,
            q or None,
            self.source or None,
        )

    @property
    def active(self) -> bool:
        return any(
            (self.micro_credential, self.state, self.issued_from, self.issued_until, self.q)
        ) or bool(self.source)


@dataclass(frozen=True)
class Row:
    id: int
    uuid: str
    recipient_name: str
    recipient_email: str | None  # None: signed through the VC-API, no one to e-mail
    micro_credential: str | None  # None: a VC-API credential awarding none of ours
    micro_credential_title: str | None
    issuer: str
    external_id: str | None
    grade: str | None
    created_at: datetime
    valid_until: datetime | None
    revoked_at: datetime | None
    suspended: bool
    public: bool
    delivery_status: str | None
    delivery_error: str | None
    claimed_at: datetime | None
    source: str
    credential_id: str | None  # a VC-API credential's own id

    def state_at(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.suspended:
            return "suspended"
        if self.valid_until is not None and self.valid_until <= now:
            return "expired"
        if self.claimed_at is not None:
            return "claimed"
        if self.delivery_status == "failed":
            return "delivery_failed"
        if self.delivery_status == "sent":
            return "emailed"
        return "issued"


@dataclass(frozen=True)
class Page:
    rows: list[Row]
    newer: str | None  # cursor of the page before (None: this is the first)
    older: str | None  # cursor of the page after (None: this is the last)
    now: datetime
    total: int | None = None  # matches, counted up to COUNT_CAP + 1 on the first page only

    @property
    def total_capped(self) -> bool:
        return self.total is not None and self.total > COUNT_CAP


_COLUMNS = (
    IssuedCredential.id,
    IssuedCredential.uuid,
    IssuedCredential.recipient_name,
    IssuedCredential.recipient_email,
    MicroCredential.slug,
    MicroCredential.title,
    Issuer.slug,
    IssuedCredential.external_id,
    IssuedCredential.grade,
    IssuedCredential.created_at,
    IssuedCredential.valid_until,
    IssuedCredential.revoked_at,
    IssuedCredential.suspended,
    IssuedCredential.public,
    IssuedCredential.delivery_status,
    IssuedCredential.delivery_error,
    IssuedCredential.claimed_at,
    IssuedCredential.source,
    IssuedCredential.credential_id,
)


# --- cursors -------------------------------------------------------------------------------


def encode_cursor(created_at: datetime, row_id: int) -> str:
    raw = json.dumps([created_at.astimezone(UTC).isoformat(), row_id]).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        moment, row_id = json.loads(raw)
        at = datetime.fromisoformat(moment)
        if at.tzinfo is None or not isinstance(row_id, int) or isinstance(row_id, bool):
            raise ValueError
        return at, row_id
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput(
            "cursor: not a cursor of this list; start again from the first page",
            details={"field": "cursor"},
        ) from None


# --- the query -----------------------------------------------------------------------------

C = IssuedCredential


def _state(state: str, now: datetime) -> ColumnElement[bool]:
    live = and_(col(C.revoked_at).is_(None), not_(col(C.suspended)))
    current = or_(col(C.valid_until).is_(None), col(C.valid_until) > now)
    unclaimed = and_(live, current, col(C.claimed_at).is_(None))
    conditions: dict[str, ColumnElement[bool]] = {
        "revoked": col(C.revoked_at).is_not(None),
        "suspended": and_(col(C.revoked_at).is_(None), col(C.suspended)),
        "expired": and_(live, col(C.valid_until) <= now),
        "claimed": and_(live, current, col(C.claimed_at).is_not(None)),
        "delivery_failed": and_(unclaimed, col(C.delivery_status) == "failed"),
        "emailed": and_(unclaimed, col(C.delivery_status) == "sent"),
        "issued": and_(unclaimed, col(C.delivery_status).is_(None)),
        "public": col(C.public).is_(True),
    }
    return conditions[state]


def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def issuer_ids(session: Session, organisation_id: int) -> list[int]:
    found = session.exec(select(col(Issuer.id)).where(Issuer.organisation_id == organisation_id))
    return [issuer_id for issuer_id in found if issuer_id is not None]


def organisation_micro_credential(
    session: Session, organisation_id: int, slug: str
) -> MicroCredential:
    """One of the organisation's micro-credentials by slug, for a filter."""
    mc = session.exec(
        select(MicroCredential)
        .join(Course, col(Course.id) == col(MicroCredential.course_id))
        .where(MicroCredential.slug == slug, Course.organisation_id == organisation_id)
    ).first()
    if mc is None:
        raise InvalidInput(
            f"micro_credential: {slug!r} is not one of this organisation's micro-credentials",
            details={"field": "micro_credential"},
        )
    return mc


def _where(
    session: Session, organisation_id: int, filters: Filters, now: datetime
) -> list[ColumnElement[bool]]:
    ids = issuer_ids(session, organisation_id)
    # One issuer (the usual case) is an equality, so the planner walks one index range in order.
    where: list[ColumnElement[bool]] = [
        col(C.issuer_id) == ids[0] if len(ids) == 1 else col(C.issuer_id).in_(ids or [-1])
    ]
    if filters.micro_credential:
        mc = organisation_micro_credential(session, organisation_id, filters.micro_credential)
        where.append(col(C.micro_credential_id) == pk(mc))
    if filters.state:
        where.append(_state(filters.state, now))
    if filters.issued_from:
        where.append(col(C.created_at) >= _day_start(filters.issued_from))
    if filters.issued_until:
        where.append(col(C.created_at) < _day_start(filters.issued_until + timedelta(days=1)))
    if filters.q:
        where.append(col(C.search_text).like(_like(fold(filters.q)), escape="\\"))
    if filters.source:
        where.append(col(C.source) == filters.source)
    return where


def _rows(session: Session, statement: Any) -> list[Row]:
    """Two steps: the matching ids from the covering index alone (filters, order and limit
    never touch the table, whose rows carry the signed credential), then those rows."""
    return _fetch(session, [row_id for row_id, _ in session.exec(statement).all()])


def _fetch(session: Session, ids: list[int]) -> list[Row]:
    if not ids:
        return []
    found = session.exec(
        select(*_COLUMNS)  # type: ignore[call-overload]  # sqlmodel's select stops at 4 columns
        .outerjoin(MicroCredential, col(MicroCredential.id) == col(C.micro_credential_id))
        .join(Issuer, col(Issuer.id) == col(C.issuer_id))
        .where(col(C.id).in_(ids))
    ).all()
    by_id = {values[0]: Row(*values) for values in found}
    return [by_id[row_id] for row_id in ids]


def _base(where: list[ColumnElement[bool]]) -> Any:
    # SQLite: named, so that a micro-credential filter never takes the foreign key's index
    # instead (which would read every matching row, signed credential and all).
    return (
        select(col(C.id), col(C.created_at))
        .with_hint(C, f"INDEXED BY {LIST_INDEX}", "sqlite")
        .where(*where)
    )


def page(
    session: Session,
    organisation_id: int,
    filters: Filters = Filters(),
    *,
    cursor: str | None = None,
    direction: Direction = "after",
    limit: int = DEFAULT_PAGE,
    now: datetime | None = None,
) -> Page:
    """One page of the organisation's credentials, newest first. `cursor` with "after": the
    page older than that position; with "before": the page newer than it."""
    now = now or datetime.now(UTC)
    filters = filters.checked()
    limit = max(1, min(limit, MAX_PAGE))
    where = _where(session, organisation_id, filters, now)
    key = tuple_(col(C.created_at), col(C.id))
    newest_first = (col(C.created_at).desc(), col(C.id).desc())
    if cursor is None:
        # The first page counts the matches in the same index scan, up to COUNT_CAP + 1.
        ids = session.exec(_base(where).order_by(*newest_first).limit(COUNT_CAP + 1)).all()
        rows = _fetch(session, [row_id for row_id, _ in ids[:limit]])
        older = _cursor(rows[-1]) if len(ids) > limit else None
        return Page(rows, None, older, now, total=len(ids))
    at, row_id = decode_cursor(cursor)
    if direction == "before":
        statement = _base([*where, key > tuple_(at, row_id)])
        rows = _rows(session, statement.order_by(col(C.created_at), col(C.id)).limit(limit + 1))
        more, rows = len(rows) > limit, rows[:limit][::-1]
        newer = _cursor(rows[0]) if more else None
        return Page(rows, newer, _cursor(rows[-1]) if rows else None, now)
    statement = _base([*where, key < tuple_(at, row_id)])
    rows = _rows(session, statement.order_by(*newest_first).limit(limit + 1))
    more, rows = len(rows) > limit, rows[:limit]
    return Page(rows, _cursor(rows[0]) if rows else None, _cursor(rows[-1]) if more else None, now)


def _cursor(row: Row) -> str:
    return encode_cursor(row.created_at, row.id)


def count(
    session: Session,
    organisation_id: int,
    filters: Filters = Filters(),
    *,
    cap: int = COUNT_CAP,
    now: datetime | None = None,
) -> int:
    """How many credentials match, counted up to `cap` (cap + 1 means "more than cap")."""
    now = now or datetime.now(UTC)
    where = _where(session, organisation_id, filters.checked(), now)
    limited = select(col(C.id)).where(*where).limit(cap + 1).subquery()
    return int(session.exec(select(func.count()).select_from(limited)).one())


def all_rows(
    session: Session,
    organisation_id: int,
    filters: Filters = Filters(),
    *,
    batch: int = 1000,
    now: datetime | None = None,
) -> Iterator[Row]:
    """Every matching credential, newest first, fetched a keyset batch at a time (the CSV
    export: memory stays bounded whatever the count)."""
    now = now or datetime.now(UTC)
    cursor: str | None = None
    while True:
        found = page(session, organisation_id, filters, cursor=cursor, limit=batch, now=now)
        yield from found.rows
        if found.older is None:
            return
        cursor = found.older


def owned_row(session: Session, organisation_id: int, credential_uuid: str) -> Row | None:
    ids = issuer_ids(session, organisation_id)
    statement = _base([col(C.uuid) == credential_uuid, col(C.issuer_id).in_(ids or [-1])])
    rows = _rows(session, statement)
    return rows[0] if rows else None


# --- history -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    at: datetime
    what: str
    who: str | None = None
    detail: str | None = None


_STATUS_WORDS = {"revoke": "Revoked", "suspend": "Suspended", "unsuspend": "Suspension lifted"}


def history(session: Session, record: IssuedCredential) -> list[Event]:
    """What happened to a credential, oldest first: issued (alone or in a bulk job), claim
    links e-mailed, claimed, status changes with their reasons and who made them."""
    events = [Event(record.created_at, "Issued")]
    job = session.exec(
        select(BulkJob)
        .join(BulkJobRow, col(BulkJobRow.job_id) == col(BulkJob.id))
        .where(BulkJobRow.credential_uuid == record.uuid, BulkJobRow.status == "issued")
    ).first()
    if job is not None:
        events[0] = Event(record.created_at, "Issued", detail=f"in bulk job {job.uuid}")
    links = list(
        session.exec(
            select(ClaimToken)
            .where(ClaimToken.credential_id == record.id, ClaimToken.purpose == "claim")
            .order_by(col(ClaimToken.id))
        )
    )
    for number, link in enumerate(links, start=1):
        last = number == len(links)
        failed = last and record.delivery_status == "failed"
        what = "Claim e-mail failed" if failed else "Claim link e-mailed"
        detail = record.delivery_error if failed else None
        events.append(Event(link.created_at, what, detail=detail))
        if link.used_at is not None:
            events.append(Event(link.used_at, "Claimed by the learner"))
    for change in session.exec(
        select(StatusChange)
        .where(StatusChange.credential_uuid == record.uuid)
        .order_by(col(StatusChange.id))
    ):
        words = _STATUS_WORDS.get(change.action, change.action)
        events.append(Event(change.at, words, who=change.actor, detail=change.reason))
    return sorted(events, key=lambda e: e.at)
