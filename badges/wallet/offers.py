"""Credential offers, the token endpoint's pre-authorized code grant, and nonces
(OpenID4VCI 1.0 §4, §6, §7).

An offer is sent by reference: `openid-credential-offer://?credential_offer_uri=…` points at
`{BASE_URL}/oid4vci/offers/{code}`, which answers the Credential Offer object carrying that
same pre-authorized code. The URI and the code are one bearer secret, stored as SHA-256 only,
so the database never holds a usable code. The code is short-lived (SKILLSHUB_WALLET_OFFER_
MINUTES) and redeemed once: of concurrent token requests exactly one wins the compare-and-set
on `redeemed_at` (PostgreSQL re-checks the condition after the row lock; SQLite writers are
serial). With a transaction code (sent by e-mail, a separate channel against someone who
photographs the QR code) the token request must carry it; after `MAX_TX_CODE_FAILURES` wrong
codes the offer is dead.

The access token is random, stored as SHA-256, bound to its offer (so to one credential) and
valid for SKILLSHUB_WALLET_TOKEN_SECONDS, for at most `MAX_COPIES` credentials. Nonces are
random, single use and short-lived; expired ones are deleted whenever a new one is made.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from typing import Any
from urllib.parse import quote

from babel.dates import format_date
from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from badges.issuing import awarded_micro_credential
from badges.models import IssuedCredential
from badges.sharing.mail import Mailer, MailError, MailSettings, make_mailer
from badges.wallet.errors import (
    InvalidGrant,
    InvalidTokenRequest,
    OfferNotFound,
    UnsupportedGrantType,
)
from badges.wallet.metadata import OFFER_PATH, PRE_AUTHORIZED_GRANT, configuration_ids
from badges.wallet.models import WalletNonce, WalletOffer
from catalogue.base import pk
from catalogue.errors import Conflict

log = logging.getLogger("skillshub.wallet")

OFFER_SCHEME = "openid-credential-offer://"
TX_CODE_LENGTH = 6
MAX_TX_CODE_FAILURES = 5
MAX_COPIES = 4  # credentials per access token: each offered format, and a retry or two
_MAX_SECRET_LENGTH = 100  # token_urlsafe(32) is 43 characters; longer input is not ours
_MAX_AUTHORIZATION_DETAILS = 4_000


def hash_secret(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _tx_hash(code: str, tx_code: str) -> str:
    return hash_secret(f"{code}\n{tx_code}")


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


# --- offers ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Offer:
    """A new offer; `code` and `tx_code` are in clear here only."""

    credential_uuid: str
    code: str
    tx_code: str | None
    expires_at: datetime
    offer_uri: str
    link: str


def offer_uri(base_url: str, code: str) -> str:
    return f"{base_url}{OFFER_PATH}/{code}"


def wallet_link(uri: str) -> str:
    """The `openid-credential-offer://` link (and QR code content) for an offer by reference."""
    return f"{OFFER_SCHEME}?credential_offer_uri={quote(uri, safe='')}"


def check_offerable(record: IssuedCredential) -> None:
    if record.revoked_at is not None:
        raise Conflict(f"credential {record.uuid} is revoked: it cannot go to a wallet")
    if record.suspended:
        raise Conflict(f"credential {record.uuid} is suspended: it cannot go to a wallet now")


def create_offer(
    session: Session,
    record: IssuedCredential,
    *,
    base_url: str,
    ttl: timedelta,
    tx_code: bool = False,
    created_by: str = "learner",
    now: datetime | None = None,
) -> Offer:
    """A new offer for the credential (flushed, not committed). Expired offers of the
    credential that were never redeemed are deleted, so offers cannot pile up."""
    check_offerable(record)
    if tx_code and not record.recipient_email:
        raise Conflict(
            f"credential {record.uuid} names no e-mail address to send a transaction code to"
        )
    now = _now(now)
    session.exec(
        delete(WalletOffer).where(
            col(WalletOffer.credential_id) == pk(record),
            col(WalletOffer.redeemed_at).is_(None),
            col(WalletOffer.expires_at) <= now,
        )
    )
    code = secrets.token_urlsafe(32)
    tx = f"{secrets.randbelow(10**TX_CODE_LENGTH):0{TX_CODE_LENGTH}d}" if tx_code else None
    row = WalletOffer(
        code_hash=hash_secret(code),
        credential_id=pk(record),
        tx_code_hash=_tx_hash(code, tx) if tx else None,
        expires_at=now + ttl,
        created_by=created_by,
        created_at=now,
    )
    session.add(row)
    session.flush()
    uri = offer_uri(base_url, code)
    return Offer(record.uuid, code, tx, row.expires_at, uri, wallet_link(uri))


def _find_offer(session: Session, code: str | None) -> WalletOffer | None:
    if not code or len(code) > _MAX_SECRET_LENGTH:
        return None
    return session.exec(
        select(WalletOffer).where(WalletOffer.code_hash == hash_secret(code))
    ).first()


def offered_configurations(session: Session, record: IssuedCredential) -> list[str]:
    mc = awarded_micro_credential(session, record)
    return configuration_ids(mc.slug if mc else None)


def offer_document(
    session: Session, code: str, *, base_url: str, now: datetime | None = None
) -> dict[str, Any]:
    """The Credential Offer object at the offer URI (§4.1.1), while the code is usable."""
    now = _now(now)
    row = _find_offer(session, code)
    if (
        row is None
        or row.redeemed_at is not None
        or row.expires_at <= now
        or row.tx_code_failures >= MAX_TX_CODE_FAILURES
    ):
        raise OfferNotFound("no usable credential offer here: it expired or was used")
    record = session.get(IssuedCredential, row.credential_id)
    if record is None:
        raise OfferNotFound("no usable credential offer here: it expired or was used")
    grant: dict[str, Any] = {"pre-authorized_code": code}
    if row.tx_code_hash is not None:
        grant["tx_code"] = {
            "input_mode": "numeric",
            "length": TX_CODE_LENGTH,
            "description": "Enter the 6-digit code we sent to your e-mail address.",
        }
    return {
        "credential_issuer": base_url,
        "credential_configuration_ids": offered_configurations(session, record),
        "grants": {PRE_AUTHORIZED_GRANT: grant},
    }


@dataclass(frozen=True)
class TxCodeWords:
    """The transaction code e-mail's words in one language ({until} filled)."""

    subject: str
    greeting: str
    enter: str
    works_once: str
    date_locale: str


