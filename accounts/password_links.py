"""One-time links to set a password (a new user's first; a reset can reuse them with its own
purpose). Random 256-bit tokens, stored as SHA-256, spent once (compare-and-set), expiring."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from sqlalchemy import update
from sqlmodel import Session, col, select

from accounts.models import PasswordToken, User
from accounts.passwords import check_new_password
from accounts.sessions import hash_token
from accounts.users import set_password
from catalogue.base import pk
from catalogue.errors import NotFound

SET = "set"
RESET = "reset"  # a password reset by e-mail (accounts.password_reset)
DEFAULT_TTL = timedelta(hours=72)
PATH = "/console/set-password"
_MAX_TOKEN_LENGTH = 100


class PasswordLinkInvalid(NotFound):
    code = "password_link_invalid"


def link_url(base_url: str, token: str) -> str:
    return f"{base_url}{PATH}?token={quote(token)}"


def issue_link(
    session: Session,
    user: User,
    *,
    purpose: str = SET,
    ttl: timedelta = DEFAULT_TTL,
    now: datetime | None = None,
) -> str:
    """A new token for `user` (in clear, once). Earlier unspent links of the purpose end."""
    now = now or datetime.now(UTC)
    session.exec(
        update(PasswordToken)
        .where(
            col(PasswordToken.user_id) == pk(user),
            col(PasswordToken.purpose) == purpose,
            col(PasswordToken.used_at).is_(None),
            col(PasswordToken.expires_at) > now,
        )
        .values(expires_at=now)
    )
    token = secrets.token_urlsafe(32)
    session.add(
        PasswordToken(
            token_hash=hash_token(token),
            user_id=pk(user),
            purpose=purpose,
            created_at=now,
            expires_at=now + ttl,
        )
    )
    session.flush()
    return token


def _find(session: Session, token: str | None, purpose: str) -> PasswordToken | None:
    if not token or len(token) > _MAX_TOKEN_LENGTH:
        return None
    return session.exec(
        select(PasswordToken).where(
            PasswordToken.token_hash == hash_token(token), PasswordToken.purpose == purpose
        )
    ).first()


# Where to get a new link, by purpose.
_NEW_LINK = {
    SET: "ask an owner of your organisation for a new link",
    RESET: "ask for a new one on the sign-in page (“Forgot your password?”)",
}


def check_link(
    session: Session, token: str | None, *, purpose: str = SET, now: datetime | None = None
) -> User:
    """The user an unspent, unexpired link is for; PasswordLinkInvalid (saying why) else."""
    row = _find(session, token, purpose)
    user = session.get(User, row.user_id) if row is not None else None
    new_link = _NEW_LINK.get(purpose, _NEW_LINK[SET])
    if row is None or user is None:
        raise PasswordLinkInvalid(f"This link is not valid: {new_link}.")
    if row.used_at is not None:
        raise PasswordLinkInvalid(
            f"This link was used already. Sign in with your password, or {new_link}."
        )
    if row.expires_at <= (now or datetime.now(UTC)):
        raise PasswordLinkInvalid(f"This link has expired: {new_link}.")
    return user


def redeem_link(
    session: Session,
    token: str | None,
    password: str,
    *,
    purpose: str = SET,
    now: datetime | None = None,
) -> User:
    """Spend the link and set the password. A weak password spends nothing; a link spent by
    a concurrent request meanwhile changes nothing (compare-and-set before the change)."""
    now = now or datetime.now(UTC)
    check_new_password(password)
    user = check_link(session, token, purpose=purpose, now=now)
    spent = session.exec(
        update(PasswordToken)
        .where(
            col(PasswordToken.token_hash) == hash_token(token or ""),
            col(PasswordToken.used_at).is_(None),
            col(PasswordToken.expires_at) > now,
        )
        .values(used_at=now)
    )
    if spent.rowcount != 1:
        raise PasswordLinkInvalid("This link was used already.")
    set_password(session, user, password)
    return user
