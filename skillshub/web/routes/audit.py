"""`GET /api/v1/audit`: the token's organisation's audit log, newest first, with the
console's filters and cursor pagination (keyset on (created_at, id): pages stay stable while
events are written)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from accounts import audit_log
from accounts.models import AuditEvent
from catalogue.base import pk
from skillshub.web.deps import OrgDep, SessionDep

router = APIRouter(prefix="/api/v1", tags=["audit"])


class AuditEventOut(BaseModel):
    id: int
    created_at: datetime
    actor_kind: str
    actor: str
    action: str
    subject_type: str | None
    subject_id: str | None
    details: dict[str, Any]
    address: str | None
    command: str | None

    @classmethod
    def of(cls, event: AuditEvent) -> AuditEventOut:
        return cls(
            id=pk(event),
            created_at=event.created_at,
            actor_kind=event.actor_kind,
            actor=event.actor_label,
            action=event.action,
            subject_type=event.subject_type,
            subject_id=event.subject_id,
            details=event.details,
            address=event.address,
            command=event.command,
        )


class AuditPageOut(BaseModel):
    events: list[AuditEventOut]
    next_cursor: str | None = None


@router.get("/audit")
def audit(
    session: SessionDep,
    org: OrgDep,
    action: Annotated[
        str | None,
        Query(max_length=100, description='an action ("member.invite") or a group ("member.")'),
    ] = None,
    actor: Annotated[
        str | None, Query(max_length=100, description="part of the actor, any case")
    ] = None,
    since: Annotated[date | None, Query(description="first day (UTC), included")] = None,
    until: Annotated[date | None, Query(description="last day (UTC), included")] = None,
    cursor: Annotated[
        str | None, Query(max_length=200, description="`next_cursor` of the previous page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=audit_log.MAX_PAGE_SIZE)] = audit_log.PAGE_SIZE,
) -> AuditPageOut:
    """The organisation's audit events, newest first; follow `next_cursor` for older ones."""
    filters = audit_log.parse_filter(action, actor, since, until)
    page = audit_log.read_page(session, pk(org), filters, cursor=cursor, limit=limit)
    return AuditPageOut(
        events=[AuditEventOut.of(e) for e in page.events], next_cursor=page.next_cursor
    )
