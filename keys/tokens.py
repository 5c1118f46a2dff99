"""API tokens: random, shown once, stored only as a hash, scoped to one organisation."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlmodel import Session, col, select

from catalogue.errors import InvalidInput, NotFound, Unauthorized
from catalogue.models import Organisation
from keys.models import ApiToken

TOKEN_PREFIX = "shub_"
LAST_USED_PRECISION = timedelta(minutes=1)
MAX_EXPIRES_DAYS = 3650  # ten years; past that "never" says what is meant

TokenState = Literal["active", "expired", "revoked"]


def _hash(token: str) -> str:
    # Tokens carry 256 bits of entropy, so a fast hash is enough (no password-style KDF).
    return hashlib.sha256(token.encode()).hexdigest()


def when(moment: datetime) -> str:
    """How a token's times are shown to people (minute precision, like last use)."""
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def create_token(
    session: Session,
    organisation_id: int,
    name: str = "default",
    *,
    expires_days: int | None = None,
    now: datetime | None = None,
) -> tuple[str, ApiToken]:
    """A new token for the organisation; the clear token is returned once and never stored.

    `expires_days`: the token stops working that many days from now (None: never)."""
    if session.get(Organisation, organisation_id) is None:
        raise NotFound(f"organisation {organisation_id} does not exist")
    if expires_days is not None and not 1 <= expires_days <= MAX_EXPIRES_DAYS:
        raise InvalidInput(f"expiry must be 1 to {MAX_EXPIRES_DAYS} days, not {expires_days}")
    now = now or datetime.now(UTC)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    record = ApiToken(
        organisation_id=organisation_id,
        name=name,
        prefix=token[: len(TOKEN_PREFIX) + 6],
        token_hash=_hash(token),
        created_at=now,
        expires_at=now + timedelta(days=expires_days) if expires_days is not None else None,
    )
    session.add(record)
    session.flush()
    return token, record


def token_state(record: ApiToken, now: datetime | None = None) -> TokenState:
    if record.revoked_at is not None:
        return "revoked"
    if record.expires_at is not None and record.expires_at <= (now or datetime.now(UTC)):
        return "expired"
    return "active"


def authenticate(
    session: Session, token: str | None, *, now: datetime | None = None
) -> Organisation:
    """The organisation a bearer token belongs to, or Unauthorized."""
    return token_organisation(session, authenticate_token(session, token, now=now))


def token_organisation(session: Session, record: ApiToken) -> Organisation:
    org = session.get(Organisation, record.organisation_id)
    if org is None:  # the FK makes this impossible; keep the type checker honest
        raise Unauthorized("the API token's organisation no longer exists")
    return org


def authenticate_token(
    session: Session, token: str | None, *, now: datetime | None = None
) -> ApiToken:
    """The live token record of a bearer token (who acts, for the audit log), or Unauthorized.

    Read from the database on every request, never cached: a request that starts after a
    revocation commits is refused, on any app process."""
    if not token:
        raise Unauthorized("a valid API token is required (Authorization: Bearer shub_…)")
    record = None
    if token.startswith(TOKEN_PREFIX) and len(token) <= 200:
        # Looked up by the hash of a 256-bit secret: the lookup itself leaks nothing usable.
        digest = _hash(token)
        record = session.exec(select(ApiToken).where(ApiToken.token_hash == digest)).first()
    if record is None:
        raise Unauthorized("invalid token")
    now = now or datetime.now(UTC)
    # Only the token's holder gets this far, so saying why it stopped working leaks nothing
    # and spares them guessing whether to ask for a new one.
    if record.revoked_at is not None:
        raise Unauthorized(f"this API token was revoked on {when(record.revoked_at)}")
    if record.expires_at is not None and record.expires_at <= now:
        raise Unauthorized(f"this API token expired on {when(record.expires_at)}")
    # Minute precision is enough to tell a live token from a dead one, and spares busy
    # clients an UPDATE on every request.
    if record.last_used_at is None or now - record.last_used_at > LAST_USED_PRECISION:
        record.last_used_at = now
        session.add(record)
    return record


def list_tokens(session: Session, organisation_id: int) -> list[ApiToken]:
    """The organisation's tokens, oldest first, revoked and expired ones included."""
    query = select(ApiToken).where(ApiToken.organisation_id == organisation_id)
    return list(session.exec(query.order_by(col(ApiToken.id))).all())


def revoke_token(
    session: Session,
    token_id: int,
    organisation_id: int | None,
    *,
    now: datetime | None = None,
) -> ApiToken:
    """Revoke a token at once; `organisation_id` None is the operator (any organisation's).

    Revoking a revoked token changes nothing: the first revocation time stays on record."""
    record = session.get(ApiToken, token_id)
    if record is None or organisation_id not in (None, record.organisation_id):
        # Another organisation's token does not exist for this one.
        raise NotFound(f"token {token_id} does not exist")
    if record.revoked_at is None:
        record.revoked_at = now or datetime.now(UTC)
        session.add(record)
        session.flush()
    return record
