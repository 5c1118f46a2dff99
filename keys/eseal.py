"""E-seal certificates: import (PKCS#12 or PEM), sealed storage, opening for sealing, and
self-signed TEST certificates for the demo.

Europass's SEAL check accepts a *qualified* e-seal certificate from an EU trust service
provider. A self-signed certificate produces a seal that verifies cryptographically but
is not accepted as qualified: it is for testing, and its subject says so.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from sqlmodel import Session, col, select

from catalogue.base import pk
from catalogue.errors import Conflict, InvalidInput
from catalogue.models import Organisation
from keys.eseal_models import SealCertificate
from keys.sealing import MasterKey, SealingError
from keys.signer import ESealSigner
from keys.store import KeyStoreError

TEST_LABEL = "TEST — not a qualified e-seal"
SealKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
_MAX_CHAIN = 10


class SealCertificateError(InvalidInput):
    code = "seal_certificate_invalid"


class SealCertificateExpired(SealCertificateError):
    code = "seal_certificate_expired"


class SealPasswordWrong(SealCertificateError):
    """The file is a PKCS#12 file, and the password given does not open it."""

    code = "seal_password_wrong"


@dataclass(frozen=True)
class OpenedSeal:
    """A certificate opened for sealing: its row and a signer over its key and chain."""

    record: SealCertificate
    signer: ESealSigner

    @property
    def chain(self) -> list[x509.Certificate]:
        return self.signer.chain


# --- reading certificate files ----------------------------------------------------------


def load_pkcs12(
    data: bytes, password: str | None
) -> tuple[x509.Certificate, SealKey, list[x509.Certificate]]:
    """(leaf, key, other certificates) from a PKCS#12 file; clear errors for the usual mistakes."""
    try:
        key, cert, others = pkcs12.load_key_and_certificates(
            data, password.encode() if password else None
        )
    except ValueError:
        if looks_like_pkcs12(data):
            raise SealPasswordWrong(
                "cannot open the PKCS#12 file: wrong password"
                + ("" if password else " (none given)")
            ) from None
        raise SealCertificateError(
            "cannot open the file: it is not a PKCS#12 file (.p12 or .pfx)"
        ) from None
    if key is None:
        # A bag without a key lists its certificates as "additional", not as the key's.
        raise SealCertificateError(
            "the PKCS#12 file holds a certificate without its private key; export it with the key"
        )
    if cert is None:
        raise SealCertificateError("the PKCS#12 file holds a key but no certificate")
    return cert, _seal_key(key), list(others)


# DER of the PFX's content type, id-data (1.2.840.113549.1.7.1): a PKCS#12 file names it
# within its first bytes (RFC 7292, PFX ::= SEQUENCE { version, authSafe ContentInfo, … }).
_ID_DATA = bytes.fromhex("06092a864886f70d010701")


def looks_like_pkcs12(data: bytes) -> bool:
    """Whether `data` has the outer shape of a PKCS#12 file (a DER SEQUENCE, version 3, then
    id-data): tells "wrong password" from "not such a file" when opening fails."""
    return data[:1] == b"\x30" and _ID_DATA in data[:40] and b"\x02\x01\x03" in data[:12]


def load_pem(
    cert_pem: bytes, key_pem: bytes, chain_pem: bytes | None = None, key_password: str | None = None
) -> tuple[x509.Certificate, SealKey, list[x509.Certificate]]:
    """(leaf, key, other certificates) from PEM files; the certificate file may hold the chain."""
    try:
        certs = x509.load_pem_x509_certificates(cert_pem)
    except ValueError:
        raise SealCertificateError("the certificate file holds no PEM certificate") from None
    if not key_pem.strip() or b"PRIVATE KEY" not in key_pem:
        raise SealCertificateError("a certificate without a private key cannot seal: give --key")
    try:
        key = serialization.load_pem_private_key(
            key_pem, password=key_password.encode() if key_password else None
        )
    except TypeError:
        raise SealCertificateError("the private key is encrypted: give its password") from None
    except ValueError:
        raise SealCertificateError(
            "cannot read the private key: wrong password, or not a PEM private key"
        ) from None
    chain = certs[1:]
    if chain_pem:
        try:
            chain += x509.load_pem_x509_certificates(chain_pem)
        except ValueError:
            raise SealCertificateError("the chain file holds no PEM certificate") from None
    return certs[0], _seal_key(key), chain


