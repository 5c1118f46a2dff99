"""Endorsing from the console: the role check (issuer) and the audit event around
badges.endorsing. The endorser is always the organisation of the console page, whose
membership `require_role` checks: a member cannot sign for an organisation they do not
belong to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from accounts import audit
from accounts.audit import Actor
from accounts.models import User
from accounts.roles import Role
from accounts.users import require_role
from badges import endorsing
from badges.models import Endorsement
from badges.securing import JwtAlgorithm
from catalogue.models import Course, EntryState, MicroCredential, Organisation
from keys.sealing import MasterKey

MAX_CHOICES = 500


@dataclass(frozen=True)
class Choice:
    slug: str
    title: str
    provider: str


def endorsable(session: Session, user: User, organisation: Organisation) -> list[Choice]:
    """Published micro-credentials of the other organisations, by title."""
    require_role(session, user, organisation, Role.viewer)
    rows = session.exec(
        select(MicroCredential, Organisation)
        .join(Course, col(Course.id) == col(MicroCredential.course_id))
        .join(Organisation, col(Organisation.id) == col(Course.organisation_id))
        .where(
            MicroCredential.state == EntryState.published.value,
            col(Course.organisation_id) != organisation.id,
        )
        .order_by(col(MicroCredential.title), col(MicroCredential.id))
        .limit(MAX_CHOICES)
    )
    return [Choice(mc.slug, mc.title, org.legal_name) for mc, org in rows]


def listed(
    session: Session, user: User, organisation: Organisation
) -> list[tuple[Endorsement, str]]:
    require_role(session, user, organisation, Role.viewer)
    return [
        (row, endorsing.subject_title(session, row))
        for row in endorsing.by_endorser(session, organisation)
    ]


def endorse_as(
    session: Session,
    master_key: MasterKey,
    user: User,
    organisation: Organisation,
    *,
    slug: str,
    comment: str,
    valid_until: datetime | None,
    base_url: str,
    address: str | None,
    jwt_algorithm: JwtAlgorithm = "ES256",
) -> Endorsement:
    require_role(session, user, organisation, Role.issuer)
    row = endorsing.endorse(
        session,
        master_key,
        endorser=organisation,
        subject_kind="micro_credential",
        subject_key=slug,
        comment=comment,
        valid_until=valid_until,
        base_url=base_url,
        jwt_algorithm=jwt_algorithm,
    )
    audit.record(
        session,
        actor=Actor.for_user(user),
        action="endorsement.create",
        organisation=organisation,
        subject_type="endorsement",
        subject_id=row.uuid,
        details={"about": "micro_credential", "slug": slug},
        address=address,
    )
    return row


def revoke_as(
    session: Session,
    master_key: MasterKey,
    user: User,
    organisation: Organisation,
    endorsement_uuid: str,
    *,
    base_url: str,
    address: str | None,
) -> Endorsement:
    require_role(session, user, organisation, Role.issuer)
    row = endorsing.revoke(
        session,
        master_key,
        endorsement_uuid=endorsement_uuid,
        endorser=organisation,
        base_url=base_url,
    )
    audit.record(
        session,
        actor=Actor.for_user(user),
        action="endorsement.revoke",
        organisation=organisation,
        subject_type="endorsement",
        subject_id=row.uuid,
        address=address,
    )
    return row
