"""Console sessions: server-side, one row per signed-in browser. The browser's cookie holds a
random 256-bit token and the table only its SHA-256, so a leaked database signs nobody in and
the user (or an owner) can end any session at once. Read on every request, never cached."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from accounts.models import ConsoleSession, User
from catalogue.base import pk
from catalogue.errors import NotFound, Unauthorized

DEFAULT_TTL = timedelta(hours=12)
# last_seen_at is for people ("is that session mine?"): a minute is precise enough, and it
# spares an UPDATE on every page.
LAST_SEEN_PRECISION = timedelta(minutes=1)
_MAX_TOKEN_LENGTH = 100  # token_urlsafe(32) is 43 characters


class SignInRequired(Unauthorized):
    """No live console session: none sent, unknown, expired, revoked or signed out."""

    code = "sign_in_required"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def start_session(
    session: Session,
    user: User,
    *,
    ttl: timedelta = DEFAULT_TTL,
    user_agent: str | None = None,
    address: str | None = None,
    now: datetime | None = None,
) -> tuple[str, ConsoleSession]:
    """A new session for `user`: (the cookie's token, shown once; the stored row)."""
    now = _now(now)
    token = secrets.token_urlsafe(32)
    row = ConsoleSession(
        token_hash=hash_token(token),
        user_id=pk(user),
        created_at=now,
        last_seen_at=now,
        expires_at=now + ttl,
        user_agent=(user_agent or "")[:300] or None,
        address=(address or "")[:64] or None,
    )
    session.add(row)
    session.flush()
    return token, row


def is_live(row: ConsoleSession, now: datetime | None = None) -> bool:
    return row.revoked_at is None and row.expires_at > _now(now)


def session_for_token(
    session: Session, token: str | None, *, now: datetime | None = None
) -> tuple[ConsoleSession, User]:
    """The live session the token opens and its user, or SignInRequired."""
    row = None
    if token and len(token) <= _MAX_TOKEN_LENGTH:
        row = session.exec(
            select(ConsoleSession).where(ConsoleSession.token_hash == hash_token(token))
        ).first()
    if row is None or not is_live(row, now):
        raise SignInRequired("Please sign in to continue.")
    user = session.get(User, row.user_id)
    if user is None:  # the foreign key cascades; a type checker does not know that
        raise SignInRequired("Please sign in to continue.")
    return row, user


def needs_touch(row: ConsoleSession, now: datetime | None = None) -> bool:
    return _now(now) - row.last_seen_at > LAST_SEEN_PRECISION


def touch(session: Session, session_id: int, *, now: datetime | None = None) -> None:
    """Record that the session was used (a no-op within LAST_SEEN_PRECISION)."""
    now = _now(now)
    session.exec(
        update(ConsoleSession)
        .where(
            col(ConsoleSession.id) == session_id,
            col(ConsoleSession.last_seen_at) < now - LAST_SEEN_PRECISION,
        )
        .values(last_seen_at=now)
    )


def end_session(session: Session, token: str | None, *, now: datetime | None = None) -> None:
    """Sign-out: the token's session stops working (nothing happens for an unknown one)."""
    if not token or len(token) > _MAX_TOKEN_LENGTH:
        return
    session.exec(
        update(ConsoleSession)
        .where(
            col(ConsoleSession.token_hash) == hash_token(token),
            col(ConsoleSession.revoked_at).is_(None),
        )
        .values(revoked_at=_now(now))
    )


def list_sessions(
    session: Session, user: User, *, now: datetime | None = None
) -> list[ConsoleSession]:
    """The user's live sessions, most recently used first."""
    return list(
        session.exec(
            select(ConsoleSession)
            .where(
                ConsoleSession.user_id == pk(user),
                col(ConsoleSession.revoked_at).is_(None),
                ConsoleSession.expires_at > _now(now),
            )
            .order_by(col(ConsoleSession.last_seen_at).desc(), col(ConsoleSession.id).desc())
        ).all()
    )


def revoke_session(
    session: Session, user: User, session_id: int, *, now: datetime | None = None
) -> ConsoleSession:
    """End one of the user's own sessions; another user's is NotFound (it does not exist for
    them). Revoking an ended session changes nothing."""
    row = session.get(ConsoleSession, session_id)
    if row is None or row.user_id != pk(user):
        raise NotFound("There is no such session.")
    if row.revoked_at is None:
        row.revoked_at = _now(now)
        session.add(row)
        session.flush()
    return row


def revoke_all_sessions(session: Session, user: User, *, now: datetime | None = None) -> int:
    """End every session of the user (e.g. after a password change); returns how many."""
    ended = session.exec(
        update(ConsoleSession)
        .where(col(ConsoleSession.user_id) == pk(user), col(ConsoleSession.revoked_at).is_(None))
        .values(revoked_at=_now(now))
    )
    return ended.rowcount
