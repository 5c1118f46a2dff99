"""E-seal certificates: PKCS#12 and PEM import, refusals that store nothing, sealed keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from sqlmodel import Session, select

from badges.proofs.jades import seal, verify_seal
from catalogue.base import pk
from catalogue.errors import Conflict
from catalogue.models import Organisation
from catalogue.organisations import create_organisation
from keys import eseal
from keys.eseal import SealCertificateError, SealCertificateExpired
from keys.eseal_models import SealCertificate
from keys.sealing import MasterKey, generate_master_key
from keys.store import KeyStoreError

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def org(session: Session) -> Organisation:
    return create_organisation(
        session, legal_name="Volt Academy GmbH", country="DE", slug="volt", registration_id="HRB 1"
    )


@pytest.fixture
def mk(master_key: str) -> MasterKey:
    return MasterKey(master_key)


def _ca_and_leaf(
    *, days: tuple[int, int] = (-1, 365), leaf_key=None
) -> tuple[x509.Certificate, x509.Certificate, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey]:
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test QTSP CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(1)
        .not_valid_before(NOW - timedelta(days=30))
        .not_valid_after(NOW + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = leaf_key or rsa.generate_private_key(65537, 2048)
    leaf = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.COUNTRY_NAME, "BE"),
                    x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, "VATBE-0123456789"),
                    x509.NameAttribute(NameOID.COMMON_NAME, "Volt Academy seal"),
                ]
            )
        )
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW + timedelta(days=days[0]))
        .not_valid_after(NOW + timedelta(days=days[1]))
        .sign(ca_key, hashes.SHA256())
    )
    return ca, leaf, key


def _p12(leaf, key, cas, password: bytes | None = b"s3cret") -> bytes:
    encryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return pkcs12.serialize_key_and_certificates(b"seal", key, leaf, cas, encryption)


def _pem(obj) -> bytes:
    if isinstance(obj, x509.Certificate):
        return obj.public_bytes(serialization.Encoding.PEM)
    return obj.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _count(session: Session) -> int:
    return len(session.exec(select(SealCertificate)).all())


def test_pkcs12_import_stores_chain_and_sealed_key(session: Session, org, mk) -> None:
    ca, leaf, key = _ca_and_leaf()
    loaded = eseal.load_pkcs12(_p12(leaf, key, [ca]), "s3cret")
    record = eseal.import_certificate(session, mk, org, *loaded)

    assert record.organisation_identifier == "VATBE-0123456789" and record.country == "BE"
    assert record.algorithm == "RS256" and not record.self_signed
    assert record.chain_pem.count("BEGIN CERTIFICATE") == 2
    clear = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    assert clear not in record.sealed_private_key

    opened = eseal.open_seal(session, mk, pk(org))
    assert opened is not None and opened.chain[0] == leaf and opened.chain[1] == ca
    report = verify_seal(seal(b"{}", opened.signer), trust_anchors=[ca])
    assert report.valid and report.status_of("chain") == "ok"


def test_pem_import_with_separate_chain_file(session: Session, org, mk) -> None:
    ca, leaf, key = _ca_and_leaf(leaf_key=ec.generate_private_key(ec.SECP256R1()))
    record = eseal.import_certificate(
        session, mk, org, *eseal.load_pem(_pem(leaf), _pem(key), _pem(ca))
    )
    assert record.algorithm == "ES256"
    assert eseal.open_seal(session, mk, pk(org)) is not None


def test_wrong_pkcs12_password_is_a_clear_error(session: Session, org) -> None:
    ca, leaf, key = _ca_and_leaf()
    with pytest.raises(SealCertificateError, match="wrong password"):
        eseal.load_pkcs12(_p12(leaf, key, [ca]), "not-the-password")
    assert _count(session) == 0


def test_pkcs12_with_a_certificate_but_no_key_is_refused(session: Session, org) -> None:
    _ca, leaf, _key = _ca_and_leaf()
    data = _p12(leaf, None, [], password=None)
    with pytest.raises(SealCertificateError, match="without its private key"):
        eseal.load_pkcs12(data, None)


def test_pem_certificate_without_a_key_is_refused() -> None:
    _ca, leaf, _key = _ca_and_leaf()
    with pytest.raises(SealCertificateError, match="without a private key"):
        eseal.load_pem(_pem(leaf), b"")
    with pytest.raises(SealCertificateError, match="without a private key"):
        eseal.load_pem(_pem(leaf), _pem(leaf))  # a certificate given as the key


def test_key_that_does_not_match_is_refused_and_nothing_stored(session: Session, org, mk) -> None:
    _ca, leaf, _key = _ca_and_leaf()
    other = rsa.generate_private_key(65537, 2048)
    with pytest.raises(SealCertificateError, match="does not match"):
        eseal.import_certificate(session, mk, org, leaf, other)
    assert _count(session) == 0


def test_weak_keys_are_refused() -> None:
    _ca, leaf, _key = _ca_and_leaf()
    weak = rsa.generate_private_key(65537, 1024)
    with pytest.raises(SealCertificateError, match="2048"):
        eseal.load_pem(_pem(leaf), _pem(weak))


def test_expired_certificate_is_refused_at_import(session: Session, org, mk) -> None:
    _ca, leaf, key = _ca_and_leaf(days=(-400, -1))
    with pytest.raises(SealCertificateExpired, match="expired"):
        eseal.import_certificate(session, mk, org, leaf, key)
    assert _count(session) == 0


def test_certificate_that_expired_since_import_cannot_seal(session: Session, org, mk) -> None:
    _ca, leaf, key = _ca_and_leaf(days=(-1, 10))
    eseal.import_certificate(session, mk, org, leaf, key)
    with pytest.raises(SealCertificateExpired):
        eseal.open_seal(session, mk, pk(org), now=NOW + timedelta(days=11))


def test_same_certificate_twice_is_a_conflict(session: Session, org, mk) -> None:
    _ca, leaf, key = _ca_and_leaf()
    eseal.import_certificate(session, mk, org, leaf, key)
    with pytest.raises(Conflict):
        eseal.import_certificate(session, mk, org, leaf, key)


def test_a_new_import_replaces_the_active_certificate(session: Session, org, mk) -> None:
    first = eseal.import_certificate(session, mk, org, *_ca_and_leaf()[1:])
    second = eseal.import_certificate(session, mk, org, *_ca_and_leaf()[1:])
    session.refresh(first)
    assert not first.active and second.active
    assert eseal.active_certificate(session, pk(org)) == second


def test_another_master_key_cannot_open_the_seal(session: Session, org, mk) -> None:
    eseal.import_certificate(session, mk, org, *_ca_and_leaf()[1:])
    with pytest.raises(KeyStoreError):
        eseal.open_seal(session, MasterKey(generate_master_key()), pk(org))


def test_demo_seals_are_labelled_self_signed_and_idempotent(session: Session, org, mk) -> None:
    assert eseal.ensure_demo_seals(session, mk) == 1
    assert eseal.ensure_demo_seals(session, mk) == 0
    record = eseal.active_certificate(session, pk(org))
    assert record is not None and record.self_signed
    assert eseal.TEST_LABEL in record.subject
    cert = x509.load_pem_x509_certificate(record.chain_pem.encode())
    for oid in (NameOID.COMMON_NAME, NameOID.ORGANIZATION_NAME):
        assert eseal.TEST_LABEL in cert.subject.get_attributes_for_oid(oid)[0].value
    assert record.organisation_identifier == "NTRDE-HRB1"
    opened = eseal.open_seal(session, mk, pk(org))
    assert opened is not None
    report = verify_seal(seal(b"{}", opened.signer))
    assert (
        report.intact
        and not report.valid
        and "self-signed" in next(c.message for c in report.checks if c.name == "chain")
    )
