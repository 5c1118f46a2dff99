"""Machinery shared by the Ed25519 + RDFC proof suites (VC Data Integrity 1.0).

``eddsa-rdfc-2022``, its predecessor ``eddsa-2022`` and ``Ed25519Signature2020`` all
sign ``sha256(canon(proof configuration)) || sha256(canon(document))``; they differ in
the proof ``type``/``cryptosuite`` they accept and in where the proof configuration's
``@context`` comes from.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from badges.proofs.canonicalize import (
    CanonicalizationError,
    Canonicalizer,
    DocumentLoader,
    canonicalize,
)
from keys.multikey import KeyFormatError, b58decode, b58encode
from keys.signer import Signer
from openbadges_schemas.loader import UnknownContextError

ED25519_SIGNATURE_LENGTH = 64
# An Ed25519 signature is 86-88 base58 characters; refuse long input before the
# (quadratic) decode.
_MAX_PROOF_VALUE_CHARS = 100
# XML Schema 1.1 dateTime (VC Data Integrity requires `created`/`expires` to be one).
_XSD_DATETIME = re.compile(
    r"^-?\d{4,}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d"
    r"(\.\d+)?(Z|[+-]((0\d|1[0-3]):[0-5]\d|14:00))?$"
)


class ProofError(ValueError):
    """A proof cannot be created from the given document or options."""


@dataclass(frozen=True)
class ProofCheck:
    """The outcome of verifying one proof; ``error`` says why when ``ok`` is false."""

    ok: bool
    error: str | None = None
    proof_type: str | None = None
    cryptosuite: str | None = None
    verification_method: str | None = None
    proof_purpose: str | None = None
    created: str | None = None

    def __bool__(self) -> bool:
        # `if verify_proof(...)` would always be true for a dataclass: make it an error.
        raise TypeError("use ProofCheck.ok, not the ProofCheck itself, as a truth value")


def proofs_of(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The document's proofs: ``proof`` may be one object or a proof set (a list)."""
    proof = document.get("proof")
    if proof is None:
        return []
    return list(proof) if isinstance(proof, list) else [proof]


def without_proof(document: Mapping[str, Any]) -> dict[str, Any]:
    """A shallow copy without ``proof`` (canonicalization never mutates its input)."""
    return {key: value for key, value in document.items() if key != "proof"}


def is_xsd_datetime(value: Any) -> bool:
    return isinstance(value, str) and _XSD_DATETIME.match(value) is not None


def now_datetime() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def encode_proof_value(signature: bytes) -> str:
    return "z" + b58encode(signature)


def decode_proof_value(proof_value: Any) -> bytes:
    """Multibase base58btc signature bytes; ValueError when malformed."""
    if not isinstance(proof_value, str) or not proof_value.startswith("z"):
        raise ValueError("proofValue must be a multibase base58btc ('z') string")
    if len(proof_value) > _MAX_PROOF_VALUE_CHARS:
        raise ValueError("proofValue is too long for an Ed25519 signature")
    try:
        signature = b58decode(proof_value[1:])
    except KeyFormatError as exc:
        raise ValueError("proofValue is not valid base58btc") from exc
    if len(signature) != ED25519_SIGNATURE_LENGTH:
        raise ValueError(f"proofValue decodes to {len(signature)} bytes, not 64")
    return signature


def hash_data(
    document: Mapping[str, Any],
    proof_config: Mapping[str, Any],
    *,
    loader: DocumentLoader | None = None,
    canonicalizer: Canonicalizer | None = None,
) -> bytes:
    """sha256(canonical proof configuration) || sha256(canonical document).

    A `canonicalizer` (one per verification) canonicalizes the document once for all the
    proofs of a proof set, which sign the same unsecured document."""
    canon = canonicalizer.canonicalize if canonicalizer is not None else canonicalize
    proof_hash = hashlib.sha256(canon(dict(proof_config), loader=loader).encode()).digest()
    doc_hash = hashlib.sha256(canon(dict(document), loader=loader).encode()).digest()
    return proof_hash + doc_hash


