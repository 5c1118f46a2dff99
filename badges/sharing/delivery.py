"""Getting a credential to its learner: a claim link by e-mail, then the learner's session.

Flow. After the issuing transaction commits, `deliver` stores a claim token (only its
SHA-256), commits, and e-mails the link `/credentials/{id}/claim?token=…`. Opening the link
shows the credential and a "claim" button; the button (a POST, so mail scanners that
prefetch links do not spend it) redeems the token once, before it expires
(CLAIM_TOKEN_TTL_HOURS), and mints a learner *session* token for that browser.

Why a session token rather than re-opening the claim link, or a signed cookie:
- the claim link travels by e-mail, so it must stop working once used: a forwarded or
  leaked mail must not give someone else control of the learner's sharing settings;
- the session token is what the learner's cookie holds (httponly, samesite=lax, scoped to
  `/credentials/{id}`). It is derived from the claim (minted only by redeeming it), random
  (secrets.token_urlsafe(32)) and stored as a hash like the claim token, which gives what a
  signed cookie gives (an unforgeable value bound to one credential) without an app-wide
  signing secret, and adds what it cannot: the server can end a session (`end_session`), or
  every session of the credential (`end_sessions`: "sign out everywhere").
Tokens are single-purpose: a session token never works as a claim token, nor the reverse.
A learner who lost the session asks the issuer for a fresh link (`send_claim_link`).
Sessions last SKILLSHUB_LEARNER_SESSION_DAYS, and a new link ends them early: sending one
ends every session of the credential (the link may go out because the first one reached the
wrong person, who must lose access), and redeeming one ends any session minted meanwhile.
"""

from __future__ import annotations

import hashlib
import html
import logging
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Protocol
from urllib.parse import quote

from babel.dates import format_date
from sqlalchemy import delete, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from badges import issuing
from badges.models import ClaimToken, IssuedCredential, Issuer
from badges.sharing.mail import Mailer, MailError, MailSettings, make_mailer
from catalogue.base import pk
from catalogue.errors import Conflict, DomainError, NotFound
from catalogue.models import MicroCredential

log = logging.getLogger("skillshub.delivery")

CLAIM = "claim"
SESSION = "session"
SESSION_TTL = timedelta(days=30)  # the setting's default; callers pass the setting's value
_MAX_TOKEN_LENGTH = 100  # token_urlsafe(32) is 43 characters; longer input is not ours


class DeliverySettings(MailSettings, Protocol):
    base_url: str
    smtp_from: str
    claim_token_ttl_hours: int


class ClaimNotFound(NotFound):
    code = "claim_not_found"


class ClaimExpired(DomainError):
    code = "claim_expired"


class ClaimUsed(DomainError):
    code = "claim_used"


@dataclass(frozen=True)
class Delivery:
    credential: str
    sent: bool
    expires_at: datetime
    error: str | None = None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def _new_token(
    session: Session, record: IssuedCredential, purpose: str, now: datetime, ttl: timedelta
) -> str:
    token = secrets.token_urlsafe(32)
    session.add(
        ClaimToken(
            token_hash=hash_token(token),
            credential_id=pk(record),
            purpose=purpose,
            created_at=now,
            expires_at=now + ttl,
        )
    )
    session.flush()
    return token


def end_sessions(session: Session, credential_id: int) -> int:
    """End every learner session of a credential (all browsers); returns how many."""
    ended = session.exec(
        delete(ClaimToken).where(
            col(ClaimToken.credential_id) == credential_id, col(ClaimToken.purpose) == SESSION
        )
    )
    return ended.rowcount


def claim_url(base_url: str, credential_uuid: str, token: str) -> str:
    return f"{base_url}/credentials/{credential_uuid}/claim?token={quote(token)}"


# --- sending -------------------------------------------------------------------------------

SENT, FAILED = "sent", "failed"
# Line breaks and other controls: text stored before inputs were checked could still hold them,
# and email refuses them in a header (rightly: they would start a new one).
_BREAKS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def _one_line(text: str) -> str:
    return _BREAKS.sub(" ", text).strip()


@dataclass(frozen=True)
class ClaimWords:
    """The claim e-mail's words in one language ({name}, {issuer}, {title}, {until} filled)."""

    subject: str
    greeting: str
    awarded: str
    claim_here: str
    button: str
    link_note: str
    after: str
    date_locale: str


