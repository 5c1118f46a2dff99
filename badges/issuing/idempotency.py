"""Issuing once per request: a client that repeats a request (a retry after a time-out, a
double-clicked button) gets the credential of the first one instead of a second credential.

Two ways to say "the same request":
- an idempotency key (the `Idempotency-Key` header of the API, the console form's hidden
  token), unique per organisation: the same key with the same request answers with the
  original; the same key with another request is refused (IdempotencyKeyReused);
- the external id (`external_id`), unique per issuer: a request for the same award (same
  micro-credential, recipient, grade, evidence and format) answers with the original; another
  award under that id is a conflict (DuplicateExternalId), as before.

Both rest on unique constraints, so two parallel requests issue once on SQLite and PostgreSQL:
the loser's insert fails, its savepoint (credential, status entries, key) rolls back, and it
answers with the winner's credential.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from badges import status
from badges.issuing import service
from badges.issuing.service import DuplicateExternalId, Recipient, check_recipient
from badges.models import IdempotencyKey, IssuedCredential, Issuer
from badges.securing import JwtAlgorithm, check_format
from catalogue.base import pk
from catalogue.errors import InvalidInput
from catalogue.models import MicroCredential
from keys.sealing import MasterKey

MAX_KEY_LENGTH = 200
# Visible ASCII: the key travels in a header and is shown back in error messages.
_KEY = re.compile(r"[\x21-\x7e]+")


class IdempotencyKeyReused(InvalidInput):
    """The key was used before for a different request (422, as the IETF draft
    "The Idempotency-Key HTTP Header Field" advises)."""

    code = "idempotency_key_reused"


@dataclass(frozen=True)
class Issued:
    record: IssuedCredential
    replayed: bool  # True: the credential of an earlier, identical request


def check_key(key: str | None) -> str | None:
    if key is None:
        return None
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not _KEY.fullmatch(key):
        raise InvalidInput(
            f"Idempotency-Key: 1 to {MAX_KEY_LENGTH} visible ASCII characters "
            "(a UUID is a good choice)",
            details={"field": "Idempotency-Key"},
        )
    return key


_LATER_FIELDS = ("given_name", "family_name", "contact_consent")


def request_hash(issuer: Issuer, mc: MicroCredential, recipient: Recipient, fmt: str) -> str:
    """The request's meaning, of a checked recipient (spacing and the e-mail's case do not
    make another request)."""
    request = {"issuer": issuer.slug, "micro_credential": mc.slug, "format": fmt}
    fields = asdict(recipient) | {"email": recipient.email.lower()}  # as the identity hash
    # Fields added later count only when set: a key stored before them still matches.
    fields = {k: v for k, v in fields.items() if k not in _LATER_FIELDS or v}
    text = json.dumps(request | fields, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def same_award(
    record: IssuedCredential, mc: MicroCredential, recipient: Recipient, fmt: str
) -> bool:
    """Whether a stored credential is what this request asks for."""
    return (
        record.micro_credential_id == mc.id
        and record.format == fmt
        and record.recipient_name == recipient.name
        and record.recipient_given_name == recipient.given_name
        and record.recipient_family_name == recipient.family_name
        and record.recipient_contact_consent == recipient.contact_consent
        and (record.recipient_email or "").lower() == recipient.email.lower()
        and record.recipient_did == recipient.did
        and record.grade == recipient.grade
        and record.evidence_url == recipient.evidence_url
        and record.evidence_narrative == recipient.evidence_narrative
    )


def _stored(session: Session, organisation_id: int, key: str) -> IdempotencyKey | None:
    return session.exec(
        select(IdempotencyKey).where(
            IdempotencyKey.organisation_id == organisation_id, IdempotencyKey.key == key
        )
    ).first()


def _replay(session: Session, stored: IdempotencyKey, digest: str) -> Issued:
    record = session.get(IssuedCredential, stored.credential_id)
    assert record is not None  # the foreign key
    if stored.request_hash != digest:
        raise IdempotencyKeyReused(
            f"this Idempotency-Key was already used for another request (credential "
            f"{record.uuid}); send a new key for a new request",
            details={"field": "Idempotency-Key", "credential": record.uuid},
        )
    return Issued(record, replayed=True)


def _by_external_id(
    existing: IssuedCredential, mc: MicroCredential, recipient: Recipient, fmt: str
) -> Issued:
    if not same_award(existing, mc, recipient, fmt):
        assert recipient.external_id is not None
        raise DuplicateExternalId(recipient.external_id, existing)
    return Issued(existing, replayed=True)


def issue_once(
    session: Session,
    master_key: MasterKey,
    *,
    issuer: Issuer,
    micro_credential: MicroCredential,
    recipient: Recipient,
    base_url: str,
    key: str | None = None,
    fmt: str = "ldp",
    now: datetime | None = None,
    status_purposes: tuple[str, ...] = status.DEFAULT_PURPOSES,
    jwt_algorithm: JwtAlgorithm = "ES256",
) -> Issued:
    """`service.issue`, at most once per idempotency key and per external id."""
    fmt = check_format(fmt)
    recipient = check_recipient(recipient)
    key = check_key(key)
    org_id = issuer.organisation_id
    digest = request_hash(issuer, micro_credential, recipient, fmt)
    if key is not None:
        stored = _stored(session, org_id, key)
        if stored is not None:
            return _replay(session, stored, digest)
    if recipient.external_id:
        existing = service.find_by_external_id(session, pk(issuer), recipient.external_id)
        if existing is not None:
            issued = _by_external_id(existing, micro_credential, recipient, fmt)
            if key is not None:
                _remember(session, org_id, key, digest, issued.record)
            return issued
    savepoint = session.begin_nested()
    try:
        record = service.issue(
            session,
            master_key,
            issuer=issuer,
            micro_credential=micro_credential,
            recipient=recipient,
            base_url=base_url,
            fmt=fmt,
            now=now,
            status_purposes=status_purposes,
            jwt_algorithm=jwt_algorithm,
        )
        if key is not None:
            session.add(
                IdempotencyKey(
                    organisation_id=org_id, key=key, request_hash=digest, credential_id=pk(record)
                )
            )
            session.flush()
    except DuplicateExternalId as exc:  # a parallel request with the same external id won
        savepoint.rollback()
        return _by_external_id(exc.existing, micro_credential, recipient, fmt)
    except IntegrityError:
        savepoint.rollback()
        stored = _stored(session, org_id, key) if key is not None else None
        if stored is None:
            raise
        return _replay(session, stored, digest)  # a parallel request with the same key won
    except BaseException:
        savepoint.rollback()
        raise
    savepoint.commit()
    return Issued(record, replayed=False)


def _remember(
    session: Session, org_id: int, key: str, digest: str, record: IssuedCredential
) -> None:
    savepoint = session.begin_nested()
    try:
        session.add(
            IdempotencyKey(
                organisation_id=org_id, key=key, request_hash=digest, credential_id=pk(record)
            )
        )
        session.flush()
    except IntegrityError:
        savepoint.rollback()  # a parallel request stored it: the same credential either way
        return
    savepoint.commit()
