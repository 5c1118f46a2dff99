"""badges.verifying on credentials signed here: round trips, tampering, status, recipient,
limits, and our own issuers resolved from the database (SQLite and PostgreSQL)."""

from __future__ import annotations

import base64
import copy
import gzip
import json
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from badges import status
from badges.baking import bake_png, bake_svg
from badges.proofs import eddsa_rdfc_2022
from badges.proofs.vc_jwt import sign_compact_jws
from badges.report import Status
from badges.status import bitstring
from badges.verifying import (
    Fetcher,
    FetchPolicy,
    UnrecognisedInput,
    VerificationContext,
    VerifyOptions,
    verify,
)
from badges.verifying.fetching import UrlRefused
from badges.verifying.input import MalformedInput, TooComplex
from catalogue.base import pk
from catalogue.errors import PayloadTooLarge
from catalogue.models import Skill
from keys import store
from keys.jwk import b64url_encode
from keys.signer import from_private_key
from skillshub.settings import Settings
from skillshub.verifier import verification_context
from tests.support.own import EMAIL, ESCO_SKILL, SVG, Signer, credential, png_bytes
from tests.support.pinning import pin
from tests.support.present import check_of, present
from tests.support.world import make_world

LIST_URL = "https://status.academy.example/lists/1"


def offline(pinned: Any = None) -> VerificationContext:
    return VerificationContext(fetcher=Fetcher(FetchPolicy(offline=True), pinned=pinned))


def errors(report: Any) -> set[str]:
    return {check.id for check in report.errors}


@pytest.fixture
def signer() -> Signer:
    return Signer.ed25519()


# --- our own credentials ------------------------------------------------------------------


def test_data_integrity_round_trip(signer: Signer) -> None:
    report = verify(offline(), signer.data_integrity(credential(signer.did)))
    assert report.verdict == "valid", report.checks
    assert check_of(report, "proof").message == "Data Integrity eddsa-rdfc-2022 proof verified"
    assert "(did:key)" in check_of(report, "issuer_key").message
    assert report.summary.skills[0].name == "maintain battery systems"
    assert report.summary.skills[0].url == ESCO_SKILL


@pytest.mark.parametrize("make_signer", [Signer.ed25519, Signer.p256], ids=["EdDSA", "ES256"])
def test_jwt_round_trip(make_signer: Any) -> None:
    signer = make_signer()
    report = verify(offline(), signer.jwt(credential(signer.did)))
    assert report.verdict == "valid", report.checks
    assert check_of(report, "jwt_claims").status is Status.OK
    assert present(report.summary.proof_format).startswith("VC-JWT")


@pytest.mark.parametrize("container", ["png", "svg"])
@pytest.mark.parametrize("securing", ["di", "jwt"])
def test_baked_images(signer: Signer, container: str, securing: str) -> None:
    unsigned = credential(signer.did)
    signed = signer.data_integrity(unsigned) if securing == "di" else signer.jwt(unsigned)
    image = bake_png(png_bytes(), signed) if container == "png" else bake_svg(SVG, signed)
    report = verify(offline(), image)
    assert report.verdict == "valid"
    assert f"baked in a {container.upper()} image" in check_of(report, "format").message


# --- tampering -----------------------------------------------------------------------------


def test_changed_field_breaks_the_proof(signer: Signer) -> None:
    signed = signer.data_integrity(credential(signer.did))
    signed["credentialSubject"]["achievement"]["name"] = "Rocket science"
    report = verify(offline(), signed)
    assert report.verdict == "invalid" and errors(report) == {"proof"}


def test_swapped_proof(signer: Signer) -> None:
    first = signer.data_integrity(credential(signer.did, name="Welding basics"))
    second = signer.data_integrity(credential(signer.did))
    second["proof"] = first["proof"]
    assert errors(verify(offline(), second)) == {"proof"}


