"""JAdES-B-T: signature timestamps from a local RFC 3161 TSA made by the test, iat, and the
trust verdicts (intact but not trusted; expiry rescued only by a timestamp)."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding

from badges.proofs.jades import issuer_serial_der, seal, verify_seal
from badges.proofs.timestamps import TimestampError, check_token, request_token, timestamper
from keys.signer import eseal_signer
from tests.badges.proofs.test_jades import make_cert
from tests.support.tsa import LocalTsa, running_tsa

NOW = datetime.now(UTC)


@pytest.fixture(scope="module")
def tsa() -> Iterator[LocalTsa]:
    with running_tsa() as server:
        yield server


@pytest.fixture
def fresh_tsa(tsa: LocalTsa) -> Iterator[LocalTsa]:
    yield tsa
    tsa.clock = lambda: datetime.now(UTC)
    tsa.refuse = tsa.tamper_imprint = False


@pytest.fixture(scope="module")
def ca() -> tuple:
    key = rsa.generate_private_key(65537, 2048)
    return make_cert(key, "Seal Root CA", ca=True, days=(-100, 3650)), key


def _unsigned(document: dict) -> dict:
    item = document["signatures"][0]["header"]["etsiU"][0]
    return json.loads(base64.urlsafe_b64decode(item + "=" * (-len(item) % 4)))


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_b_t_seal_carries_a_signature_timestamp_that_verifies(fresh_tsa: LocalTsa, ca) -> None:
    key = rsa.generate_private_key(65537, 2048)
    cert = make_cert(key, "Seal", issuer=ca)
    document = seal(
        b'{"a":1}', eseal_signer([cert, ca[0]], key), timestamper=timestamper(fresh_tsa.url)
    )

    token = base64.b64decode(_unsigned(document)["sigTst"]["tstTokens"][0]["val"])
    signature = document["signatures"][0]["signature"]
    # JAdES: the imprint is over the base64url text of the signature value.
    assert check_token(token, signature.encode(), [fresh_tsa.root]).trusted

    report = verify_seal(document, trust_anchors=[ca[0], fresh_tsa.root])
    assert report.valid, report.checks
    assert report.status_of("timestamp") == "ok"
    assert report.timestamp_time is not None
    assert abs((report.timestamp_time - NOW).total_seconds()) < 600

    # The seal's chain is trusted but the TSA's is not: intact, not trusted.
    partly = verify_seal(document, trust_anchors=[ca[0]])
    assert partly.intact and not partly.valid
    assert partly.status_of("timestamp") == "warning" and partly.status_of("chain") == "ok"


def test_a_timestamp_over_another_signature_is_an_error(fresh_tsa: LocalTsa, ca) -> None:
    key = rsa.generate_private_key(65537, 2048)
    cert = make_cert(key, "Seal", issuer=ca)
    signer = eseal_signer([cert, ca[0]], key)
    first = seal(b'{"a":1}', signer, timestamper=timestamper(fresh_tsa.url))
    second = seal(b'{"a":2}', signer, timestamper=timestamper(fresh_tsa.url))
    second["signatures"][0]["header"] = first["signatures"][0]["header"]

    report = verify_seal(second, trust_anchors=[ca[0], fresh_tsa.root])
    assert report.status_of("signature") == "ok"
    assert report.status_of("timestamp") == "error" and not report.intact


def test_a_timestamp_before_expiry_keeps_an_expired_seal_valid(fresh_tsa: LocalTsa, ca) -> None:
    key = rsa.generate_private_key(65537, 2048)
    cert = make_cert(key, "Short Seal", issuer=ca, days=(-30, -2))
    made = NOW - timedelta(days=10)
    fresh_tsa.clock = lambda: made
    document = seal(
        b"{}",
        eseal_signer([cert, ca[0]], key),
        signing_time=made,
        timestamper=timestamper(fresh_tsa.url),
    )

    report = verify_seal(document, trust_anchors=[ca[0], fresh_tsa.root])
    assert report.valid, report.checks
    assert report.status_of("certificate-expiry") == "ok"
    assert "a timestamp proves" in next(
        c.message for c in report.checks if c.name == "certificate-expiry"
    )


def test_a_timestamp_after_expiry_does_not_rescue_the_seal(fresh_tsa: LocalTsa, ca) -> None:
    key = rsa.generate_private_key(65537, 2048)
    cert = make_cert(key, "Short Seal", issuer=ca, days=(-30, -2))
    # The signer claims an old iat; the TSA says the seal was made today, after expiry.
    document = seal(
        b"{}",
        eseal_signer([cert, ca[0]], key),
        signing_time=NOW - timedelta(days=10),
        timestamper=timestamper(fresh_tsa.url),
    )
    report = verify_seal(document, trust_anchors=[ca[0], fresh_tsa.root])
    assert report.status_of("timestamp") == "ok"
    assert report.status_of("certificate-expiry") == "error" and not report.valid


def test_a_tsa_that_refuses_or_stamps_another_imprint_gives_no_token(
    fresh_tsa: LocalTsa,
) -> None:
    fresh_tsa.refuse = True
    with pytest.raises(TimestampError, match="refused"):
        request_token(fresh_tsa.url, b"x")
    fresh_tsa.refuse, fresh_tsa.tamper_imprint = False, True
    with pytest.raises(TimestampError, match="another imprint"):
        request_token(fresh_tsa.url, b"x")


def test_an_unreachable_tsa_is_a_clear_error() -> None:
    with running_tsa() as gone:
        url = gone.url
    with pytest.raises(TimestampError, match="unreachable"):
        request_token(url, b"x", timeout=2)


def test_an_older_sigt_seal_still_verifies(ca) -> None:
    """Seals made before iat: sigT in crit, as ours were and the samples are."""
    key = rsa.generate_private_key(65537, 2048)
    cert = make_cert(key, "Seal", issuer=ca)

    der = cert.public_bytes(Encoding.DER)
    header = {
        "alg": "RS256",
        "cty": "octet-stream",
        "kid": base64.b64encode(issuer_serial_der(cert)).decode(),
        "x5t#S256": _b64url(hashlib.sha256(der).digest()),
        "x5c": [base64.b64encode(der).decode()],
        "typ": "jose+json",
        "b64": False,
        "sigT": (NOW - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "crit": ["b64", "sigT"],
    }
    protected = _b64url(json.dumps(header).encode())
    signature = key.sign(protected.encode() + b".{}", padding.PKCS1v15(), hashes.SHA256())
    document = {
        "payload": "{}",
        "signatures": [{"protected": protected, "signature": _b64url(signature)}],
    }

    report = verify_seal(document, trust_anchors=[ca[0]])
    assert report.valid, report.checks
    assert report.signing_time == (NOW - timedelta(hours=1)).replace(microsecond=0)