def _seal_key(key: object) -> SealKey:
    if isinstance(key, rsa.RSAPrivateKey) and key.key_size >= 2048:
        return key
    if isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1):
        return key
    raise SealCertificateError("e-seal keys must be RSA (2048 bits or more) or EC P-256")


def order_chain(leaf: x509.Certificate, others: list[x509.Certificate]) -> list[x509.Certificate]:
    """Leaf first, then each issuer found among `others` (PKCS#12 bags are unordered)."""
    chain, pool, current = [leaf], list(others), leaf
    while pool and current.issuer != current.subject and len(chain) < _MAX_CHAIN:
        parent = next((c for c in pool if c.subject == current.issuer), None)
        if parent is None:
            break
        pool.remove(parent)
        chain.append(parent)
        current = parent
    return chain


# --- storing ------------------------------------------------------------------------------


def import_certificate(
    session: Session,
    master_key: MasterKey,
    organisation: Organisation,
    leaf: x509.Certificate,
    private_key: SealKey,
    others: Sequence[x509.Certificate] = (),
    *,
    now: datetime | None = None,
) -> SealCertificate:
    """Check and store a certificate as the organisation's active e-seal. Nothing is stored
    when a check fails."""
    now = now or datetime.now(UTC)
    if _spki(leaf.public_key()) != _spki(private_key.public_key()):
        raise SealCertificateError("the private key does not match the certificate")
    _check_validity(leaf, now)
    fingerprint = leaf.fingerprint(hashes.SHA256()).hex()
    existing = session.exec(
        select(SealCertificate).where(
            SealCertificate.organisation_id == organisation.id,
            SealCertificate.fingerprint == fingerprint,
        )
    ).first()
    if existing is not None:
        raise Conflict(f"this certificate is already imported for {organisation.slug!r}")
    identifier, country = eidas_identifier(leaf, organisation)
    chain = order_chain(leaf, list(others))
    for old in session.exec(
        select(SealCertificate).where(
            SealCertificate.organisation_id == organisation.id, SealCertificate.active
        )
    ):
        old.active = False
        session.add(old)
    record = SealCertificate(
        organisation_id=pk(organisation),
        fingerprint=fingerprint,
        subject=leaf.subject.rfc4514_string()[:1000],
        issuer=leaf.issuer.rfc4514_string()[:1000],
        serial=format(leaf.serial_number, "x"),
        organisation_identifier=identifier,
        country=country,
        algorithm="RS256" if isinstance(private_key, rsa.RSAPrivateKey) else "ES256",
        chain_pem="".join(
            c.public_bytes(serialization.Encoding.PEM).decode("ascii") for c in chain
        ),
        sealed_private_key=master_key.seal(
            private_key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
            key_id=_key_id(fingerprint),
        ),
        not_before=leaf.not_valid_before_utc,
        not_after=leaf.not_valid_after_utc,
        self_signed=leaf.issuer == leaf.subject,
    )
    session.add(record)
    session.flush()
    return record


def eidas_identifier(cert: x509.Certificate, organisation: Organisation) -> tuple[str, str]:
    """(legal identifier, country) for the EDC issuer's eIDASIdentifier.

    A qualified e-seal carries the organisation identifier (ETSI EN 319 412-1, e.g.
    ``VATBE-0123456789``) in its subject; without one the organisation's registration id
    stands in, and without either there is nothing to name the sealing body by.
    """
    org_ids = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_IDENTIFIER)
    countries = cert.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)
    country = str(countries[0].value).upper() if countries else organisation.country
    if org_ids:
        return str(org_ids[0].value), country
    if organisation.registration_id:
        return organisation.registration_id, country
    raise SealCertificateError(
        "the certificate has no organisationIdentifier (2.5.4.97) and the organisation no "
        "registration id: the credential's issuer could not be identified"
    )