# The words of the learner's wallet page: "Wallet", "Transaktionscode", "aufnehmen".
TX_CODE_WORDS = {
    "en": TxCodeWords(
        subject="Your code for adding a badge to your wallet",
        greeting="Hello,",
        enter="You asked to add your badge to a digital wallet. When the wallet asks for a "
        "transaction code, enter:",
        works_once="The code works once, until {until}. If you did not ask for it, ignore this "
        "message: without the code nobody can add your badge to a wallet.",
        date_locale="en_GB",
    ),
    "de": TxCodeWords(
        subject="Ihr Code, um ein Badge in Ihre Wallet aufzunehmen",
        greeting="Guten Tag,",
        enter="Sie möchten Ihr Badge in eine digitale Wallet aufnehmen. Wenn die Wallet nach "
        "einem Transaktionscode fragt, geben Sie ein:",
        works_once="Der Code gilt einmal, bis zum {until}. Wenn Sie ihn nicht angefordert "
        "haben, ignorieren Sie diese Nachricht: Ohne den Code kann niemand Ihr Badge in eine "
        "Wallet aufnehmen.",
        date_locale="de_DE",
    ),
}


def tx_code_message(
    smtp_from: str,
    record: IssuedCredential,
    tx_code: str,
    expires_at: datetime,
    language: str = "en",
) -> EmailMessage:
    """The transaction code e-mail, in `language` (the learner's wallet page's)."""
    assert record.recipient_email is not None  # create_offer checked it
    language = language if language in TX_CODE_WORDS else "en"
    words = TX_CODE_WORDS[language]
    until = f"{format_date(expires_at, 'long', locale=words.date_locale)}, {expires_at:%H:%M} UTC"
    message = EmailMessage()
    message["Subject"] = words.subject
    message["From"] = smtp_from
    local, _, domain = record.recipient_email.rpartition("@")
    message["To"] = Address(
        display_name=" ".join(record.recipient_name.split()), username=local, domain=domain
    )
    message.set_content(
        f"{words.greeting}\n\n{words.enter}\n\n    {tx_code}\n\n"
        f"{words.works_once.format(until=until)}\n"
    )
    # After the content: setting it clears the Content-* headers.
    message["Content-Language"] = language
    return message


