"""Learner accounts without a password: a one-time link e-mailed to the address signs in, and
proves the address. The account is made when the link is opened, so asking for a link never
tells anyone whether an address has an account (the answer and the e-mail are the same).

Links: random 256-bit tokens, only their SHA-256 stored (`accounts.sessions.hash_token`),
spent once by compare-and-set, expiring (SKILLSHUB_BACKPACK_LINK_MINUTES); a new link ends
the address's earlier unspent ones. Sessions: the same kind of token in an HttpOnly cookie,
listed for the learner (browser, last seen) and ended one by one or all at once."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from urllib.parse import quote

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from accounts.mail import ConsoleMailSettings, link_message, until_text
from accounts.sessions import hash_token
from accounts.users import normalize_email
from backpack.models import Learner, LearnerLink, LearnerSession
from catalogue.base import pk
from catalogue.errors import NotFound

LINK_PATH = "/backpack/sign-in/link"
DEFAULT_LINK_TTL = timedelta(minutes=30)
DEFAULT_SESSION_TTL = timedelta(days=30)
LAST_SEEN_PRECISION = timedelta(minutes=1)
_MAX_TOKEN_LENGTH = 100  # token_urlsafe(32) is 43 characters


class SignInLinkInvalid(NotFound):
    code = "sign_in_link_invalid"


@dataclass(frozen=True)
class SignInMail:
    """What to send once the request's transaction has committed."""

    message: EmailMessage


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def link_url(base_url: str, token: str) -> str:
    return f"{base_url}{LINK_PATH}?token={quote(token)}"


@dataclass(frozen=True)
class SignInWords:
    """The sign-in e-mail's words in one language ({until} filled)."""

    subject: str
    greeting: str
    open_link: str
    ignore: str
    date_locale: str


# The words of the backpack's sign-in page: "Badge-Sammlung", "Anmeldelink", "anmelden".
SIGN_IN_WORDS = {
    "en": SignInWords(
        subject="Sign in to your Skills Hub backpack",
        greeting="Hello,",
        open_link="Open this link to sign in to your Skills Hub backpack, where you find every "
        "badge awarded to this address. It works once, until {until}:",
        ignore="If you did not ask for it, ignore this e-mail: nobody can sign in without it.",
        date_locale="en_GB",
    ),
    "de": SignInWords(
        subject="Bei Ihrer Badge-Sammlung auf Skills Hub anmelden",
        greeting="Guten Tag,",
        open_link="Öffnen Sie diesen Link, um sich bei Ihrer Badge-Sammlung auf Skills Hub "
        "anzumelden, wo Sie jedes an diese Adresse verliehene Badge finden. Der Link gilt "
        "einmal, bis zum {until}:",
        ignore="Wenn Sie ihn nicht angefordert haben, ignorieren Sie diese E-Mail: Ohne ihn kann "
        "sich niemand anmelden.",
        date_locale="de_DE",
    ),
}


def sign_in_message(
    settings: ConsoleMailSettings,
    to: str,
    link: str,
    expires_at: datetime,
    language: str = "en",
) -> EmailMessage:
    """The sign-in link's e-mail, in the language of the sign-in page that asked for it."""
    language = language if language in SIGN_IN_WORDS else "en"
    words = SIGN_IN_WORDS[language]
    until = until_text(expires_at, words.date_locale)
    return link_message(
        settings,
        to,
        words.subject,
        [words.open_link.format(until=until), words.ignore],
        link,
        language,
        greeting=words.greeting,
    )


def request_link(
    session: Session,
    settings: ConsoleMailSettings,
    base_url: str,
    email: str,
    *,
    ttl: timedelta = DEFAULT_LINK_TTL,
    now: datetime | None = None,
    language: str = "en",
) -> SignInMail:
    """A new sign-in link for `email` (InvalidInput for a malformed address). The same for
    every address: whether one has an account is not looked up at all. The e-mail is in
    `language`, the sign-in page's."""
    address = normalize_email(email)
    now = _now(now)
    session.exec(
        update(LearnerLink)
        .where(
            col(LearnerLink.email) == address,
            col(LearnerLink.used_at).is_(None),
            col(LearnerLink.expires_at) > now,
        )
        .values(expires_at=now)
    )
    token = secrets.token_urlsafe(32)
    session.add(
        LearnerLink(
            token_hash=hash_token(token), email=address, created_at=now, expires_at=now + ttl
        )
    )
    session.flush()
    link = link_url(base_url, token)
    return SignInMail(sign_in_message(settings, address, link, now + ttl, language))


def _find_link(session: Session, token: str | None) -> LearnerLink | None:
    if not token or len(token) > _MAX_TOKEN_LENGTH:
        return None
    return session.exec(
        select(LearnerLink).where(LearnerLink.token_hash == hash_token(token))
    ).first()


