"""Data Integrity proofs: RDFC-1.0 canonicalization and the Ed25519 suites.

Pure crypto over JSON documents: no I/O. Key resolution (did:key, did:web, local
issuer keys) happens in the layers above; these functions take the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from badges.proofs import eddsa_rdfc_2022, legacy

# The canonicalize function is not re-exported: it would shadow its module here.
from badges.proofs.canonicalize import CanonicalizationError, Canonicalizer, DocumentLoader
from badges.proofs.data_integrity import ProofCheck, ProofError, proofs_of

__all__ = [
    "CanonicalizationError",
    "Canonicalizer",
    "ProofCheck",
    "ProofError",
    "proofs_of",
    "verify_proof",
]

_VERIFIERS = {
    ("DataIntegrityProof", eddsa_rdfc_2022.CRYPTOSUITE): eddsa_rdfc_2022.verify_proof,
    ("DataIntegrityProof", legacy.EDDSA_2022): legacy.verify_eddsa_2022,
    (legacy.ED25519_SIGNATURE_2020, None): legacy.verify_ed25519_signature_2020,
}


def verify_proof(
    document: Mapping[str, Any],
    proof: Any,
    public_key: Any,
    *,
    loader: DocumentLoader | None = None,
    canonicalizer: Canonicalizer | None = None,
) -> ProofCheck:
    """Verify one proof of ``document`` with the suite its ``type``/``cryptosuite`` name.

    Pass one `canonicalizer` for all the proofs of a document: it is canonicalized once."""
    if not isinstance(proof, Mapping):
        return ProofCheck(ok=False, error="proof must be a JSON object")
    proof_type, cryptosuite = proof.get("type"), proof.get("cryptosuite")
    verifier = None
    if isinstance(proof_type, str) and (cryptosuite is None or isinstance(cryptosuite, str)):
        verifier = _VERIFIERS.get((proof_type, cryptosuite))
    if verifier is None:
        return ProofCheck(
            ok=False,
            error=f"unsupported proof type/cryptosuite {proof_type!r}/{cryptosuite!r}",
            proof_type=proof_type if isinstance(proof_type, str) else None,
            cryptosuite=cryptosuite if isinstance(cryptosuite, str) else None,
        )
    return verifier(document, proof, public_key, loader=loader, canonicalizer=canonicalizer)