def send_tx_code(
    settings: MailSettings,
    smtp_from: str,
    record: IssuedCredential,
    offer: Offer,
    *,
    mailer: Mailer | None = None,
    language: str = "en",
) -> str | None:
    """E-mail the offer's transaction code to the learner, in `language` (the page's that
    asked, or the CLI's --language); the error text when it failed (logged without the address
    or the code), None when sent. Call after committing."""
    if offer.tx_code is None:
        return None
    try:
        (mailer or make_mailer(settings)).send(
            tx_code_message(smtp_from, record, offer.tx_code, offer.expires_at, language)
        )
    except MailError as exc:
        error = exc.message
    except Exception as exc:  # its text may quote the address: keep only its type
        error = f"the e-mail could not be sent ({type(exc).__name__})"
    else:
        return None
    log.warning("transaction code e-mail for credential %s not sent: %s", record.uuid, error)
    return error


# --- the token endpoint ------------------------------------------------------------------


def _single(form: Mapping[str, list[str]], name: str) -> str | None:
    values = form.get(name)
    if not values:
        return None
    if len(values) > 1:  # RFC 6749 §3.2: parameters MUST NOT be included more than once
        raise InvalidTokenRequest(f"the parameter {name} is repeated")
    return values[0]


def _authorization_details(raw: str, offered: list[str]) -> list[dict[str, Any]]:
    """The token response's authorization_details (OpenID4VCI §6.2) for the request's."""
    if len(raw) > _MAX_AUTHORIZATION_DETAILS:
        raise InvalidTokenRequest("authorization_details is too long")
    try:
        details = json.loads(raw)
    except (ValueError, RecursionError):
        raise InvalidTokenRequest("authorization_details is not JSON") from None
    if not isinstance(details, list) or not details:
        raise InvalidTokenRequest("authorization_details must be a non-empty JSON array")
    answer = []
    for item in details:
        if not isinstance(item, dict) or item.get("type") != "openid_credential":
            raise InvalidTokenRequest("each authorization detail must be of type openid_credential")
        config = item.get("credential_configuration_id")
        if not isinstance(config, str) or config not in offered:
            raise InvalidTokenRequest(
                "credential_configuration_id must name a configuration of this offer"
            )
        answer.append({**item, "credential_identifiers": [config]})
    return answer