def check_link(session: Session, token: str | None, *, now: datetime | None = None) -> str:
    """The address an unspent, unexpired link is for; SignInLinkInvalid (saying why) else."""
    row = _find_link(session, token)
    if row is None:
        raise SignInLinkInvalid("This sign-in link is not valid: ask for a new one.")
    if row.used_at is not None:
        raise SignInLinkInvalid("This sign-in link was used already: ask for a new one.")
    if row.expires_at <= _now(now):
        raise SignInLinkInvalid("This sign-in link has expired: ask for a new one.")
    return row.email


def _learner_for(session: Session, email: str, now: datetime) -> Learner:
    found = session.exec(select(Learner).where(Learner.email == email)).first()
    if found is not None:
        return found
    savepoint = session.begin_nested()
    try:
        learner = Learner(email=email, created_at=now)
        session.add(learner)
        session.flush()
    except IntegrityError:  # a parallel sign-in made it: the same account either way
        savepoint.rollback()
        return session.exec(select(Learner).where(Learner.email == email)).one()
    savepoint.commit()
    return learner


def redeem_link(
    session: Session,
    token: str | None,
    *,
    ttl: timedelta = DEFAULT_SESSION_TTL,
    user_agent: str | None = None,
    now: datetime | None = None,
) -> tuple[Learner, str]:
    """Spend the link; the learner (made now on a first sign-in) and a new session token."""
    now = _now(now)
    email = check_link(session, token, now=now)
    spent = session.exec(
        update(LearnerLink)
        .where(
            col(LearnerLink.token_hash) == hash_token(token or ""),
            col(LearnerLink.used_at).is_(None),
            col(LearnerLink.expires_at) > now,
        )
        .values(used_at=now)
    )
    if spent.rowcount != 1:
        raise SignInLinkInvalid("This sign-in link was used already: ask for a new one.")
    learner = _learner_for(session, email, now)
    learner.last_sign_in_at = now
    session.add(learner)
    return learner, start_session(session, learner, ttl=ttl, user_agent=user_agent, now=now)


def start_session(
    session: Session,
    learner: Learner,
    *,
    ttl: timedelta = DEFAULT_SESSION_TTL,
    user_agent: str | None = None,
    now: datetime | None = None,
) -> str:
    now = _now(now)
    token = secrets.token_urlsafe(32)
    session.add(
        LearnerSession(
            token_hash=hash_token(token),
            learner_id=pk(learner),
            created_at=now,
            last_seen_at=now,
            expires_at=now + ttl,
            user_agent=(user_agent or "")[:300] or None,
        )
    )
    session.flush()
    return token


def session_for_token(
    session: Session, token: str | None, *, now: datetime | None = None
) -> tuple[LearnerSession, Learner] | None:
    """The live session a cookie's token opens and its learner, or None."""
    if not token or len(token) > _MAX_TOKEN_LENGTH:
        return None
    row = session.exec(
        select(LearnerSession).where(LearnerSession.token_hash == hash_token(token))
    ).first()
    if row is None or row.expires_at <= _now(now):
        return None
    learner = session.get(Learner, row.learner_id)
    return (row, learner) if learner is not None else None


def touch(session: Session, row: LearnerSession, *, now: datetime | None = None) -> None:
    """Record the session's use, at most once a minute (spares an UPDATE on every page)."""
    now = _now(now)
    session.exec(
        update(LearnerSession)
        .where(
            col(LearnerSession.id) == pk(row),
            col(LearnerSession.last_seen_at) < now - LAST_SEEN_PRECISION,
        )
        .values(last_seen_at=now)
    )


def list_sessions(
    session: Session, learner: Learner, *, now: datetime | None = None
) -> list[LearnerSession]:
    return list(
        session.exec(
            select(LearnerSession)
            .where(LearnerSession.learner_id == pk(learner), LearnerSession.expires_at > _now(now))
            .order_by(col(LearnerSession.last_seen_at).desc(), col(LearnerSession.id).desc())
        ).all()
    )


def end_session(session: Session, token: str | None) -> None:
    """Sign out this browser (nothing happens for an unknown token)."""
    if token and len(token) <= _MAX_TOKEN_LENGTH:
        session.exec(
            delete(LearnerSession).where(col(LearnerSession.token_hash) == hash_token(token))
        )


def revoke_session(session: Session, learner: Learner, session_id: int) -> None:
    """End one of the learner's own sessions; another learner's is NotFound."""
    ended = session.exec(
        delete(LearnerSession).where(
            col(LearnerSession.id) == session_id, col(LearnerSession.learner_id) == pk(learner)
        )
    )
    if ended.rowcount != 1:
        raise NotFound("There is no such session.")


def end_all_sessions(session: Session, learner: Learner) -> int:
    """Sign out everywhere, this browser included; returns how many sessions ended."""
    ended = session.exec(
        delete(LearnerSession).where(col(LearnerSession.learner_id) == pk(learner))
    )
    return ended.rowcount
