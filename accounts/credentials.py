"""Issued credentials through the console, the API and the CLI: issue (once per idempotency
key), start a bulk job, revoke / suspend / unsuspend, resend the claim link, the recipients
list and one credential's page.

Every change records its audit event in the change's own transaction. The plain functions
take an `Actor` (an API token, the CLI: authorised by their own means); the console's
(`*_as`) take the signed-in user and check their role in the organisation first, whatever the
route already checked.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from accounts import audit
from accounts.audit import Actor
from accounts.models import AuditEvent, User
from accounts.roles import Role
from accounts.users import require_role
from badges import endorsed, recipients, status
from badges.issuing import bulk, issuers
from badges.issuing import service as issuing
from badges.issuing.idempotency import Issued, issue_once
from badges.models import BulkJob, IssuedCredential, Issuer
from badges.recipients import Event, Filters, Page, Row
from badges.securing import JwtAlgorithm
from badges.sharing import delivery
from catalogue.base import pk
from catalogue.errors import Conflict, InvalidInput, NotFound
from catalogue.models import Course, MicroCredential, Organisation
from keys.sealing import MasterKey

ACTIONS = ("revoke", "suspend", "unsuspend")
MAX_REASON = 2000


class CredentialRevoked(Conflict):
    code = "credential_revoked"


@dataclass(frozen=True)
class Origin:
    """Who acts and from where: an HTTP client's address, or the CLI's command line."""

    actor: Actor
    address: str | None = None
    command: str | None = None


# --- changes, for any caller ------------------------------------------------------------


def issue(
    session: Session,
    master_key: MasterKey,
    *,
    issuer: Issuer,
    micro_credential: MicroCredential,
    recipient: issuing.Recipient,
    base_url: str,
    origin: Origin,
    key: str | None = None,
    fmt: str = "ldp",
    status_purposes: tuple[str, ...] = status.DEFAULT_PURPOSES,
    jwt_algorithm: JwtAlgorithm = "ES256",
) -> Issued:
    """Issue once (see badges.issuing.idempotency); a replay records nothing new."""
    issued = issue_once(
        session,
        master_key,
        issuer=issuer,
        micro_credential=micro_credential,
        recipient=recipient,
        base_url=base_url,
        key=key,
        fmt=fmt,
        status_purposes=status_purposes,
        jwt_algorithm=jwt_algorithm,
    )
    if not issued.replayed:
        record = issued.record
        audit.record(
            session,
            actor=origin.actor,
            action="credential.issue",
            organisation=issuer.organisation_id,
            subject_type="credential",
            subject_id=record.uuid,
            details={
                "micro_credential": micro_credential.slug,
                "issuer": issuer.slug,
                "recipient": record.recipient_email,  # masked by audit.record
                "format": record.format,
            },
            address=origin.address,
            command=origin.command,
        )
    return issued


def start_bulk(
    session: Session,
    *,
    issuer: Issuer,
    micro_credential: MicroCredential,
    rows: Iterable[bulk.ParsedRow],
    origin: Origin,
    fmt: str = "ldp",
    source: str | None = None,
) -> BulkJob:
    """Store a bulk job and its rows (bulk.create_job) and record `bulk.start`; the caller
    commits, then runs it (bulk.run_job)."""
    job = bulk.create_job(
        session, issuer=issuer, micro_credential=micro_credential, rows=rows, fmt=fmt
    )
    details: dict[str, object] = {
        "micro_credential": micro_credential.slug,
        "issuer": issuer.slug,
        "rows": job.total,
        "bad_rows": job.failed,
    }
    if source:
        details["source"] = source[:200]
    audit.record(
        session,
        actor=origin.actor,
        action="bulk.start",
        organisation=issuer.organisation_id,
        subject_type="bulk_job",
        subject_id=job.uuid,
        details=details,
        address=origin.address,
        command=origin.command,
    )
    return job


def change_status(
    session: Session,
    master_key: MasterKey,
    *,
    credential_uuid: str,
    action: str,
    organisation_id: int | None,
    base_url: str,
    origin: Origin,
    reason: str | None = None,
    status_actor: str | None = None,
) -> IssuedCredential:
    """Revoke, suspend or unsuspend (badges.status.change_status) and record
    `credential.<action>` in the credential's organisation's log; `organisation_id` None is
    the operator (the CLI), for any organisation's credential. `status_actor`: the name the
    credential's status history gives (default: the actor's label)."""
    record = status.change_status(
        session,
        master_key,
        credential_uuid=credential_uuid,
        action=action,
        organisation_id=organisation_id,
        actor=status_actor or origin.actor.label,
        base_url=base_url,
        reason=reason,
    )
    issuer = session.get(Issuer, record.issuer_id)
    assert issuer is not None  # the foreign key
    reason = (reason or "").strip()
    audit.record(
        session,
        actor=origin.actor,
        action=f"credential.{action}",
        organisation=issuer.organisation_id,
        subject_type="credential",
        subject_id=record.uuid,
        details={"reason": reason[:MAX_REASON]} if reason else {},
        address=origin.address,
        command=origin.command,
    )
    return record


# --- the console --------------------------------------------------------------------------


def issuers_of(session: Session, organisation: Organisation) -> list[Issuer]:
    return issuers.list_issuers(session, pk(organisation))


def micro_credentials_of(session: Session, organisation: Organisation) -> list[MicroCredential]:
    """What the organisation awards, by title (the issuing forms' choices)."""
    return list(
        session.exec(
            select(MicroCredential)
            .join(Course, col(Course.id) == col(MicroCredential.course_id))
            .where(Course.organisation_id == pk(organisation))
            .order_by(col(MicroCredential.title), col(MicroCredential.id))
        )
    )


def choose_issuer(session: Session, organisation: Organisation, slug: str | None) -> Issuer:
    """The named issuer of the organisation, or its only one."""
    own = issuers_of(session, organisation)
    if slug:
        found = next((i for i in own if i.slug == slug), None)
        if found is None:
            raise InvalidInput(
                f"issuer: {slug!r} is not one of this organisation's issuers",
                details={"field": "issuer"},
            )
        return found
    if len(own) != 1:
        raise InvalidInput(
            "issuer: choose which of the organisation's issuers signs"
            if own
            else "issuer: this organisation has no issuer yet; an owner creates one first",
            details={"field": "issuer"},
        )
    return own[0]


def choose_micro_credential(
    session: Session, organisation: Organisation, slug: str | None
) -> MicroCredential:
    if not slug:
        raise InvalidInput(
            "micro_credential: choose the micro-credential to award",
            details={"field": "micro_credential"},
        )
    return recipients.organisation_micro_credential(session, pk(organisation), slug)


def issue_as(
    session: Session,
    user: User,
    organisation: Organisation,
    master_key: MasterKey,
    *,
    issuer: Issuer,
    micro_credential: MicroCredential,
    recipient: issuing.Recipient,
    key: str | None,
    base_url: str,
    address: str | None = None,
    status_purposes: tuple[str, ...] = status.DEFAULT_PURPOSES,
    jwt_algorithm: JwtAlgorithm = "ES256",
) -> Issued:
    require_role(session, user, organisation, Role.issuer)
    if issuer.organisation_id != organisation.id:
        raise NotFound(f"issuer {issuer.slug!r} does not exist")
    return issue(
        session,
        master_key,
        issuer=issuer,
        micro_credential=micro_credential,
        recipient=recipient,
        base_url=base_url,
        origin=Origin(Actor.for_user(user), address),
        key=key,
        status_purposes=status_purposes,
        jwt_algorithm=jwt_algorithm,
    )


# A stand-in id for what a preview shows: the real one is drawn when the badge is issued.
PREVIEW_UUID = "00000000-0000-4000-8000-000000000000"


@dataclass(frozen=True)
class IssuePreview:
    recipient: issuing.Recipient  # as it will be issued (checked, normalised)
    credential: dict[str, Any]  # the OB 3.0 credential to be signed (no status, no proof yet)
    subject: str
    sender: str
    to: str
    text: str  # the claim e-mail's plain-text body


def preview_as(
    session: Session,
    user: User,
    organisation: Organisation,
    settings: delivery.DeliverySettings,
    *,
    issuer: Issuer,
    micro_credential: MicroCredential,
    recipient: issuing.Recipient,
) -> IssuePreview:
    """What issuing would sign and send, built by the same code, stored nowhere."""
    require_role(session, user, organisation, Role.issuer)
    recipient = issuing.check_recipient(recipient)
    now = datetime.now(UTC).replace(microsecond=0)
    credential = issuing.build_credential(
        session,
        credential_uuid=PREVIEW_UUID,
        issuer=issuer,
        org=organisation,
        mc=micro_credential,
        recipient=recipient,
        salt=secrets.token_hex(16),
        valid_from=now,
        urls=issuing.Urls(settings.base_url),
        # The preview shows what will be signed: the endorsements the award will carry too.
        endorsements=endorsed.carried(session, pk(micro_credential), "ldp", now),
    )
    message = delivery.claim_message(
        settings,
        recipient.name,
        recipient.email,
        micro_credential.title,
        issuer.name,
        delivery.claim_url(settings.base_url, PREVIEW_UUID, "made-when-issued"),
        now + timedelta(hours=settings.claim_token_ttl_hours),
        delivery.mail_language(micro_credential.languages),
    )
    body = message.get_body(("plain",))
    text = body.get_content() if body is not None else ""
    return IssuePreview(
        recipient=recipient,
        credential=credential,
        subject=str(message["Subject"]),
        sender=str(message["From"]),
        to=str(message["To"]),
        text=text,
    )


def change_status_as(
    session: Session,
    user: User,
    organisation: Organisation,
    master_key: MasterKey,
    *,
    credential_uuid: str,
    action: str,
    reason: str | None,
    base_url: str,
    address: str | None = None,
) -> IssuedCredential:
    """A console status change: the issuer role, and a reason for revoke and suspend (the
    learner's page and the log show it)."""
    require_role(session, user, organisation, Role.issuer)
    if action not in ACTIONS:
        raise InvalidInput(f"action: one of {', '.join(ACTIONS)}", details={"field": "action"})
    reason = " ".join((reason or "").split()) or None
    if action != "unsuspend" and not reason:
        raise InvalidInput(
            f"reason: say why the badge is {action}{'d' if action == 'revoke' else 'ed'}; "
            "the log keeps it",
            details={"field": "reason"},
        )
    if reason and len(reason) > MAX_REASON:
        raise InvalidInput(f"reason: at most {MAX_REASON} characters", details={"field": "reason"})
    return change_status(
        session,
        master_key,
        credential_uuid=credential_uuid,
        action=action,
        organisation_id=pk(organisation),
        base_url=base_url,
        origin=Origin(Actor.for_user(user), address),
        reason=reason,
    )


def resend_as(
    session: Session,
    user: User,
    organisation: Organisation,
    settings: delivery.DeliverySettings,
    credential_uuid: str,
    *,
    address: str | None = None,
    mailer: delivery.Mailer | None = None,
) -> delivery.Delivery:
    """A new claim link by e-mail (earlier links and the learner's sessions end); refused
    for a revoked badge. Commits (the link must exist before it is sent)."""
    require_role(session, user, organisation, Role.issuer)
    record = issuing.owned_credential(session, credential_uuid, pk(organisation)).record
    if record.revoked_at is not None:
        raise CredentialRevoked(
            "This badge is revoked, so no claim link is sent: a revoked badge cannot be claimed."
        )
    audit.record(
        session,
        actor=Actor.for_user(user),
        action="credential.resend",
        organisation=organisation,
        subject_type="credential",
        subject_id=record.uuid,
        details={"recipient": record.recipient_email},
        address=address,
    )
    return delivery.send_claim_link(session, settings, record, mailer=mailer)


def recipients_as(
    session: Session,
    user: User,
    organisation: Organisation,
    filters: Filters,
    *,
    cursor: str | None = None,
    direction: recipients.Direction = "after",
    limit: int = recipients.DEFAULT_PAGE,
) -> Page:
    require_role(session, user, organisation, Role.viewer)
    return recipients.page(
        session, pk(organisation), filters, cursor=cursor, direction=direction, limit=limit
    )


@dataclass(frozen=True)
class CredentialPage:
    row: Row
    record: IssuedCredential
    history: list[Event]
    now: datetime


_AUDIT_WORDS = {"credential.resend": "Claim link sent again"}


def credential_as(
    session: Session, user: User, organisation: Organisation, credential_uuid: str
) -> CredentialPage:
    """One credential of the organisation with its history: issued (by whom), e-mails,
    claim, status changes with reasons, resends."""
    require_role(session, user, organisation, Role.viewer)
    record = issuing.owned_credential(session, credential_uuid, pk(organisation)).record
    row = recipients.owned_row(session, pk(organisation), credential_uuid)
    assert row is not None  # owned_credential found it
    events = recipients.history(session, record)
    logged = session.exec(
        select(AuditEvent)
        .where(
            AuditEvent.organisation_id == organisation.id,
            AuditEvent.subject_type == "credential",
            AuditEvent.subject_id == record.uuid,
        )
        .order_by(col(AuditEvent.created_at), col(AuditEvent.id))
    ).all()
    for event in logged:
        if event.action == "credential.issue":
            events = [
                replace(e, who=event.actor_label) if e.what == "Issued" and e.who is None else e
                for e in events
            ]
        elif event.action in _AUDIT_WORDS:
            events.append(Event(event.created_at, _AUDIT_WORDS[event.action], event.actor_label))
    events.sort(key=lambda e: e.at)
    return CredentialPage(row, record, events, datetime.now(UTC))
