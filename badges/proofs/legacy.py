"""Verification (only) of the Ed25519 suites that preceded ``eddsa-rdfc-2022``.

- ``eddsa-2022``: a DataIntegrityProof under the cryptosuite's draft name; the
  algorithm is the one ``eddsa-rdfc-2022`` standardised.
- ``Ed25519Signature2020``: the proof type is the suite. As in jsonld-signatures,
  the proof configuration takes the proof's own ``@context`` if it has one, else
  the document's (which must then define the suite, e.g. through
  https://w3id.org/security/suites/ed25519-2020/v1).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from badges.proofs import data_integrity
from badges.proofs.canonicalize import Canonicalizer, DocumentLoader
from badges.proofs.data_integrity import ProofCheck

EDDSA_2022 = "eddsa-2022"
ED25519_SIGNATURE_2020 = "Ed25519Signature2020"


def verify_eddsa_2022(
    document: Mapping[str, Any],
    proof: Mapping[str, Any],
    public_key: Any,
    *,
    loader: DocumentLoader | None = None,
    canonicalizer: Canonicalizer | None = None,
) -> ProofCheck:
    return data_integrity.verify(
        document,
        proof,
        public_key,
        proof_type="DataIntegrityProof",
        cryptosuite=EDDSA_2022,
        loader=loader,
        canonicalizer=canonicalizer,
    )


def _ed25519_2020_context(document: Mapping[str, Any], proof: Mapping[str, Any]) -> tuple[Any, Any]:
    document_context = document.get("@context")
    return document_context, proof.get("@context", document_context)


def verify_ed25519_signature_2020(
    document: Mapping[str, Any],
    proof: Mapping[str, Any],
    public_key: Any,
    *,
    loader: DocumentLoader | None = None,
    canonicalizer: Canonicalizer | None = None,
) -> ProofCheck:
    return data_integrity.verify(
        document,
        proof,
        public_key,
        proof_type=ED25519_SIGNATURE_2020,
        cryptosuite=None,
        context_rule=_ed25519_2020_context,
        loader=loader,
        canonicalizer=canonicalizer,
    )