def test_another_key_than_the_issuers(signer: Signer) -> None:
    intruder = Signer.ed25519()
    forged = intruder.data_integrity(credential(signer.did))
    report = verify(offline(), forged)
    assert check_of(report, "proof").status is Status.OK  # a good signature…
    assert errors(report) == {"issuer_key"}  # …by someone who is not the issuer
    assert intruder.did in check_of(report, "issuer_key").message


def test_expired_and_not_yet_valid(signer: Signer) -> None:
    expired = signer.data_integrity(credential(signer.did, valid_until="2025-06-01T00:00:00Z"))
    assert errors(verify(offline(), expired)) == {"valid_until"}
    future = signer.jwt(credential(signer.did, valid_from="2999-01-01T00:00:00Z"))
    assert errors(verify(offline(), future)) == {"valid_from"}


def test_jwt_tampered_payload(signer: Signer) -> None:
    header, payload, signature = signer.jwt(credential(signer.did)).split(".")
    other = Signer.ed25519().jwt(credential(signer.did, name="Forged")).split(".")[1]
    assert errors(verify(offline(), f"{header}.{other}.{signature}")) == {"proof"}
    assert payload != other


def _token(header: dict[str, Any], payload: dict[str, Any], signature: bytes = b"x") -> str:
    encode = lambda value: b64url_encode(json.dumps(value).encode())  # noqa: E731
    return f"{encode(header)}.{encode(payload)}.{b64url_encode(signature)}"


def test_jwt_alg_none_and_key_confusion_refused(signer: Signer) -> None:
    payload = json.loads(json.dumps(credential(signer.did)))
    payload.update({"iss": signer.did, "jti": payload["id"], "nbf": 1735689600})
    none = verify(offline(), _token({"alg": "none", "kid": signer.method}, payload))
    assert "alg none" in check_of(none, "proof").message and none.verdict == "invalid"
    hs256 = verify(offline(), _token({"alg": "HS256", "kid": signer.method}, payload))
    assert "HS256" in check_of(hs256, "proof").message and hs256.verdict == "invalid"
    # ES256 claimed for an Ed25519 key: the key decides, the token does not.
    token = sign_compact_jws(
        {"alg": "EdDSA", "kid": signer.method}, json.dumps(payload).encode(), signer.signer
    )
    header = b64url_encode(json.dumps({"alg": "ES256", "kid": signer.method}).encode())
    confused = verify(offline(), header + token[token.index(".") :])
    assert errors(confused) == {"proof"}
    assert "does not match the verification key" in check_of(confused, "proof").message


def test_jwt_jwk_header_must_be_a_key_of_the_issuer(signer: Signer) -> None:
    from badges.proofs.vc_jwt import sign

    intruder = Signer.ed25519()
    unnamed = from_private_key(intruder.private_key)
    token = sign(credential(signer.did), signer=unnamed, embed_jwk=True)
    report = verify(offline(), token)
    assert errors(report) == {"issuer_key"}
    assert "not among the keys the issuer publishes" in check_of(report, "issuer_key").message


# --- status --------------------------------------------------------------------------------


