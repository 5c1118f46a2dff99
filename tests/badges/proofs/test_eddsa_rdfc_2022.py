"""eddsa-rdfc-2022 against the W3C, OB Implementation Guide and cross-stack vectors."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from badges.proofs import ProofCheck, ProofError, proofs_of, verify_proof
from badges.proofs.canonicalize import canonicalize
from badges.proofs.data_integrity import encode_proof_value, hash_data
from badges.proofs.eddsa_rdfc_2022 import create_proof
from badges.proofs.eddsa_rdfc_2022 import verify_proof as verify_eddsa_rdfc_2022
from keys.did import did_key_verification_method, resolve_did_key
from keys.multikey import decode_private_key, decode_public_key
from keys.signer import from_private_key
from tests.support.reference import reference


def _path(*parts: str) -> Path:
    return reference("ob3", "examples", *parts)


def _json(*parts: str) -> Any:
    return json.loads(_path(*parts).read_text())


def _text(*parts: str) -> str:
    return _path(*parts).read_text()


def _key_from_method(verification_method: str):
    """The spec and 1EdTech fixtures use did:key or name the Multikey in the fragment."""
    if verification_method.startswith("did:key:"):
        return resolve_did_key(verification_method)[1]
    return decode_public_key(verification_method.rsplit("#", 1)[1])


# --- W3C vc-di-eddsa TestVectors/eddsa-rdfc-2022 -------------------------------------


def _w3c(name: str) -> str:
    return _text("w3c-vc-di-eddsa", "eddsa-rdfc-2022", name).strip()


def test_w3c_vector_intermediate_values() -> None:
    unsigned = _json("w3c-vc-di-eddsa", "unsigned.json")
    proof_config = _json("w3c-vc-di-eddsa", "eddsa-rdfc-2022", "proofConfigDataInt.json")
    canon_doc = canonicalize(unsigned)
    canon_proof = canonicalize(proof_config)
    assert canon_doc == _text("w3c-vc-di-eddsa", "eddsa-rdfc-2022", "canonDocDataInt.txt")
    assert canon_proof == _text("w3c-vc-di-eddsa", "eddsa-rdfc-2022", "proofCanonDataInt.txt")
    assert hashlib.sha256(canon_doc.encode()).hexdigest() == _w3c("docHashDataInt.txt")
    assert hashlib.sha256(canon_proof.encode()).hexdigest() == _w3c("proofHashDataInt.txt")
    assert hash_data(unsigned, proof_config).hex() == _w3c("combinedHashDataInt.txt")


def test_w3c_vector_signature_and_signed_document() -> None:
    pair = _json("w3c-vc-di-eddsa", "keyPair.json")
    private_key = decode_private_key(pair["privateKeyMultibase"])
    assert isinstance(private_key, Ed25519PrivateKey)
    config = _json("w3c-vc-di-eddsa", "eddsa-rdfc-2022", "proofConfigDataInt.json")
    signed = create_proof(
        _json("w3c-vc-di-eddsa", "unsigned.json"),
        signer=from_private_key(private_key, verification_method=config["verificationMethod"]),
        proof_purpose=config["proofPurpose"],
        created=config["created"],
    )
    signature = private_key.sign(bytes.fromhex(_w3c("combinedHashDataInt.txt")))
    assert signature.hex() == _w3c("sigHexDataInt.txt")
    assert signed["proof"]["proofValue"] == _w3c("sigBTC58DataInt.txt")
    assert signed == _json("w3c-vc-di-eddsa", "eddsa-rdfc-2022", "signedDataInt.json")
    check = verify_eddsa_rdfc_2022(
        signed, signed["proof"], decode_public_key(pair["publicKeyMultibase"])
    )
    assert check.ok, check.error


# --- OB 3.0 Implementation Guide: Linked Data Proof test vector ----------------------


def _guide(name: str) -> Any:
    return _json("ob3-impl-guide-ldp-test-vector", name)


def test_ob_implementation_guide_vector() -> None:
    keys, options, hashes = (
        _guide("key-pair.json"),
        _guide("proof-options.json"),
        _guide("hashes.json"),
    )
    unsigned = _guide("credential.unsigned.json")
    proof_config = {**options, "@context": unsigned["@context"]}
    canon_doc, canon_proof = canonicalize(unsigned), canonicalize(proof_config)
    assert canon_doc == _text("ob3-impl-guide-ldp-test-vector", "document-canon.txt")
    assert canon_proof == _text("ob3-impl-guide-ldp-test-vector", "proof-canon.txt")
    assert hashlib.sha256(canon_doc.encode()).hexdigest() == hashes["documentHashHex"]
    assert hashlib.sha256(canon_proof.encode()).hexdigest() == hashes["proofHashHex"]
    assert hash_data(unsigned, proof_config).hex() == hashes["dataToSignHex"]

    private_key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(keys["privateKeyHex"])[:32])
    signed = create_proof(
        unsigned,
        signer=from_private_key(private_key, verification_method=options["verificationMethod"]),
        proof_purpose=options["proofPurpose"],
        created=options["created"],
    )
    signature = private_key.sign(bytes.fromhex(hashes["dataToSignHex"]))
    assert signature.hex() == hashes["signatureHex"]
    assert encode_proof_value(signature) == hashes["proofValue"]
    assert signed == _guide("credential.signed.json")


# --- cross-stack golden: Digital Bazaar and openbadgeslib agree with us --------------


def test_cross_stack_golden() -> None:
    seed = bytes.fromhex(_text("cross-stack-golden", "key.seed").strip())
    private_key = Ed25519PrivateKey.from_private_bytes(seed)
    theirs = [
        _json("cross-stack-golden", "signed_by_digitalbazaar.json"),
        _json("cross-stack-golden", "signed_by_openbadgeslib.json"),
    ]
    method = did_key_verification_method(private_key.public_key())
    ours = create_proof(
        _json("cross-stack-golden", "sample_unsigned.json"),
        signer=from_private_key(private_key, verification_method=method),
        created="2025-09-01T12:00:00Z",
    )
    assert ours == theirs[0]
    for signed in theirs:
        assert signed["proof"]["verificationMethod"] == method
        assert signed["proof"]["proofValue"] == ours["proof"]["proofValue"]
        check = verify_eddsa_rdfc_2022(signed, signed["proof"], private_key.public_key())
        assert check.ok, check.error


# --- published signed credentials verify ---------------------------------------------

SPEC_EXAMPLES = [
    "01-sample-openbadgecredential-file-contents",
    "02-sample-openbadgecredential",
    "03-complete-openbadgecredential",
    "04-sample-endorsementcredential",
    "05-achievement-alignment-case",
    "06-achievement-alignment-credential-engine",
    "07-skill-assertion-case",
    "08-skill-assertion-credential-registry",
]


@pytest.mark.parametrize("example", SPEC_EXAMPLES)
def test_ob_spec_signed_examples_verify(example: str) -> None:
    signed = _json("ob3-spec-rendered", example, "credential.signed-eddsa-rdfc-2022.json")
    (proof,) = proofs_of(signed)
    check = verify_eddsa_rdfc_2022(signed, proof, _key_from_method(proof["verificationMethod"]))
    assert check.ok, check.error
    assert check.verification_method == proof["verificationMethod"]
    assert check.proof_purpose == "assertionMethod"


# The files PROVENANCE.md lists as verifying (eddsa-rdfc-2022, eddsa-2022, Ed25519Signature2020).
VALIDATOR_VERIFYING = [
    "simple.json",
    "simple.1ob.json",
    "simple-did-key-method.json",
    "simple-did-web-method.json",
    "complete.json",
    "endorsement-valid.json",
    "simple-context-alias.json",
    "simple-context-version.json",
    "simple_v1.json",
    "simple-eddsa-2022.json",
    "credential-status-revoked.json",
    "bit-string-list/credential-status-revoked.json",
    "bit-string-list/credential-status-revoked-blank-nodes.json",
    "bit-string-list/testlist.status-list-credential.json",
]


@pytest.mark.parametrize("name", VALIDATOR_VERIFYING)
def test_1edtech_validator_fixtures_verify(name: str) -> None:
    signed = _json("1edtech-validator-ob30", *name.split("/"))
    (proof,) = proofs_of(signed)
    check = verify_proof(signed, proof, _key_from_method(proof["verificationMethod"]))
    assert check.ok, check.error


def test_proof_set_member_verifies_and_unknown_suite_is_reported() -> None:
    signed = _json("1edtech-validator-ob30", "simple-multiple-proofs.json")
    other, ours = proofs_of(signed)
    check = verify_proof(signed, ours, _key_from_method(ours["verificationMethod"]))
    assert check.ok, check.error
    unsupported = verify_proof(signed, other, None)
    assert not unsupported.ok
    assert "SomeProofType" in (unsupported.error or "")


def test_1edtech_bad_proof_value_fails() -> None:
    signed = _json("1edtech-validator-ob30", "simple-err-proof-value.json")
    (proof,) = proofs_of(signed)
    check = verify_proof(signed, proof, _key_from_method(proof["verificationMethod"]))
    assert not check.ok
    assert "signature does not match" in (check.error or "")


# --- tampering and misuse -------------------------------------------------------------


@pytest.fixture
def signed_example() -> tuple[dict[str, Any], dict[str, Any], Any]:
    """OB spec example 02 and its one proof (the spec writes it as a proof set)."""
    signed = _json("ob3-spec-rendered", SPEC_EXAMPLES[1], "credential.signed-eddsa-rdfc-2022.json")
    (proof,) = proofs_of(signed)
    return signed, proof, _key_from_method(proof["verificationMethod"])


def _one_char_changed(text: str) -> str:
    middle = len(text) // 2
    return text[:middle] + ("X" if text[middle] != "X" else "Y") + text[middle + 1 :]


def test_one_character_tamper_in_the_document_fails(signed_example) -> None:
    signed, proof, public_key = signed_example
    tampered = {**signed, "name": _one_char_changed(signed["name"])}
    check = verify_eddsa_rdfc_2022(tampered, proof, public_key)
    assert not check.ok
    assert "signature does not match" in (check.error or "")


def test_one_character_tamper_in_the_proof_options_fails(signed_example) -> None:
    signed, proof, public_key = signed_example
    proof = {**proof, "created": proof["created"].replace("1", "2", 1)}
    assert not verify_eddsa_rdfc_2022(signed, proof, public_key).ok


def test_one_character_tamper_in_the_proof_value_fails(signed_example) -> None:
    signed, proof, public_key = signed_example
    proof_value = proof["proofValue"]
    proof = {
        **proof,
        "proofValue": proof_value[:-1] + ("2" if proof_value[-1] != "2" else "3"),
    }
    assert not verify_eddsa_rdfc_2022(signed, proof, public_key).ok


def test_wrong_key_fails(signed_example) -> None:
    signed, proof, _ = signed_example
    other_key = Ed25519PrivateKey.generate().public_key()
    assert not verify_eddsa_rdfc_2022(signed, proof, other_key).ok


def test_undefined_term_added_after_signing_fails_with_reason(signed_example) -> None:
    signed, proof, public_key = signed_example
    tampered = {**signed, "evidence": [{"type": ["Evidence"], "foo": "bar"}]}
    check = verify_eddsa_rdfc_2022(tampered, proof, public_key)
    assert not check.ok
    assert "undefined term 'foo'" in (check.error or "")


def test_unknown_context_fails_with_reason(signed_example) -> None:
    signed, proof, public_key = signed_example
    tampered = {**signed, "@context": [*signed["@context"], "https://evil.example/ctx"]}
    check = verify_eddsa_rdfc_2022(tampered, proof, public_key)
    assert not check.ok
    assert "not pinned" in (check.error or "")


def test_other_suite_is_not_accepted(signed_example) -> None:
    signed, proof, public_key = signed_example
    proof = {**proof, "cryptosuite": "eddsa-jcs-2022"}
    check = verify_eddsa_rdfc_2022(signed, proof, public_key)
    assert not check.ok
    assert "eddsa-jcs-2022" in (check.error or "")


def test_proof_context_must_prefix_the_document_context(signed_example) -> None:
    signed, proof, public_key = signed_example
    same = {**proof, "@context": signed["@context"]}
    assert verify_eddsa_rdfc_2022(signed, same, public_key).ok
    reordered = {**proof, "@context": list(reversed(signed["@context"]))}
    check = verify_eddsa_rdfc_2022(signed, reordered, public_key)
    assert not check.ok
    assert "does not start with" in (check.error or "")


def test_check_is_not_a_truth_value(signed_example) -> None:
    signed, proof, public_key = signed_example
    check = verify_eddsa_rdfc_2022(signed, proof, public_key)
    assert isinstance(check, ProofCheck)
    with pytest.raises(TypeError):
        bool(check)


# --- issuing ----------------------------------------------------------------------------


@pytest.fixture
def unsigned() -> dict[str, Any]:
    return _json("ob3-spec-rendered", SPEC_EXAMPLES[1], "credential.unsigned.json")


def test_sign_and_verify_round_trip(unsigned: dict[str, Any]) -> None:
    private_key = Ed25519PrivateKey.generate()
    method = did_key_verification_method(private_key.public_key())
    signed = create_proof(
        unsigned, signer=from_private_key(private_key, verification_method=method)
    )
    assert "proof" not in unsigned
    proof = signed["proof"]
    assert proof["type"] == "DataIntegrityProof"
    assert proof["cryptosuite"] == "eddsa-rdfc-2022"
    assert proof["proofValue"].startswith("z")
    assert proof["created"].endswith("Z")
    assert verify_eddsa_rdfc_2022(signed, proof, private_key.public_key()).ok


def test_optional_proof_options_are_signed(unsigned: dict[str, Any]) -> None:
    private_key = Ed25519PrivateKey.generate()
    signed = create_proof(
        unsigned,
        signer=from_private_key(
            private_key, verification_method=did_key_verification_method(private_key.public_key())
        ),
        proof_purpose="authentication",
        created="2024-01-01T00:00:00Z",
        expires="2030-01-01T00:00:00Z",
        proof_id="urn:uuid:5f1c0e1c-3c5c-4a55-8a0e-1f3b9d0f6a10",
        domain="https://verifier.example",
        challenge="abc123",
    )
    proof = signed["proof"]
    assert proof["domain"] == "https://verifier.example"
    assert verify_eddsa_rdfc_2022(signed, proof, private_key.public_key()).ok
    changed = {**proof, "challenge": "abc124"}
    assert not verify_eddsa_rdfc_2022(signed, changed, private_key.public_key()).ok


def test_second_proof_makes_a_proof_set(unsigned: dict[str, Any]) -> None:
    first_key, second_key = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    once = create_proof(
        unsigned,
        signer=from_private_key(
            first_key, verification_method=did_key_verification_method(first_key.public_key())
        ),
    )
    twice = create_proof(
        once,
        signer=from_private_key(
            second_key, verification_method=did_key_verification_method(second_key.public_key())
        ),
    )
    first, second = proofs_of(twice)
    assert first == once["proof"]
    assert verify_eddsa_rdfc_2022(twice, first, first_key.public_key()).ok
    assert verify_eddsa_rdfc_2022(twice, second, second_key.public_key()).ok


@pytest.mark.parametrize("created", ["2024-01-01", "yesterday", "2024-13-01T00:00:00Z"])
def test_invalid_created_is_refused(unsigned: dict[str, Any], created: str) -> None:
    private_key = Ed25519PrivateKey.generate()
    with pytest.raises(ProofError, match="dateTime"):
        create_proof(
            unsigned,
            signer=from_private_key(
                private_key,
                verification_method=did_key_verification_method(private_key.public_key()),
            ),
            created=created,
        )


def test_signing_refuses_an_undefined_term(unsigned: dict[str, Any]) -> None:
    private_key = Ed25519PrivateKey.generate()
    document = {**unsigned, "evidence": [{"type": ["Evidence"], "foo": "bar"}]}
    with pytest.raises(ProofError, match="undefined term 'foo'"):
        create_proof(
            document,
            signer=from_private_key(
                private_key,
                verification_method=did_key_verification_method(private_key.public_key()),
            ),
        )


def test_relative_verification_method_is_refused(unsigned: dict[str, Any]) -> None:
    with pytest.raises(ProofError, match="absolute IRI"):
        create_proof(
            unsigned,
            signer=from_private_key(Ed25519PrivateKey.generate(), verification_method="#key-1"),
        )
