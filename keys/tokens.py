"""API tokens: random, shown once, stored only as a hash, scoped to one organisation."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from catalogue.errors import NotFound, Unauthorized
from catalogue.models import Organisation
from keys.models import ApiToken

TOKEN_PREFIX = "shub_"
LAST_USED_PRECISION = timedelta(minutes=1)


def _hash(token: str) -> str:
    # Tokens carry 256 bits of entropy, so a fast hash is enough (no password-style KDF).
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    session: Session, organisation_id: int, name: str = "default"
) -> tuple[str, ApiToken]:
    """A new token for the organisation; the clear token is returned once and never stored."""
    if session.get(Organisation, organisation_id) is None:
        raise NotFound(f"organisation {organisation_id} does not exist")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    record = ApiToken(
        organisation_id=organisation_id,
        name=name,
        prefix=token[: len(TOKEN_PREFIX) + 6],
        token_hash=_hash(token),
    )
    session.add(record)
    session.flush()
    return token, record


def authenticate(session: Session, token: str | None) -> Organisation:
    """The organisation a bearer token belongs to, or Unauthorized."""
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        raise Unauthorized("a valid API token is required (Authorization: Bearer shub_…)")
    digest = _hash(token)
    record = session.exec(select(ApiToken).where(ApiToken.token_hash == digest)).first()
    # Looked up by the hash of a 256-bit secret: the lookup itself leaks nothing usable.
    if record is None or record.revoked_at is not None:
        raise Unauthorized("the API token is unknown or revoked")
    now = datetime.now(UTC)
    # Minute precision is enough to tell a live token from a dead one, and spares busy
    # clients an UPDATE on every request.
    if record.last_used_at is None or now - record.last_used_at > LAST_USED_PRECISION:
        record.last_used_at = now
        session.add(record)
    org = session.get(Organisation, record.organisation_id)
    if org is None:  # the FK makes this impossible; keep the type checker honest
        raise Unauthorized("the API token's organisation no longer exists")
    return org


def revoke_token(session: Session, token_id: int, organisation_id: int) -> None:
    record = session.get(ApiToken, token_id)
    if record is None or record.organisation_id != organisation_id:
        raise NotFound(f"token {token_id} does not exist")
    record.revoked_at = datetime.now(UTC)
    session.add(record)
