"""JAdES seals: the Commission's signed EDC samples, our own seals, jwcrypto as an oracle."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from badges.proofs.jades import SealError, issuer_serial_der, seal, verify_seal
from keys.signer import Algorithm, eseal_signer
from tests.support.reference import reference

SIGNED_SAMPLES = ("Sample-MC-Annex1-signed.jsonld", "Sample-CertOfPart-signed.jsonld")
NOW = datetime.now(UTC)


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "DE"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Test Org"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def make_cert(
    key,
    cn: str,
    *,
    issuer: tuple[x509.Certificate, CertificateIssuerPrivateKeyTypes] | None = None,
    days: tuple[int, int] = (-1, 30),
    ca: bool = False,
    usage: bool = True,
) -> x509.Certificate:
    issuer_name, signing_key = (issuer[0].subject, issuer[1]) if issuer else (_name(cn), key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW + timedelta(days=days[0]))
        .not_valid_after(NOW + timedelta(days=days[1]))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if usage:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=not ca, content_commitment=not ca, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )  # fmt: skip
    return builder.sign(signing_key, hashes.SHA256())


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(65537, 2048)


@pytest.fixture(scope="module")
def ca(rsa_key) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    key = rsa.generate_private_key(65537, 2048)
    return make_cert(key, "Test Root CA", ca=True, days=(-10, 3650)), key


@pytest.fixture(scope="module")
def leaf(rsa_key, ca) -> x509.Certificate:
    return make_cert(rsa_key, "Test Seal", issuer=ca)


def _signed(name: str) -> bytes:
    return reference("elm", "samples", "official", name).read_bytes()


# --- the official samples -------------------------------------------------------------


@pytest.mark.parametrize("name", SIGNED_SAMPLES)
def test_official_signed_samples_are_intact_and_their_timestamp_outlives_the_certificate(
    name: str,
) -> None:
    report = verify_seal(_signed(name))

    assert report.intact, report.errors
    assert report.status_of("signature") == "ok"
    assert report.status_of("signing-time") == "ok"  # their sigT, read for older seals
    # The Commission's TEST e-seal certificate expired after the samples were sealed; their
    # signature timestamp (checked: imprint and TSA signature) proves it was sealed before.
    assert report.status_of("timestamp") == "warning"
    assert report.timestamp_time is not None and report.timestamp_time.year == 2023
    assert report.status_of("certificate-expiry") == "ok"
    assert report.status_of("qualified") == "skipped"
    assert report.status_of("archive-timestamps") == "skipped"
    # No trust anchor configured: intact but not trusted, never VALID.
    assert not report.valid and not report.trusted
    assert report.status_of("kid") is None  # their kid is the leaf's issuer-serial, as ours
    assert "TEST SEAL" in (report.signer or "")
    assert json.loads(report.payload or b"")["type"][-1] == "EuropeanDigitalCredential"


@pytest.mark.parametrize("name", SIGNED_SAMPLES)
def test_one_changed_byte_in_an_official_sample_breaks_the_seal(name: str) -> None:
    raw = _signed(name)
    at = raw.index(b"Andromeda")
    tampered = raw[:at] + b"B" + raw[at + 1 :]

    report = verify_seal(tampered)

    assert not report.valid
    assert report.status_of("signature") == "error"


def test_official_sample_header_shape_is_what_we_emit(rsa_key, leaf, ca) -> None:
    official = json.loads(_signed(SIGNED_SAMPLES[0]))
    ours = seal(b"{}", eseal_signer([leaf, ca[0]], rsa_key))

    def header(document: dict) -> dict:
        protected = document["signatures"][0]["protected"]
        return json.loads(base64.urlsafe_b64decode(protected + "=" * (-len(protected) % 4)))

    theirs, mine = header(official), header(ours)
    # Baseline-B is the official B-LTA header less the archive timestamp, with iat (integer
    # seconds, not critical) for their sigT, as current DSS expects.
    assert set(theirs) - {"adoTst", "sigT"} == set(mine) - {"iat"}
    for name in ("typ", "cty", "b64"):
        assert mine[name] == theirs[name]
    assert mine["crit"] == ["b64"]
    assert type(mine["iat"]) is int and abs(mine["iat"] - NOW.timestamp()) < 600
    assert base64.b64decode(mine["kid"]) == issuer_serial_der(leaf)


# --- our seals --------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["RS256", "PS256", "ES256"])
def test_our_seal_verifies_with_our_verifier_and_jwcrypto(algorithm: Algorithm, ca) -> None:
    from jwcrypto import jwk, jws

    key = (
        ec.generate_private_key(ec.SECP256R1())
        if algorithm == "ES256"
        else rsa.generate_private_key(65537, 2048)
    )
    cert = make_cert(key, "Seal", issuer=ca)
    payload = json.dumps({"name": "Ana Ándromeda", "n": 1}, ensure_ascii=False).encode()
    document = seal(payload, eseal_signer([cert, ca[0]], key, algorithm=algorithm))

    report = verify_seal(json.dumps(document), trust_anchors=[ca[0]])
    assert report.valid and report.status_of("chain") == "ok", report.checks
    assert report.payload == payload
    assert document["payload"] == payload.decode()  # unencoded: the JSON text itself

    # An independent JWS implementation, RFC 7797 mode: only b64 is critical now.
    token = jws.JWS()
    token.deserialize(json.dumps(document))
    public_key = cert.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey)
    token.verify(jwk.JWK.from_pyca(public_key), alg=algorithm)
    assert token.payload == payload.decode()


def test_one_changed_byte_breaks_our_seal_for_both_verifiers(rsa_key, leaf) -> None:
    from jwcrypto import jwk, jws

    document = seal(b'{"grade":"Pass"}', eseal_signer([leaf], rsa_key))
    document["payload"] = '{"grade":"Past"}'

    assert verify_seal(document).status_of("signature") == "error"
    token = jws.JWS()
    token.deserialize(json.dumps(document))
    with pytest.raises(jws.InvalidJWSSignature):
        token.verify(jwk.JWK.from_pyca(leaf.public_key()), alg="RS256")


def test_chain_is_checked_against_the_configured_anchors(rsa_key, leaf, ca) -> None:
    document = seal(b"{}", eseal_signer([leaf, ca[0]], rsa_key))
    other_key = rsa.generate_private_key(65537, 2048)
    other_root = make_cert(other_key, "Other Root", ca=True)

    assert verify_seal(document, trust_anchors=[ca[0]]).status_of("chain") == "ok"
    untrusted = verify_seal(document, trust_anchors=[other_root])
    assert untrusted.intact and untrusted.status_of("chain") == "warning"
    assert not untrusted.valid  # intact but not trusted
    # A certificate claiming the CA as issuer but signed by another key is an error.
    forged = make_cert(rsa_key, "Test Seal", issuer=(ca[0], other_key))
    assert (
        verify_seal(seal(b"{}", eseal_signer([forged], rsa_key)), trust_anchors=[ca[0]]).status_of(
            "chain"
        )
        == "error"
    )


def test_self_signed_seal_is_intact_but_not_trusted(rsa_key) -> None:
    cert = make_cert(rsa_key, "TEST - not a qualified e-seal")
    report = verify_seal(seal(b"{}", eseal_signer([cert], rsa_key)))
    assert report.intact and not report.valid and not report.trusted
    assert "self-signed" in next(c.message for c in report.checks if c.name == "chain")


def test_swapped_certificate_fails_the_header_binding(rsa_key, leaf, ca) -> None:
    document = seal(b"{}", eseal_signer([leaf], rsa_key))
    protected = document["signatures"][0]["protected"]
    header = json.loads(base64.urlsafe_b64decode(protected + "=" * (-len(protected) % 4)))
    header["x5c"] = [base64.b64encode(ca[0].public_bytes(Encoding.DER)).decode()]
    document["signatures"][0]["protected"] = (
        base64.urlsafe_b64encode(json.dumps(header).encode()).rstrip(b"=").decode()
    )
    report = verify_seal(document)
    assert not report.valid
    assert "x5t#S256" in next(c.message for c in report.checks if c.name == "header")


@pytest.mark.parametrize(
    "change",
    [
        {"b64": True},
        {"crit": ["b64", "exp"], "exp": 1},
        {"crit": ["b64", "sigT"]},  # critical but absent
        {"alg": "HS256"},
        {"alg": "none"},
    ],
)
def test_header_rules_are_enforced(rsa_key, leaf, change: dict) -> None:
    document = seal(b"{}", eseal_signer([leaf], rsa_key))
    protected = document["signatures"][0]["protected"]
    header = json.loads(base64.urlsafe_b64decode(protected + "=" * (-len(protected) % 4)))
    header.update(change)
    document["signatures"][0]["protected"] = (
        base64.urlsafe_b64encode(json.dumps(header).encode()).rstrip(b"=").decode()
    )
    report = verify_seal(document)
    assert not report.valid and report.status_of("header") == "error"


@pytest.mark.parametrize(
    "document",
    [
        "not json",
        "{}",
        '{"payload": "x", "signatures": []}',
        '{"payload": "x", "signatures": [{"protected": "!!", "signature": ""}]}',
    ],
)
def test_malformed_documents_are_reported_not_raised(document: str) -> None:
    report = verify_seal(document)
    assert not report.valid and report.status_of("format") == "error"


def test_expired_certificate_is_refused_at_sealing_time(rsa_key) -> None:
    expired = make_cert(rsa_key, "Old Seal", days=(-400, -1))
    with pytest.raises(SealError, match="expired"):
        seal(b"{}", eseal_signer([expired], rsa_key))


def test_a_key_that_does_not_match_the_certificate_is_refused(leaf) -> None:
    with pytest.raises(SealError, match="does not belong"):
        seal(b"{}", eseal_signer([leaf], rsa.generate_private_key(65537, 2048)))


def test_an_expired_certificate_without_a_timestamp_is_an_error(rsa_key) -> None:
    cert = make_cert(rsa_key, "Short Seal", days=(-30, -2))
    document = seal(b"{}", eseal_signer([cert], rsa_key), signing_time=NOW - timedelta(days=10))
    report = verify_seal(document, trust_anchors=[cert])
    # The claimed iat is the signer's word only: it proves nothing once the key may be lost.
    assert report.status_of("signing-time") == "ok"
    assert report.status_of("certificate-expiry") == "error"
    assert not report.intact


def test_key_usage_without_signing_is_an_error(rsa_key, ca) -> None:
    cert = make_cert(rsa_key, "Encrypt Only", issuer=ca, ca=True)  # keyCertSign only
    report = verify_seal(seal(b"{}", eseal_signer([cert], rsa_key)))
    assert report.status_of("key-usage") == "error"
