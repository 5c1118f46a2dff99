"""Proof sets, proof chains (previousProof) and the Data Integrity context for VC 1.1
(VC Data Integrity 1.0 §2.1.1-2.1.2, §2.4.1, §4.5), with our own keys and documents."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from badges.proofs import ProofError, proofs_of, verify_proof
from badges.proofs.data_integrity import proof_input
from badges.proofs.eddsa_rdfc_2022 import create_proof
from keys.did import did_key_verification_method, resolve_did_key
from keys.signer import KeySigner, from_private_key
from openbadges_schemas.loader import CREDENTIALS_V1, CREDENTIALS_V2, DATA_INTEGRITY_V2


def _signer() -> KeySigner:
    key = Ed25519PrivateKey.generate()
    return from_private_key(key, verification_method=did_key_verification_method(key.public_key()))


def _vc2() -> dict[str, Any]:
    return {
        "@context": [CREDENTIALS_V2, {"@vocab": "https://skillshub.example/vocab#"}],
        "id": "urn:uuid:0b0e8b47-8f5c-4d6c-9f9e-1d3c2a9f0b11",
        "type": ["VerifiableCredential"],
        "issuer": "did:example:issuer",
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:learner", "skill": "welding"},
    }


def _verify_all(document: dict[str, Any]) -> list[tuple[bool, str | None]]:
    results = []
    for proof in proofs_of(document):
        _, key = resolve_did_key(proof["verificationMethod"])
        check = verify_proof(document, proof, key)
        results.append((check.ok, check.error))
    return results


def test_a_proof_set_signs_the_document_without_the_other_proofs() -> None:
    first = create_proof(_vc2(), signer=_signer(), proof_id="urn:uuid:p1")
    both = create_proof(first, signer=_signer(), proof_id="urn:uuid:p2")
    assert [p["id"] for p in both["proof"]] == ["urn:uuid:p1", "urn:uuid:p2"]
    assert _verify_all(both) == [(True, None), (True, None)]
    # Each member is independent: dropping one leaves the other valid.
    assert _verify_all({**both, "proof": both["proof"][1]}) == [(True, None)]


def test_a_chained_proof_signs_over_the_proofs_it_names() -> None:
    first = create_proof(_vc2(), signer=_signer(), proof_id="urn:uuid:p1")
    chained = create_proof(first, signer=_signer(), previous_proof="urn:uuid:p1")
    assert chained["proof"][1]["previousProof"] == "urn:uuid:p1"
    assert _verify_all(chained) == [(True, None), (True, None)]
    # The chain covers the earlier proof: changing it breaks the later one as well.
    tampered = json.loads(json.dumps(chained))
    tampered["proof"][0]["created"] = "2020-01-01T00:00:00Z"
    assert [ok for ok, _ in _verify_all(tampered)] == [False, False]
    # And the earlier proof cannot be dropped from under it.
    alone = {**chained, "proof": [chained["proof"][1]]}
    [(ok, error)] = _verify_all(alone)
    assert not ok and error == "previousProof names no proof of the set: urn:uuid:p1"


def test_a_chain_given_as_a_list_of_ids() -> None:
    first = create_proof(_vc2(), signer=_signer(), proof_id="urn:uuid:p1")
    second = create_proof(first, signer=_signer(), proof_id="urn:uuid:p2")
    third = create_proof(second, signer=_signer(), previous_proof=["urn:uuid:p1", "urn:uuid:p2"])
    assert _verify_all(third) == [(True, None)] * 3
    assert proof_input(third, third["proof"][2])["proof"] == third["proof"][:2]


def test_a_dangling_previous_proof_is_refused_at_signing_and_at_verifying() -> None:
    first = create_proof(_vc2(), signer=_signer(), proof_id="urn:uuid:p1")
    with pytest.raises(ProofError, match="previousProof names no proof of the set: urn:uuid:x"):
        create_proof(first, signer=_signer(), previous_proof="urn:uuid:x")
    chained = create_proof(first, signer=_signer(), previous_proof="urn:uuid:p1")
    chained["proof"][1]["previousProof"] = "urn:uuid:gone"
    dangling = "previousProof names no proof of the set: urn:uuid:gone"
    assert _verify_all(chained)[1] == (False, dangling)
    chained["proof"][1]["previousProof"] = [7]
    assert _verify_all(chained)[1] == (
        False,
        "previousProof must be a proof id or a list of proof ids",
    )


def test_vc_1_1_is_signed_under_the_data_integrity_context() -> None:
    credential: dict[str, Any] = {
        "@context": [CREDENTIALS_V1, {"@vocab": "https://skillshub.example/vocab#"}],
        "id": "urn:uuid:8c2a4f0e-4b7e-4a5e-8a57-3f0d1c2b3a41",
        "type": ["VerifiableCredential"],
        "issuer": "did:example:issuer",
        "issuanceDate": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:learner", "skill": "welding"},
    }
    signed = create_proof(credential, signer=_signer())
    assert signed["@context"] == [*credential["@context"], DATA_INTEGRITY_V2]
    assert credential["@context"][-1] != DATA_INTEGRITY_V2  # the input is not changed
    assert _verify_all(signed) == [(True, None)]
    # A VC 2.0 credential already defines the proof terms: its @context is kept as it is.
    assert create_proof(_vc2(), signer=_signer())["@context"] == _vc2()["@context"]


def test_a_secured_document_that_is_not_a_map_is_an_error() -> None:
    signed = create_proof(_vc2(), signer=_signer())
    _, key = resolve_did_key(signed["proof"]["verificationMethod"])
    text = json.dumps(signed)
    check = verify_proof(text, signed["proof"], key)  # type: ignore[arg-type]  # text: what is tested
    assert not check.ok and check.error == "the secured document must be a JSON object"
