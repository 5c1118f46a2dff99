"""Verification of the pre-standard suites: Ed25519Signature2020 and eddsa-2022."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from badges.proofs import proofs_of, verify_proof
from badges.proofs.canonicalize import canonicalize
from badges.proofs.data_integrity import encode_proof_value, hash_data
from badges.proofs.legacy import verify_ed25519_signature_2020, verify_eddsa_2022
from keys.multikey import decode_private_key, decode_public_key
from tests.support.reference import reference


def _json(*parts: str) -> Any:
    return json.loads(reference("ob3", "examples", *parts).read_text())


def _edsig(name: str) -> str:
    return reference("ob3", "examples", "w3c-vc-di-eddsa", "Ed25519Signature2020", name).read_text()


def test_w3c_ed25519_signature_2020_vector() -> None:
    pair = _json("w3c-vc-di-eddsa", "keyPair.json")
    signed = _json("w3c-vc-di-eddsa", "Ed25519Signature2020", "signedEdSig.json")
    proof_config = _json("w3c-vc-di-eddsa", "Ed25519Signature2020", "proofConfigEdSig.json")
    document = {key: value for key, value in signed.items() if key != "proof"}
    # The suite's proof configuration takes the document's @context.
    assert proof_config["@context"] == document["@context"]

    canon_doc, canon_proof = canonicalize(document), canonicalize(proof_config)
    assert canon_doc == _edsig("canonDocEdSig.txt")
    assert canon_proof == _edsig("proofCanonEdSig.txt")
    assert hashlib.sha256(canon_doc.encode()).hexdigest() == _edsig("docHashEdSig.txt").strip()
    assert hashlib.sha256(canon_proof.encode()).hexdigest() == _edsig("proofHashEdSig.txt").strip()
    combined = hash_data(document, proof_config)
    assert combined.hex() == _edsig("combinedHashEdSig.txt").strip()
    private_key = decode_private_key(pair["privateKeyMultibase"])
    assert isinstance(private_key, Ed25519PrivateKey)
    signature = private_key.sign(combined)
    assert signature.hex() == _edsig("sigHexEdSig.txt").strip()
    assert encode_proof_value(signature) == _edsig("sigBTC58EdSig.txt").strip()
    assert signed["proof"]["proofValue"] == encode_proof_value(signature)

    public_key = decode_public_key(pair["publicKeyMultibase"])
    check = verify_ed25519_signature_2020(signed, signed["proof"], public_key)
    assert check.ok, check.error
    assert check.proof_type == "Ed25519Signature2020"
    assert verify_proof(signed, signed["proof"], public_key).ok

    tampered = {**signed, "name": signed["name"] + "!"}
    assert not verify_ed25519_signature_2020(tampered, signed["proof"], public_key).ok


def _eddsa_2022_fixture() -> tuple[dict[str, Any], dict[str, Any], Any]:
    signed = _json("1edtech-validator-ob30", "simple-eddsa-2022.json")
    (proof,) = proofs_of(signed)
    return signed, proof, decode_public_key(proof["verificationMethod"].rsplit("#", 1)[1])


def test_eddsa_2022_fixture_verifies_and_tamper_fails() -> None:
    signed, proof, public_key = _eddsa_2022_fixture()
    assert proof["cryptosuite"] == "eddsa-2022"
    check = verify_eddsa_2022(signed, proof, public_key)
    assert check.ok, check.error
    tampered = {**signed, "name": signed["name"][:-1]}
    assert not verify_eddsa_2022(tampered, proof, public_key).ok


def test_legacy_verifiers_do_not_cross_suites() -> None:
    signed, proof, public_key = _eddsa_2022_fixture()
    as_rdfc = {**proof, "cryptosuite": "eddsa-rdfc-2022"}
    assert not verify_eddsa_2022(signed, as_rdfc, public_key).ok
    check = verify_ed25519_signature_2020(signed, proof, public_key)
    assert not check.ok
    assert "Ed25519Signature2020" in (check.error or "")