def sign(
    document: Mapping[str, Any],
    proof_options: Mapping[str, Any],
    signer: Signer,
    *,
    loader: DocumentLoader | None = None,
) -> dict[str, Any]:
    """A new document with the signed proof added (appended to a proof set if one exists).

    ``proof_options`` is the proof without ``proofValue``; its configuration takes the
    document's ``@context``. Existing proofs are not signed over (a proof set).
    """
    if signer.algorithm != "EdDSA":
        raise ProofError("an Ed25519 key is required")
    if "@context" not in document:
        raise ProofError("the document has no @context")
    for name in ("created", "expires"):
        if name in proof_options and not is_xsd_datetime(proof_options[name]):
            raise ProofError(f"{name} {proof_options[name]!r} is not an XML Schema dateTime")
    unsecured = without_proof(document)
    proof_config = {**proof_options, "@context": unsecured["@context"]}
    try:
        data = hash_data(unsecured, proof_config, loader=loader)
    except (CanonicalizationError, UnknownContextError) as exc:
        raise ProofError(f"cannot canonicalize: {exc}") from exc
    proof = {**proof_options, "proofValue": encode_proof_value(signer.sign(data))}
    existing = proofs_of(document)
    return {**unsecured, "proof": [*existing, proof] if existing else proof}


# (document, proof without proofValue) -> (@context to read the document under,
#                                         @context of the proof configuration)
ContextRule = Callable[[Mapping[str, Any], Mapping[str, Any]], tuple[Any, Any]]


def data_integrity_context(
    document: Mapping[str, Any], proof: Mapping[str, Any]
) -> tuple[Any, Any]:
    """VC Data Integrity 1.0, Verify Proof step 4: both canonicalizations use one @context.

    A proof may carry its own ``@context``: the document's must then start with it,
    and the document is read under the proof's context.
    """
    document_context = document.get("@context")
    if "@context" not in proof:
        return document_context, document_context
    proof_context = proof["@context"]
    expected = proof_context if isinstance(proof_context, list) else [proof_context]
    actual = document_context if isinstance(document_context, list) else [document_context]
    if actual[: len(expected)] != expected:
        raise ValueError("the document's @context does not start with the proof's @context")
    return proof_context, proof_context


def verify(
    document: Mapping[str, Any],
    proof: Any,
    public_key: Any,
    *,
    proof_type: str,
    cryptosuite: str | None,
    context_rule: ContextRule = data_integrity_context,
    loader: DocumentLoader | None = None,
    canonicalizer: Canonicalizer | None = None,
) -> ProofCheck:
    """Verify one Ed25519 + RDFC proof of ``document`` (the proof may be one of a set).

    ``cryptosuite`` None means the proof type is itself the suite (no cryptosuite
    property). Every failure is reported in the result; nothing is raised.
    """
    if not isinstance(proof, Mapping):
        return ProofCheck(ok=False, error="proof must be a JSON object")
    if not isinstance(document, Mapping):
        return ProofCheck(ok=False, error="the document must be a JSON object")
    check = ProofCheck(
        ok=False,
        proof_type=_str_or_none(proof.get("type")),
        cryptosuite=_str_or_none(proof.get("cryptosuite")),
        verification_method=_str_or_none(proof.get("verificationMethod")),
        proof_purpose=_str_or_none(proof.get("proofPurpose")),
        created=_str_or_none(proof.get("created")),
    )

    def fail(error: str) -> ProofCheck:
        return replace(check, error=error)

    if proof.get("type") != proof_type:
        return fail(f"proof type is {proof.get('type')!r}, expected {proof_type!r}")
    if cryptosuite is not None and proof.get("cryptosuite") != cryptosuite:
        return fail(f"cryptosuite is {proof.get('cryptosuite')!r}, expected {cryptosuite!r}")
    if "previousProof" in proof:
        return fail("proof chains (previousProof) are not supported")
    if not isinstance(check.verification_method, str):
        return fail("proof has no verificationMethod")
    if not isinstance(check.proof_purpose, str):
        return fail("proof has no proofPurpose")
    for name in ("created", "expires"):
        if name in proof and not is_xsd_datetime(proof[name]):
            return fail(f"{name} {proof[name]!r} is not an XML Schema dateTime")
    if not isinstance(public_key, Ed25519PublicKey):
        return fail("an Ed25519 public key is required")
    if "@context" not in document:
        return fail("the document has no @context")
    try:
        signature = decode_proof_value(proof.get("proofValue"))
    except ValueError as exc:
        return fail(str(exc))

    unsecured = without_proof(document)
    proof_options = {key: value for key, value in proof.items() if key != "proofValue"}
    try:
        unsecured["@context"], proof_context = context_rule(document, proof_options)
    except ValueError as exc:
        return fail(str(exc))
    proof_config = {**proof_options, "@context": proof_context}
    try:
        data = hash_data(unsecured, proof_config, loader=loader, canonicalizer=canonicalizer)
    except UnknownContextError as exc:
        return fail(str(exc))
    except CanonicalizationError as exc:
        return fail(f"cannot canonicalize: {exc}")
    try:
        public_key.verify(signature, data)
    except InvalidSignature:
        return fail("signature does not match the document and proof options")
    return replace(check, ok=True)


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None