# The learner took the course in the micro-credential's language: the e-mail is written in the
# first of its languages we have words for, else in English.
CLAIM_WORDS = {
    "en": ClaimWords(
        subject="Your badge: {title}",
        greeting="Hello {name},",
        awarded="{issuer} has awarded you the micro-credential “{title}”, "
        "as an Open Badges 3.0 credential.",
        claim_here="Claim it here (the link works once, until {until}):",
        button="Claim your badge",
        link_note="(the link works once, until {until}).",
        after="Once claimed you can download it, make its page public or keep it private, "
        "and add it to LinkedIn.",
        date_locale="en_GB",
    ),
    "de": ClaimWords(
        subject="Ihr Badge: {title}",
        greeting="Guten Tag {name},",
        awarded="{issuer} hat Ihnen das Microcredential „{title}“ verliehen, "
        "als Open-Badges-3.0-Nachweis.",
        claim_here="Hier holen Sie es ab (der Link gilt einmal, bis zum {until}):",
        button="Badge abholen",
        link_note="(der Link gilt einmal, bis zum {until}).",
        after="Nach dem Abholen können Sie es herunterladen, seine Seite öffentlich machen oder "
        "privat halten und es zu LinkedIn hinzufügen.",
        date_locale="de_DE",
    ),
}


def mail_language(languages: Iterable[str]) -> str:
    """The language of a micro-credential's claim e-mail (its `languages`, ISO 639-1)."""
    return next((code for code in languages if code in CLAIM_WORDS), "en")


def claim_message(
    settings: DeliverySettings,
    recipient_name: str,
    recipient_email: str,
    title: str,
    issuer_name: str,
    link: str,
    expires_at: datetime,
    language: str = "en",
) -> EmailMessage:
    """The claim e-mail (the console previews it before issuing, with a stand-in link)."""
    words = CLAIM_WORDS.get(language) or CLAIM_WORDS["en"]
    message = EmailMessage()
    title, name = _one_line(title), _one_line(recipient_name)
    message["Subject"] = words.subject.format(title=title)
    message["From"] = settings.smtp_from
    local, _, domain = recipient_email.rpartition("@")
    message["To"] = Address(display_name=name, username=local, domain=domain)
    _, sender = parseaddr(settings.smtp_from)
    message["Reply-To"] = sender
    until = format_date(expires_at, "long", locale=words.date_locale)
    message.set_content(
        f"{words.greeting.format(name=name)}\n\n"
        f"{words.awarded.format(issuer=issuer_name, title=title)}\n\n"
        f"{words.claim_here.format(until=until)}\n{link}\n\n"
        f"{words.after}\n"
    )
    e = html.escape
    message.add_alternative(
        f"<p>{e(words.greeting.format(name=name))}</p>"
        f"<p>{e(words.awarded.format(issuer=issuer_name, title=title))}</p>"
        f'<p><a href="{e(link)}">{e(words.button)}</a> {e(words.link_note.format(until=until))}</p>'
        f"<p>{e(words.after)}</p>",
        subtype="html",
    )
    # After the parts: making the message multipart moves Content-* headers into its first part.
    message["Content-Language"] = language if language in CLAIM_WORDS else "en"
    return message


def send_claim_link(
    session: Session,
    settings: DeliverySettings,
    record: IssuedCredential,
    *,
    mailer: Mailer | None = None,
    now: datetime | None = None,
) -> Delivery:
    """Store a new claim token, commit, then e-mail its link.

    Earlier unredeemed links of the credential stop working, and so do its learner
    sessions. A failed send is logged and reported, never raised: the credential stands,
    and a new link can be sent any time.
    """
    if record.recipient_email is None:
        raise Conflict(
            f"credential {record.uuid} names no recipient e-mail (it was signed through the "
            "VC-API): there is no one to send a claim link to"
        )
    email = record.recipient_email
    now = _now(now)
    session.exec(
        update(ClaimToken)
        .where(
            col(ClaimToken.credential_id) == record.id,
            col(ClaimToken.purpose) == CLAIM,
            col(ClaimToken.used_at).is_(None),
            col(ClaimToken.expires_at) > now,
        )
        .values(expires_at=now)
    )
    end_sessions(session, pk(record))
    ttl = timedelta(hours=settings.claim_token_ttl_hours)
    expires_at = now + ttl
    token = _new_token(session, record, CLAIM, now, ttl)
    issuer = session.get(Issuer, record.issuer_id)
    mc = session.get(MicroCredential, record.micro_credential_id)
    assert issuer is not None and mc is not None  # foreign keys
    # The link must exist before anyone can follow it: commit first, then send.
    session.commit()
    link = claim_url(settings.base_url, record.uuid, token)
    error: str | None = None
    try:
        (mailer or make_mailer(settings)).send(
            claim_message(
                settings,
                record.recipient_name,
                email,
                mc.title,
                issuer.name,
                link,
                expires_at,
                mail_language(mc.languages),
            )
        )
    except MailError as exc:
        error = exc.message
    except Exception as exc:
        # Anything else (an address or header email refuses, a full disk, a backend's bug)
        # would vanish with the background task; its text may quote the address, so only
        # its type is kept.
        error = f"the e-mail could not be sent ({type(exc).__name__})"
    if error is not None:
        log.warning("claim e-mail for credential %s not sent: %s", record.uuid, error)
    _record_delivery(session, record, error)
    return Delivery(record.uuid, error is None, expires_at, error)


def _record_delivery(session: Session, record: IssuedCredential, error: str | None) -> None:
    """Keep the outcome on the credential, where the issuer's API shows it."""
    record.delivery_status = FAILED if error else SENT
    record.delivery_error = error[:500] if error else None
    session.add(record)
    session.commit()


