"""API tokens from the console: an owner lists, creates (the secret shown once) and revokes
the organisation's tokens (keys.tokens does the work; this checks the role and writes the
audit event in the same transaction)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session

from accounts import audit
from accounts.audit import Actor
from accounts.models import User
from accounts.roles import Role
from accounts.users import require_role
from catalogue.base import pk
from catalogue.errors import InvalidInput
from catalogue.models import Organisation
from keys import tokens
from keys.models import ApiToken

MAX_NAME = 120


def list_tokens(session: Session, user: User, organisation: Organisation) -> list[ApiToken]:
    """Every token of the organisation, newest first (revoked and expired ones too)."""
    require_role(session, user, organisation, Role.owner)
    return sorted(tokens.list_tokens(session, pk(organisation)), key=lambda t: -pk(t))


def check_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise InvalidInput(
            "Give the token a name that says where it is used (e.g. “LMS export”).",
            details={"field": "name"},
        )
    if not name.isprintable():
        raise InvalidInput(
            "The name holds characters that cannot be shown; use letters, digits and spaces.",
            details={"field": "name"},
        )
    if len(name) > MAX_NAME:
        raise InvalidInput(
            f"The name is too long: at most {MAX_NAME} characters.", details={"field": "name"}
        )
    return name


def check_expiry(days: str | int | None) -> int | None:
    """Days until the token stops working, from a form's text ("" or "never": never)."""
    if days is None or (isinstance(days, str) and days.strip().lower() in ("", "never")):
        return None
    try:
        value = int(days)
    except ValueError:
        value = 0
    if not 1 <= value <= tokens.MAX_EXPIRES_DAYS:
        raise InvalidInput(
            f"The expiry is a number of days from 1 to {tokens.MAX_EXPIRES_DAYS}, or never.",
            details={"field": "expires_days"},
        )
    return value


def create_token(
    session: Session,
    user: User,
    organisation: Organisation,
    name: str,
    expires_days: str | int | None,
    *,
    actor: Actor,
    address: str | None = None,
) -> tuple[str, ApiToken]:
    """A new token: (the secret, shown once and never stored; the row)."""
    require_role(session, user, organisation, Role.owner)
    name = check_name(name)
    days = check_expiry(expires_days)
    secret, record = tokens.create_token(session, pk(organisation), name, expires_days=days)
    record_created(session, record, actor=actor, organisation=organisation, address=address)
    return secret, record


def record_created(
    session: Session,
    record: ApiToken,
    *,
    actor: Actor,
    organisation: Organisation | int,
    address: str | None = None,
    command: str | None = None,
) -> None:
    """The audit event of a new token (console and CLI alike)."""
    audit.record(
        session,
        actor=actor,
        action="token.create",
        organisation=organisation,
        subject_type="api_token",
        subject_id=record.id,
        details={
            "name": record.name,
            "prefix": record.prefix,
            "expires_at": record.expires_at.isoformat() if record.expires_at else None,
        },
        address=address,
        command=command,
    )


def revoke_token(
    session: Session,
    user: User,
    organisation: Organisation,
    token_id: int,
    *,
    actor: Actor,
    address: str | None = None,
) -> ApiToken:
    require_role(session, user, organisation, Role.owner)
    return revoke_and_record(
        session, token_id, pk(organisation), actor=actor, address=address, command=None
    )


def revoke_and_record(
    session: Session,
    token_id: int,
    organisation_id: int | None,
    *,
    actor: Actor,
    address: str | None = None,
    command: str | None = None,
) -> ApiToken:
    """Revoke (console, API or CLI) and record it; revoking a revoked token records nothing
    (nothing changed)."""
    now = datetime.now(UTC)
    record = tokens.revoke_token(session, token_id, organisation_id, now=now)
    if record.revoked_at == now:
        audit.record(
            session,
            actor=actor,
            action="token.revoke",
            organisation=record.organisation_id,
            subject_type="api_token",
            subject_id=record.id,
            details={"name": record.name, "prefix": record.prefix},
            address=address,
            command=command,
        )
    return record