def active_certificate(session: Session, organisation_id: int) -> SealCertificate | None:
    return session.exec(
        select(SealCertificate)
        .where(SealCertificate.organisation_id == organisation_id, SealCertificate.active)
        .order_by(col(SealCertificate.id).desc())
    ).first()


def list_certificates(session: Session, organisation_id: int) -> list[SealCertificate]:
    return list(
        session.exec(
            select(SealCertificate)
            .where(SealCertificate.organisation_id == organisation_id)
            .order_by(col(SealCertificate.id).desc())
        )
    )


def open_seal(
    session: Session, master_key: MasterKey, organisation_id: int, *, now: datetime | None = None
) -> OpenedSeal | None:
    """The organisation's active certificate opened for sealing, or None when it has none.

    An expired certificate is an error here, not at verification: it must not seal anew.
    """
    record = active_certificate(session, organisation_id)
    if record is None:
        return None
    chain = x509.load_pem_x509_certificates(record.chain_pem.encode("ascii"))
    _check_validity(chain[0], now or datetime.now(UTC))
    try:
        der = master_key.unseal(record.sealed_private_key, key_id=_key_id(record.fingerprint))
    except SealingError as exc:
        raise KeyStoreError(f"seal certificate {record.id} cannot be opened: {exc}") from None
    key = _seal_key(serialization.load_der_private_key(der, password=None))
    if _spki(key.public_key()) != _spki(chain[0].public_key()):
        raise KeyStoreError(f"seal certificate {record.id} is corrupt: its halves do not match")
    # The key type decides the algorithm (RS256 for RSA, ES256 for P-256), as at import.
    return OpenedSeal(record, ESealSigner(key, chain))


def _check_validity(cert: x509.Certificate, now: datetime) -> None:
    if now > cert.not_valid_after_utc:
        raise SealCertificateExpired(
            f"the e-seal certificate expired on {cert.not_valid_after_utc:%Y-%m-%d}; "
            "import a current one"
        )
    if now < cert.not_valid_before_utc:
        raise SealCertificateError(
            f"the e-seal certificate is not valid before {cert.not_valid_before_utc:%Y-%m-%d}"
        )


# --- test certificates --------------------------------------------------------------------


def generate_test_seal(
    organisation: Organisation, *, days: int = 730, now: datetime | None = None
) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    """A self-signed RSA e-seal certificate, labelled as a test in its CN and O."""
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    local = re.sub(r"[^A-Za-z0-9]", "", organisation.registration_id or "") or organisation.slug
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, organisation.country),
            # X.509 caps O at 64 characters; the label must survive the cut.
            x509.NameAttribute(
                NameOID.ORGANIZATION_NAME,
                f"{organisation.legal_name[: 61 - len(TEST_LABEL)]} ({TEST_LABEL})",
            ),
            # ETSI EN 319 412-1 semantics: NTR = national trade register.
            x509.NameAttribute(
                NameOID.ORGANIZATION_IDENTIFIER, f"NTR{organisation.country}-{local}"[:64]
            ),
            x509.NameAttribute(NameOID.COMMON_NAME, TEST_LABEL),
        ]
    )
    usage = x509.KeyUsage(
        digital_signature=True,
        content_commitment=True,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def ensure_demo_seals(session: Session, master_key: MasterKey) -> int:
    """Give every organisation without an e-seal certificate a self-signed TEST one."""
    added = 0
    for org in session.exec(select(Organisation).order_by(col(Organisation.id))):
        if active_certificate(session, pk(org)) is not None:
            continue
        cert, key = generate_test_seal(org)
        import_certificate(session, master_key, org, cert, key)
        added += 1
    return added


def _key_id(fingerprint: str) -> str:
    return f"seal-certificate:{fingerprint}"


def _spki(key: PublicKeyTypes) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