def deliver(
    session: Session,
    settings: DeliverySettings,
    record: IssuedCredential,
    *,
    mailer: Mailer | None = None,
    now: datetime | None = None,
) -> Delivery:
    """First delivery of a committed credential: the issuer's sharing default, then the e-mail.

    Call it after the issuing transaction commits (it commits the session itself).
    """
    issuer = session.get(Issuer, record.issuer_id)
    if issuer is not None and issuer.public_by_default and not record.public:
        record.public = True
        session.add(record)
    return send_claim_link(session, settings, record, mailer=mailer, now=now)


def deliver_committed(
    engine: Engine, settings: DeliverySettings, credential_uuid: str
) -> Delivery | None:
    """`deliver` by credential id in a session of its own (a task run after the response);
    None when the credential was never committed."""
    with Session(engine, expire_on_commit=False) as session:
        record = issuing.find_credential(session, credential_uuid)
        return deliver(session, settings, record) if record is not None else None


def deliver_many(engine: Engine, settings: DeliverySettings, credential_uuids: list[str]) -> int:
    """`deliver` each committed credential of a batch (a bulk job's), in one session of its
    own; how many were found."""
    found = 0
    with Session(engine, expire_on_commit=False) as session:
        for credential_uuid in credential_uuids:
            record = issuing.find_credential(session, credential_uuid)
            if record is not None:
                deliver(session, settings, record)
                found += 1
    return found


# --- claiming ------------------------------------------------------------------------------


def _find(session: Session, token: str | None, purpose: str) -> ClaimToken | None:
    if not token or len(token) > _MAX_TOKEN_LENGTH:
        return None
    return session.exec(
        select(ClaimToken).where(
            ClaimToken.token_hash == hash_token(token), ClaimToken.purpose == purpose
        )
    ).first()


def _claim(
    session: Session, credential_uuid: str, token: str | None, now: datetime
) -> tuple[ClaimToken, IssuedCredential]:
    row = _find(session, token, CLAIM)
    record = session.get(IssuedCredential, row.credential_id) if row else None
    # Unknown, or another credential's: the same answer, so a token reveals nothing.
    if row is None or record is None or record.uuid != credential_uuid:
        raise ClaimNotFound("this claim link is not valid")
    if row.used_at is not None:
        raise ClaimUsed(
            "this claim link was already used; open the badge in the browser you claimed it "
            "with, or ask the issuer for a new link"
        )
    if row.expires_at <= now:
        raise ClaimExpired("this claim link has expired; ask the issuer for a new link")
    return row, record


def check_claim(
    session: Session, credential_uuid: str, token: str | None, *, now: datetime | None = None
) -> IssuedCredential:
    """The credential an unused, unexpired claim token opens; nothing is changed."""
    return _claim(session, credential_uuid, token, _now(now))[1]


def redeem_claim(
    session: Session,
    credential_uuid: str,
    token: str | None,
    *,
    ttl: timedelta = SESSION_TTL,
    now: datetime | None = None,
) -> tuple[IssuedCredential, str]:
    """Spend the claim token and return the credential and a new session token (in clear,
    once: only its hash is kept). Earlier sessions of the credential end."""
    now = _now(now)
    row, record = _claim(session, credential_uuid, token, now)
    # Compare-and-set: of two concurrent redemptions exactly one updates the row, and a
    # link that a concurrent resend just replaced (expires_at set to now) is not spent.
    spent = session.exec(
        update(ClaimToken)
        .where(
            col(ClaimToken.id) == row.id,
            col(ClaimToken.used_at).is_(None),
            col(ClaimToken.expires_at) > now,
        )
        .values(used_at=now)
    )
    if spent.rowcount != 1:
        raise ClaimUsed("this claim link was already used or replaced by a newer one")
    if record.claimed_at is None:  # the issuer's recipients list shows the first claim
        record.claimed_at = now
        session.add(record)
    end_sessions(session, pk(record))
    return record, _new_token(session, record, SESSION, now, ttl)


def learner_credential(
    session: Session,
    credential_uuid: str,
    session_token: str | None,
    *,
    ttl: timedelta = SESSION_TTL,
    now: datetime | None = None,
) -> IssuedCredential | None:
    """The credential when `session_token` is a live learner session for it, else None.

    Live means before its own expiry and younger than `ttl`: the setting in force now, so
    lowering it (or sessions minted under the old 365-day lifetime) takes effect at once."""
    row = _find(session, session_token, SESSION)
    now = _now(now)
    if row is None or row.expires_at <= now or row.created_at + ttl <= now:
        return None
    record = session.get(IssuedCredential, row.credential_id)
    return record if record is not None and record.uuid == credential_uuid else None


def end_session(session: Session, session_token: str | None) -> None:
    row = _find(session, session_token, SESSION)
    if row is not None:
        session.delete(row)
        session.flush()
