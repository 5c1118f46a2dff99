"""What the console's first page shows for each of a user's organisations: this month's
issued, claimed and revoked credentials, bulk jobs still running and recent activity."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from accounts import audit
from accounts.models import AuditEvent, User
from accounts.roles import Role
from accounts.users import OrgRole, memberships, require_role
from badges.models import BulkJob, ClaimToken, IssuedCredential, Issuer
from catalogue.base import pk
from catalogue.models import MicroCredential, Organisation
from keys.eseal_models import EXPIRY_WARNING, SealCertificate

RUNNING = ("pending", "running")


@dataclass(frozen=True)
class SealEnding:
    ends: datetime
    ended: bool


@dataclass(frozen=True)
class Job:
    uuid: str
    micro_credential: str
    status: str
    total: int
    done: int
    created_at: datetime


@dataclass(frozen=True)
class OrgSummary:
    organisation: Organisation
    role: Role
    issued: int
    claimed: int
    revoked: int
    jobs: list[Job]
    activity: list[AuditEvent]
    seal: SealEnding | None = None  # the e-seal certificate has ended or ends soon


def month_start(now: datetime) -> datetime:
    """The first instant of `now`'s month, in UTC."""
    return now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _count(session: Session, query: SelectOfScalar[int]) -> int:
    return int(session.exec(query).one())


def _org_credentials(org_id: int) -> SelectOfScalar[int]:
    return (
        select(func.count(col(IssuedCredential.id)))
        .join(Issuer, col(Issuer.id) == col(IssuedCredential.issuer_id))
        .where(Issuer.organisation_id == org_id)
    )


def figures(session: Session, organisation: Organisation, since: datetime) -> tuple[int, int, int]:
    """(issued, claimed, revoked) since `since` for the organisation's issuers."""
    org_id = pk(organisation)
    issued = _count(session, _org_credentials(org_id).where(IssuedCredential.created_at >= since))
    revoked = _count(
        session, _org_credentials(org_id).where(col(IssuedCredential.revoked_at) >= since)
    )
    # Claimed: a claim link redeemed in the period (one credential counts once).
    claimed = _count(
        session,
        select(func.count(func.distinct(col(ClaimToken.credential_id))))
        .join(IssuedCredential, col(IssuedCredential.id) == col(ClaimToken.credential_id))
        .join(Issuer, col(Issuer.id) == col(IssuedCredential.issuer_id))
        .where(
            Issuer.organisation_id == org_id,
            ClaimToken.purpose == "claim",
            col(ClaimToken.used_at) >= since,
        ),
    )
    return issued, claimed, revoked


def running_jobs(session: Session, organisation: Organisation, *, limit: int = 10) -> list[Job]:
    rows = session.exec(
        select(BulkJob, MicroCredential.title)
        .join(Issuer, col(Issuer.id) == col(BulkJob.issuer_id))
        .join(MicroCredential, col(MicroCredential.id) == col(BulkJob.micro_credential_id))
        .where(Issuer.organisation_id == pk(organisation), col(BulkJob.status).in_(RUNNING))
        .order_by(col(BulkJob.created_at).desc())
        .limit(limit)
    ).all()
    return [
        Job(
            job.uuid,
            title,
            job.status,
            job.total,
            job.issued + job.skipped + job.failed,
            job.created_at,
        )
        for job, title in rows
    ]


def seal_ending(session: Session, org: Organisation, now: datetime) -> SealEnding | None:
    """When the organisation's soonest-ending active e-seal certificate ends, if that is past
    or within EXPIRY_WARNING: Europass exports cannot be sealed after it."""
    cert = session.exec(
        select(SealCertificate)
        .where(
            SealCertificate.organisation_id == pk(org),
            col(SealCertificate.active),
            col(SealCertificate.not_after) <= now + EXPIRY_WARNING,
        )
        .order_by(col(SealCertificate.not_after))
        .limit(1)
    ).first()
    if cert is None:
        return None
    ends = cert.not_after if cert.not_after.tzinfo else cert.not_after.replace(tzinfo=UTC)
    return SealEnding(ends, ends <= now)


def summary(
    session: Session, user: User, membership: OrgRole, *, now: datetime | None = None
) -> OrgSummary:
    org = membership.organisation
    role = require_role(session, user, org, Role.viewer)
    now = now or datetime.now(UTC)
    issued, claimed, revoked = figures(session, org, month_start(now))
    return OrgSummary(
        org,
        role,
        issued,
        claimed,
        revoked,
        running_jobs(session, org),
        audit.recent(session, pk(org), limit=8),
        seal_ending(session, org, now),
    )


def dashboard(session: Session, user: User, *, now: datetime | None = None) -> list[OrgSummary]:
    """One summary per organisation the user belongs to (any role may read it)."""
    return [summary(session, user, m, now=now) for m in memberships(session, user)]
