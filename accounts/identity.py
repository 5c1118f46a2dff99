"""An organisation's signing identity in the console: its issuers (DID, keys, key rotation,
whether new badges start public) and its e-seal certificate (PKCS#12 import). Reading is for
every member, changes for owners; each change writes its audit event in its transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from accounts import audit
from accounts.audit import Actor
from accounts.models import User
from accounts.roles import Role
from accounts.users import require_role
from badges.issuing import issuers as issuer_service
from badges.models import Issuer
from catalogue.base import pk
from catalogue.errors import Conflict, InvalidInput, NotFound
from catalogue.models import Organisation
from keys import eseal, store
from keys.eseal_models import SealCertificate
from keys.models import IssuerKey
from keys.sealing import MasterKey

MAX_PKCS12_BYTES = 1024 * 1024  # a certificate chain with its key is a few kilobytes
EXPIRY_WARNING = timedelta(days=30)


@dataclass(frozen=True)
class IssuerIdentity:
    issuer: Issuer
    keys: list[IssuerKey]

    @property
    def can_rotate(self) -> bool:
        # A did:key DID is its one key: only did:web issuers can take a new one.
        return self.issuer.did.startswith("did:web:")

    @property
    def method(self) -> str:
        return ":".join(self.issuer.did.split(":")[:2])


def identities(session: Session, user: User, organisation: Organisation) -> list[IssuerIdentity]:
    require_role(session, user, organisation, Role.viewer)
    return [
        IssuerIdentity(issuer, store.published_keys(session, pk(issuer)))
        for issuer in issuer_service.list_issuers(session, pk(organisation))
    ]


def own_issuer(session: Session, organisation: Organisation, slug: str) -> Issuer:
    """The organisation's issuer `slug`; another organisation's is NotFound here."""
    issuer = issuer_service.get_issuer(session, slug)
    if issuer.organisation_id != pk(organisation):
        raise NotFound(f"issuer {slug!r} does not exist")
    return issuer


def rotate_and_record(
    session: Session,
    master_key: MasterKey,
    issuer: Issuer,
    *,
    actor: Actor,
    address: str | None = None,
    command: str | None = None,
) -> list[IssuerKey]:
    """New keys for the issuer (badges.issuing.issuers.rotate_keys) and the audit event; the
    console and `skillshub issuer rotate-key` both come here."""
    new = issuer_service.rotate_keys(session, master_key, issuer)
    audit.record(
        session,
        actor=actor,
        action="issuer.rotate_key",
        organisation=issuer.organisation_id,
        subject_type="issuer",
        subject_id=issuer.slug,
        details={"keys": [{"algorithm": k.algorithm, "kid": k.kid} for k in new]},
        address=address,
        command=command,
    )
    return new


def rotate_keys(
    session: Session,
    master_key: MasterKey,
    user: User,
    organisation: Organisation,
    issuer_slug: str,
    *,
    actor: Actor,
    address: str | None = None,
) -> list[IssuerKey]:
    require_role(session, user, organisation, Role.owner)
    issuer = own_issuer(session, organisation, issuer_slug)
    return rotate_and_record(session, master_key, issuer, actor=actor, address=address)


def set_sharing_default(
    session: Session,
    user: User,
    organisation: Organisation,
    issuer_slug: str,
    public: bool,
    *,
    actor: Actor,
    address: str | None = None,
) -> Issuer:
    """Whether the issuer's new badges start with a public page (learners can still change
    theirs)."""
    require_role(session, user, organisation, Role.owner)
    issuer = own_issuer(session, organisation, issuer_slug)
    if issuer.public_by_default != public:
        issuer_service.set_public_by_default(session, issuer, public)
        audit.record(
            session,
            actor=actor,
            action="issuer.sharing_default",
            organisation=organisation,
            subject_type="issuer",
            subject_id=issuer.slug,
            details={"public_by_default": public},
            address=address,
        )
    return issuer


# --- e-seal certificates ----------------------------------------------------------------------


@dataclass(frozen=True)
class SealView:
    record: SealCertificate
    now: datetime

    @property
    def expired(self) -> bool:
        return self.record.not_after <= self.now

    @property
    def expires_soon(self) -> bool:
        return not self.expired and self.record.not_after - self.now <= EXPIRY_WARNING

    @property
    def days_left(self) -> int:
        return max(0, (self.record.not_after - self.now).days)


def seal_certificates(
    session: Session, user: User, organisation: Organisation, *, now: datetime | None = None
) -> list[SealView]:
    """The organisation's certificates, the active one first."""
    require_role(session, user, organisation, Role.viewer)
    now = now or datetime.now(UTC)
    rows = eseal.list_certificates(session, pk(organisation))
    return [SealView(r, now) for r in sorted(rows, key=lambda r: not r.active)]


def import_seal(
    session: Session,
    master_key: MasterKey,
    user: User,
    organisation: Organisation,
    data: bytes,
    password: str | None,
    *,
    actor: Actor,
    address: str | None = None,
) -> SealCertificate:
    """Import a PKCS#12 file as the organisation's e-seal. The password only opens the file
    here: it is neither stored nor logged. Errors name the form field they are about
    (`details["field"]`: "pkcs12" or "password") and nothing is written."""
    require_role(session, user, organisation, Role.owner)
    if not data:
        raise InvalidInput("Choose the .p12 or .pfx file to upload.", details={"field": "pkcs12"})
    if len(data) > MAX_PKCS12_BYTES:
        raise InvalidInput(
            f"This file is too large for an e-seal certificate (at most "
            f"{MAX_PKCS12_BYTES // 1024} KiB).",
            details={"field": "pkcs12"},
        )
    try:
        leaf, key, others = eseal.load_pkcs12(data, password or None)
        with session.begin_nested():  # a failed check leaves nothing behind
            record = eseal.import_certificate(session, master_key, organisation, leaf, key, others)
    except eseal.SealPasswordWrong as exc:
        raise eseal.SealPasswordWrong(exc.message, details={"field": "password"}) from None
    except eseal.SealCertificateError as exc:
        raise type(exc)(exc.message, details={"field": "pkcs12"}) from None
    except Conflict as exc:
        raise Conflict(exc.message, details={"field": "pkcs12"}) from None
    record_seal_import(session, record, actor=actor, address=address)
    return record


def record_seal_import(
    session: Session,
    record: SealCertificate,
    *,
    actor: Actor,
    address: str | None = None,
    command: str | None = None,
) -> None:
    audit.record(
        session,
        actor=actor,
        action="seal.import",
        organisation=record.organisation_id,
        subject_type="seal_certificate",
        subject_id=record.fingerprint,
        details={
            "subject": record.subject,
            "not_after": record.not_after.isoformat(),
            "self_signed": record.self_signed,
        },
        address=address,
        command=command,
    )
