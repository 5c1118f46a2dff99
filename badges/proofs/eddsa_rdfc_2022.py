"""The ``eddsa-rdfc-2022`` Data Integrity cryptosuite (W3C vc-di-eddsa 1.0 §3.3)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from badges.proofs import data_integrity
from badges.proofs.canonicalize import Canonicalizer, DocumentLoader
from badges.proofs.compiled import Shapes
from badges.proofs.data_integrity import ProofCheck
from keys.signer import Signer

PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-rdfc-2022"


def create_proof(
    document: Mapping[str, Any],
    *,
    signer: Signer,
    proof_purpose: str = "assertionMethod",
    created: str | None = None,
    expires: str | None = None,
    proof_id: str | None = None,
    domain: str | None = None,
    challenge: str | None = None,
    nonce: str | None = None,
    previous_proof: str | list[str] | None = None,
    loader: DocumentLoader | None = None,
    shapes: Shapes = "reuse",
) -> dict[str, Any]:
    """A new document carrying an ``eddsa-rdfc-2022`` proof; ``document`` is not changed.

    The signer gives the key and the ``verificationMethod``. ``created`` defaults to now (UTC,
    seconds). If the document already has proofs, the new one joins them as a proof
    set; ``previous_proof`` (the ids of proofs of that set) chains it to them, so that it
    signs over them too. A document whose @context does not define the proof terms (VC 1.1)
    gets the Data Integrity context added. ``shapes`` (see :mod:`badges.proofs.compiled`):
    "compile" for our own credentials. Raises ``ProofError``.
    """
    options: dict[str, Any] = {}
    if proof_id is not None:
        options["id"] = proof_id
    options.update(
        {
            "type": PROOF_TYPE,
            "cryptosuite": CRYPTOSUITE,
            "created": created if created is not None else data_integrity.now_datetime(),
            "verificationMethod": signer.verification_method,
            "proofPurpose": proof_purpose,
        }
    )
    optional = {
        "expires": expires,
        "domain": domain,
        "challenge": challenge,
        "nonce": nonce,
        "previousProof": previous_proof,
    }
    options.update({name: value for name, value in optional.items() if value is not None})
    return data_integrity.sign(document, options, signer, loader=loader, shapes=shapes)


def verify_proof(
    document: Mapping[str, Any],
    proof: Mapping[str, Any],
    public_key: Any,
    *,
    loader: DocumentLoader | None = None,
    canonicalizer: Canonicalizer | None = None,
) -> ProofCheck:
    """Verify ``proof`` (the document's proof, or one of its proof set) with an Ed25519 key."""
    return data_integrity.verify(
        document,
        proof,
        public_key,
        proof_type=PROOF_TYPE,
        cryptosuite=CRYPTOSUITE,
        loader=loader,
        canonicalizer=canonicalizer,
    )