def token_response(
    session: Session,
    form: Mapping[str, list[str]],
    *,
    token_ttl: timedelta,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Redeem a pre-authorized code (§6.1) for an access token (§6.2). A wrong transaction
    code is counted (and committed) before the error goes out."""
    now = _now(now)
    grant_type = _single(form, "grant_type")
    if grant_type is None:
        raise InvalidTokenRequest("grant_type is missing")
    if grant_type != PRE_AUTHORIZED_GRANT:
        raise UnsupportedGrantType(f"only the grant type {PRE_AUTHORIZED_GRANT} is supported")
    code = _single(form, "pre-authorized_code")
    if not code:
        raise InvalidTokenRequest("pre-authorized_code is missing")
    tx_code = _single(form, "tx_code")
    details_raw = _single(form, "authorization_details")
    row = _find_offer(session, code)
    if row is None or row.expires_at <= now or row.redeemed_at is not None:
        raise InvalidGrant("the pre-authorized code is unknown, expired or already used")
    if row.tx_code_failures >= MAX_TX_CODE_FAILURES:
        raise InvalidGrant("too many wrong transaction codes: ask for a new offer")
    if row.tx_code_hash is None and tx_code is not None:
        raise InvalidTokenRequest("this offer has no transaction code: leave tx_code out")
    if row.tx_code_hash is not None and tx_code is None:
        raise InvalidTokenRequest("this offer needs the transaction code sent by e-mail")
    if row.tx_code_hash is not None and not secrets.compare_digest(
        row.tx_code_hash, _tx_hash(code, tx_code or "")
    ):
        _count_tx_failure(session, pk(row))
        raise InvalidGrant("the transaction code is wrong")
    record = session.get(IssuedCredential, row.credential_id)
    if record is None:
        raise InvalidGrant("the pre-authorized code is unknown, expired or already used")
    details = (
        _authorization_details(details_raw, offered_configurations(session, record))
        if details_raw is not None
        else None
    )
    token = secrets.token_urlsafe(32)
    spent = session.exec(
        update(WalletOffer)
        .where(
            col(WalletOffer.id) == row.id,
            col(WalletOffer.redeemed_at).is_(None),
            col(WalletOffer.expires_at) > now,
            col(WalletOffer.tx_code_failures) < MAX_TX_CODE_FAILURES,
        )
        .values(redeemed_at=now, token_hash=hash_secret(token), token_expires_at=now + token_ttl)
    )
    if spent.rowcount != 1:
        raise InvalidGrant("the pre-authorized code is unknown, expired or already used")
    response: dict[str, Any] = {
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": int(token_ttl.total_seconds()),
    }
    if details is not None:
        response["authorization_details"] = details
    return response


def _count_tx_failure(session: Session, offer_id: int) -> None:
    session.exec(
        update(WalletOffer)
        .where(
            col(WalletOffer.id) == offer_id,
            col(WalletOffer.tx_code_failures) < MAX_TX_CODE_FAILURES,
        )
        .values(tx_code_failures=col(WalletOffer.tx_code_failures) + 1)
    )
    session.commit()  # the error that follows rolls back; the count must stay


@dataclass(frozen=True)
class Grant:
    """What a live access token allows: copies of one credential."""

    offer: WalletOffer
    record: IssuedCredential


def grant_for_token(session: Session, token: str | None, now: datetime) -> Grant | None:
    if not token or len(token) > _MAX_SECRET_LENGTH:
        return None
    row = session.exec(
        select(WalletOffer).where(WalletOffer.token_hash == hash_secret(token))
    ).first()
    if row is None or row.token_expires_at is None or row.token_expires_at <= now:
        return None
    record = session.get(IssuedCredential, row.credential_id)
    return Grant(row, record) if record is not None else None


def count_copy(session: Session, offer_id: int) -> bool:
    """Take one of the access token's copies; False when it has none left."""
    taken = session.exec(
        update(WalletOffer)
        .where(col(WalletOffer.id) == offer_id, col(WalletOffer.copies) < MAX_COPIES)
        .values(copies=col(WalletOffer.copies) + 1)
    )
    return taken.rowcount == 1


# --- nonces ------------------------------------------------------------------------------


def new_nonce(session: Session, *, ttl: timedelta, now: datetime | None = None) -> str:
    now = _now(now)
    session.exec(delete(WalletNonce).where(col(WalletNonce.expires_at) <= now))
    nonce = secrets.token_urlsafe(24)
    session.add(WalletNonce(nonce_hash=hash_secret(nonce), expires_at=now + ttl))
    session.flush()
    return nonce


def spend_nonce(session: Session, nonce: str, *, now: datetime | None = None) -> bool:
    """Accept a nonce once, before it expires (compare-and-delete: one of two concurrent
    requests with the same nonce wins)."""
    if not nonce or len(nonce) > _MAX_SECRET_LENGTH:
        return False
    spent = session.exec(
        delete(WalletNonce).where(
            col(WalletNonce.nonce_hash) == hash_secret(nonce),
            col(WalletNonce.expires_at) > _now(now),
        )
    )
    return spent.rowcount == 1
