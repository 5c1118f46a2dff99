"""Password reset by e-mail: a one-time link (accounts.password_links, purpose "reset") mailed
to the address, if a user has it. The answer to the request is the same whether or not one
does: only the mailbox's owner learns it. Redeeming the link sets the password and ends every
session of the user (whoever knew the old password is signed out)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from urllib.parse import quote

from sqlmodel import Session

from accounts import audit, password_links, sessions
from accounts.mail import ConsoleMailSettings, reset_message
from accounts.models import User
from accounts.users import find_user

RESET = password_links.RESET
PATH = "/console/reset-password/new"
DEFAULT_TTL = timedelta(hours=1)


@dataclass(frozen=True)
class ResetMail:
    """What to send after the request's transaction commits."""

    message: EmailMessage


def reset_url(base_url: str, token: str) -> str:
    return f"{base_url}{PATH}?token={quote(token)}"


def request_reset(
    session: Session,
    settings: ConsoleMailSettings,
    base_url: str,
    email: str,
    *,
    ttl: timedelta = DEFAULT_TTL,
    address: str | None = None,
    now: datetime | None = None,
    language: str = "en",
) -> ResetMail | None:
    """Issue a reset link for the user with this address (None when there is none: the
    caller answers the same either way). Earlier unspent reset links stop working. The
    e-mail is in `language`, the one of the page that asked."""
    user = find_user(session, email)
    if user is None:
        return None
    now = now or datetime.now(UTC)
    token = password_links.issue_link(session, user, purpose=RESET, ttl=ttl, now=now)
    audit.record_for_user(session, user, action="user.password_reset_request", address=address)
    link = reset_url(base_url, token)
    return ResetMail(reset_message(settings, user.email, link, now + ttl, language))


def redeem(
    session: Session,
    token: str | None,
    password: str,
    *,
    address: str | None = None,
    now: datetime | None = None,
) -> User:
    """Set the new password and end every session of the user; WeakPassword or
    PasswordLinkInvalid change nothing."""
    user = password_links.redeem_link(session, token, password, purpose=RESET, now=now)
    ended = sessions.revoke_all_sessions(session, user, now=now)
    audit.record_for_user(
        session,
        user,
        action="user.password_reset",
        details={"sessions_ended": ended},
        address=address,
    )
    return user