def _status_list(signer: Signer, revoked: int, *, ttl: int | None = None) -> dict[str, Any]:
    bits = bytearray(bitstring.MIN_LIST_BITS // 8)
    bitstring.set_bit(bits, revoked, True)
    subject: dict[str, Any] = {
        "id": f"{LIST_URL}#list",
        "type": "BitstringStatusList",
        "statusPurpose": "revocation",
        "encodedList": bitstring.encode(bits),
    }
    if ttl is not None:
        subject["ttl"] = ttl
    return signer.data_integrity(
        {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "id": LIST_URL,
            "type": ["VerifiableCredential", "BitstringStatusListCredential"],
            "issuer": signer.did,
            "validFrom": "2025-01-01T00:00:00Z",
            "credentialSubject": subject,
        }
    )


def _entry(index: int) -> list[dict[str, Any]]:
    return [
        {
            "id": f"{LIST_URL}#{index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": str(index),
            "statusListCredential": LIST_URL,
        }
    ]


def test_revoked_and_not_revoked(signer: Signer, tmp_path: Path) -> None:
    context = offline(pin(tmp_path, {LIST_URL: _status_list(signer, revoked=7)}))
    revoked = verify(context, signer.data_integrity(credential(signer.did, status=_entry(7))))
    assert (
        errors(revoked) == {"status"}
        and "revoked by the issuer" in check_of(revoked, "status").message
    )
    current = verify(context, signer.jwt(credential(signer.did, status=_entry(8))))
    assert current.verdict == "valid" and check_of(current, "status").status is Status.OK


def test_status_list_is_cached_within_its_ttl(signer: Signer, tmp_path: Path) -> None:
    pinned = pin(tmp_path, {LIST_URL: _status_list(signer, revoked=7, ttl=60_000)})
    context = offline(pinned)
    signed = signer.data_integrity(credential(signer.did, status=_entry(8)))
    assert verify(context, signed).verdict == "valid"
    (tmp_path / "doc0.json").unlink()  # the list is gone, but still fresh in the cache
    assert verify(context, signed).verdict == "valid"
    assert verify(offline(pinned), signed).verdict == "indeterminate"  # a new cache


def test_a_status_list_shorter_than_the_minimum_is_an_error(signer: Signer, tmp_path: Path) -> None:
    """Bitstring Status List §3.2: fewer than 131,072 entries is STATUS_LIST_LENGTH_ERROR."""
    short = _status_list(signer, revoked=7)
    gzip_bytes = gzip.compress(bytes(1024), mtime=0)
    encoded = "u" + base64.urlsafe_b64encode(gzip_bytes).decode().rstrip("=")
    unsigned = {k: v for k, v in short.items() if k != "proof"}
    unsigned["credentialSubject"] = {**unsigned["credentialSubject"], "encodedList": encoded}
    context = offline(pin(tmp_path, {LIST_URL: signer.data_integrity(unsigned)}))
    report = verify(context, signer.data_integrity(credential(signer.did, status=_entry(8))))
    assert errors(report) == {"status"}
    assert "STATUS_LIST_LENGTH_ERROR" in check_of(report, "status").message
    assert "holds 8192 entries" in check_of(report, "status").message


def test_status_list_signed_by_someone_else(signer: Signer, tmp_path: Path) -> None:
    context = offline(pin(tmp_path, {LIST_URL: _status_list(Signer.ed25519(), revoked=7)}))
    report = verify(context, signer.data_integrity(credential(signer.did, status=_entry(8))))
    assert report.verdict == "indeterminate"
    assert "not by the credential's issuer" in check_of(report, "status").message


def test_unreachable_status_list_is_indeterminate(signer: Signer) -> None:
    report = verify(offline(), signer.data_integrity(credential(signer.did, status=_entry(8))))
    assert report.verdict == "indeterminate" and check_of(report, "status").indeterminate


def test_tampered_status_list(signer: Signer, tmp_path: Path) -> None:
    forged = _status_list(signer, revoked=7)
    forged["credentialSubject"]["encodedList"] = bitstring.encode(bytes(16384))
    context = offline(pin(tmp_path, {LIST_URL: forged}))
    report = verify(context, signer.data_integrity(credential(signer.did, status=_entry(7))))
    assert errors(report) == {"status"} and "does not verify" in check_of(report, "status").message


# --- recipient -----------------------------------------------------------------------------


def test_recipient_email(signer: Signer) -> None:
    signed = signer.data_integrity(credential(signer.did))
    match = verify(offline(), signed, options=VerifyOptions(recipient_email=f" {EMAIL.upper()} "))
    assert check_of(match, "recipient").status is Status.OK
    assert match.summary.recipient.email == EMAIL.upper()
    other = verify(offline(), signed, options=VerifyOptions(recipient_email="eve@example.org"))
    assert errors(other) == {"recipient"} and other.summary.recipient.email is None
    unasked = verify(offline(), signed)
    assert check_of(unasked, "recipient").status is Status.SKIPPED
    assert unasked.summary.recipient.identifier_types == ["emailAddress (hashed)"]
    assert EMAIL not in json.dumps(unasked.to_json())


# --- limits --------------------------------------------------------------------------------


def test_input_limits(signer: Signer) -> None:
    context = offline()
    deep: Any = {}
    for _ in range(100):
        deep = {"a": deep}
    with pytest.raises(TooComplex):
        verify(context, {"@context": [], "x": deep})
    with pytest.raises(TooComplex):
        verify(context, {"@context": [], "x": [[] for _ in range(6000)]})
    with pytest.raises(PayloadTooLarge):
        verify(context, b"{" + b" " * (6 * 1024 * 1024) + b"}")
    with pytest.raises(MalformedInput):
        verify(context, b'{"id": 1, "id": 2}')
    with pytest.raises(MalformedInput):
        verify(context, b'{"id": ')
    for garbage in (b"hello", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, png_bytes(), b"<svg/>"):
        with pytest.raises(UnrecognisedInput):
            verify(context, garbage)


def test_blank_node_cap_is_a_clear_error(signer: Signer) -> None:
    crowded = credential(signer.did)
    alignment = crowded["credentialSubject"]["achievement"]["alignment"][0]
    crowded["credentialSubject"]["achievement"]["alignment"] = [
        {**copy.deepcopy(alignment), "targetCode": str(n)} for n in range(1200)
    ]
    crowded["proof"] = {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "verificationMethod": signer.method,
        "proofPurpose": "assertionMethod",
        "proofValue": "z" + "1" * 60,
    }
    with pytest.raises(TooComplex, match="blank nodes"):
        verify(offline(), crowded)


def test_url_input_is_fetched_safely() -> None:
    with pytest.raises(UrlRefused):
        verify(offline(), "https://10.0.0.1/credential.json")


# --- our own issuers, from the database ---------------------------------------------------


def test_own_issuer_resolved_from_the_database(
    session: Session, master_key: str, tmp_path: Path
) -> None:
    world = make_world(session, master_key, public_https=True)
    base_url = "https://voltacademy.example"
    settings = Settings(data_dir=tmp_path, base_url=base_url, fetch_offline=True)
    context = verification_context(settings).bound(session)
    entries = status.allocate_entries(
        session, world.master_key, issuer=world.issuer, base_url=base_url, credential_uuid="c-1"
    )
    session.add(
        Skill(iri=ESCO_SKILL, slug="maintain-battery", preferred_label="maintain batteries")
    )
    session.flush()
    unsigned = credential(world.issuer.did, status=entries)
    key = store.signer(session, world.master_key, pk(world.issuer), "Ed25519")
    signed = eddsa_rdfc_2022.create_proof(unsigned, signer=key)
    report = verify(context, signed)
    assert report.verdict == "valid", report.checks
    assert "(this deployment)" in check_of(report, "issuer_key").message
    assert check_of(report, "status").message.startswith("not revoked")
    assert report.summary.skills[0].catalogue_label == "maintain batteries"

    jwt_key = store.jwt_signer(session, world.master_key, pk(world.issuer))
    from badges.proofs.vc_jwt import sign

    token = sign(unsigned, signer=jwt_key)
    assert verify(context, token).verdict == "valid"

    # A did:web under our BASE_URL that we do not publish is a definitive no.
    stranger = Signer.ed25519()
    ghost = "did:web:voltacademy.example:issuers:ghost"
    forged = credential(ghost)
    forged["proof"] = stranger.data_integrity(forged)["proof"]
    forged["proof"]["verificationMethod"] = f"{ghost}#{stranger.method.split('#')[1]}"
    report = verify(context, forged)
    assert errors(report) == {"issuer_key"} and "does not publish" not in report.checks[0].message
    assert "not an identifier this deployment publishes" in check_of(report, "issuer_key").message
