"""Machinery shared by the Ed25519 + RDFC proof suites (VC Data Integrity 1.0).

``eddsa-rdfc-2022``, its predecessor ``eddsa-2022`` and ``Ed25519Signature2020`` all
sign ``sha256(canon(proof configuration)) || sha256(canon(document))``; they differ in
the proof ``type``/``cryptosuite`` they accept and in where the proof configuration's
``@context`` comes from.

Proof sets and chains (VC Data Integrity 1.0 §2.1.1-2.1.2, §4.5): the proofs of a set each
sign the document without its proofs; a proof naming `previousProof` signs the document
with the proofs it names (its chain) as `proof`, so it also covers them. A `previousProof`
that names no proof of the set is an error, at signing and at verifying.
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
)
from badges.proofs.compiled import Shapes, canonical_nquads
from keys.multikey import KeyFormatError, b58decode, b58encode
from keys.signer import Signer
from openbadges_schemas.loader import (
    CREDENTIALS_V2,
    DATA_INTEGRITY_V1,
    DATA_INTEGRITY_V2,
    UnknownContextError,
)

ED25519_SIGNATURE_LENGTH = 64
# An Ed25519 signature is 86-88 base58 characters; refuse long input before the
# (quadratic) decode.
_MAX_PROOF_VALUE_CHARS = 100
# XML Schema 1.1 dateTime (VC Data Integrity requires `created`/`expires` to be one).
_XSD_DATETIME = re.compile(
    r"^-?\d{4,}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d"
    r"(\.\d+)?(Z|[+-]((0\d|1[0-3]):[0-5]\d|14:00))?$"
)
# Contexts that define the Data Integrity proof terms; a document under none of them (VC
# 1.1) gets the DI context added before signing (VC Data Integrity 1.0 §2.4.1).
_DI_TERM_CONTEXTS = frozenset({CREDENTIALS_V2, DATA_INTEGRITY_V1, DATA_INTEGRITY_V2})


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


def proofs_of(document: Mapping[str, Any]) -> list[Any]:
    """The document's proofs: ``proof`` may be one object or a proof set (a list)."""
    proof = document.get("proof")
    if proof is None:
        return []
    return list(proof) if isinstance(proof, list) else [proof]


def without_proof(document: Mapping[str, Any]) -> dict[str, Any]:
    """A shallow copy without ``proof`` (canonicalization never mutates its input)."""
    return {key: value for key, value in document.items() if key != "proof"}


def contexts_of(document: Mapping[str, Any]) -> list[Any]:
    context = document.get("@context")
    if context is None:
        return []
    return list(context) if isinstance(context, list) else [context]


def with_data_integrity_context(document: Mapping[str, Any]) -> dict[str, Any]:
    """The document, with https://w3id.org/security/data-integrity/v2 appended to its
    `@context` when none of its contexts defines the proof terms (a VC 1.1 credential)."""
    contexts = contexts_of(document)
    if any(isinstance(c, str) and c in _DI_TERM_CONTEXTS for c in contexts):
        return dict(document)
    return {**document, "@context": [*contexts, DATA_INTEGRITY_V2]}


def previous_proof_ids(proof: Mapping[str, Any]) -> list[str]:
    """The ids a proof's `previousProof` names (a string or a list of strings)."""
    value = proof.get("previousProof")
    if value is None:
        return []
    ids = value if isinstance(value, list) else [value]
    if not ids or not all(isinstance(i, str) and i for i in ids):
        raise ValueError("previousProof must be a proof id or a list of proof ids")
    return ids


def proof_input(document: Mapping[str, Any], proof: Mapping[str, Any]) -> dict[str, Any]:
    """The document one proof of the document's set secures: without its proofs, or, for a
    proof in a chain, with the proofs its `previousProof` names (VC Data Integrity §4.5)."""
    unsecured = without_proof(document)
    wanted = previous_proof_ids(proof)
    if not wanted:
        return unsecured
    matching = [p for p in proofs_of(document) if isinstance(p, Mapping) and p.get("id") in wanted]
    missing = sorted(set(wanted) - {p.get("id") for p in matching})
    if missing:
        raise ValueError(f"previousProof names no proof of the set: {', '.join(missing)}")
    unsecured["proof"] = matching
    return unsecured


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
    shapes: Shapes = "reuse",
) -> bytes:
    """sha256(canonical proof configuration) || sha256(canonical document).

    A `canonicalizer` (one per verification) canonicalizes the document once for all the
    proofs of a proof set, which sign the same unsecured document. Without one, `shapes` says
    how the compiled path may be used (:mod:`badges.proofs.compiled`); the output is the same.
    """
    if canonicalizer is not None:
        canon = canonicalizer.canonicalize
        proof_form = canon(dict(proof_config), loader=loader)
        document_form = canon(dict(document), loader=loader)
    else:
        proof_form = canonical_nquads(dict(proof_config), loader=loader, shapes=shapes)
        document_form = canonical_nquads(dict(document), loader=loader, shapes=shapes)
    proof_hash = hashlib.sha256(proof_form.encode()).digest()
    doc_hash = hashlib.sha256(document_form.encode()).digest()
    return proof_hash + doc_hash


def sign(
    document: Mapping[str, Any],
    proof_options: Mapping[str, Any],
    signer: Signer,
    *,
    loader: DocumentLoader | None = None,
    shapes: Shapes = "reuse",
) -> dict[str, Any]:
    """A new document with the signed proof added (appended to a proof set if one exists).

    ``proof_options`` is the proof without ``proofValue``; its configuration takes the
    document's ``@context``, to which the Data Integrity context is added when no context
    defines the proof terms. A ``previousProof`` option chains the new proof to those
    proofs of the set, which it then signs over; the other existing proofs it does not.
    ``shapes="compile"`` (issuance of our own credentials) compiles a template for each new
    shape of document and proof options, which then signs the next ones of that shape.
    """
    if signer.algorithm != "EdDSA":
        raise ProofError("an Ed25519 key is required")
    if "@context" not in document:
        raise ProofError("the document has no @context")
    for name in ("created", "expires"):
        if name in proof_options and not is_xsd_datetime(proof_options[name]):
            raise ProofError(f"{name} {proof_options[name]!r} is not an XML Schema dateTime")
    document = with_data_integrity_context(document)
    try:
        secured = proof_input(document, proof_options)
    except ValueError as exc:
        raise ProofError(str(exc)) from None
    proof_config = {**proof_options, "@context": document["@context"]}
    try:
        data = hash_data(secured, proof_config, loader=loader, shapes=shapes)
    except (CanonicalizationError, UnknownContextError) as exc:
        raise ProofError(f"cannot canonicalize: {exc}") from exc
    proof = {**proof_options, "proofValue": encode_proof_value(signer.sign(data))}
    existing = proofs_of(document)
    return {**without_proof(document), "proof": [*existing, proof] if existing else proof}


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


@dataclass(frozen=True)
class Suite:
    """What a suite accepts: its proof `type`, its `cryptosuite` (None: the type is the suite,
    with no cryptosuite property) and where the proof configuration's @context comes from."""

    proof_type: str
    cryptosuite: str | None
    context_rule: ContextRule = data_integrity_context


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
    """Verify one Ed25519 + RDFC proof of ``document``: its only proof, or one of its set or
    chain (the document carries the whole set, so a chained proof finds its predecessors).

    Every failure is reported in the result; nothing is raised.
    """
    if not isinstance(proof, Mapping):
        return ProofCheck(ok=False, error="proof must be a JSON object")
    if not isinstance(document, Mapping):
        return ProofCheck(ok=False, error="the secured document must be a JSON object")
    check = _described(proof)
    suite = Suite(proof_type, cryptosuite, context_rule)
    problem = _proof_problem(proof, suite) or _input_problem(document, public_key)
    if problem is not None:
        return replace(check, error=problem)
    try:
        signature = decode_proof_value(proof.get("proofValue"))
        data = _signed_data(document, proof, suite, loader, canonicalizer)
    except ValueError as exc:  # ProofError, a malformed proofValue or previousProof
        return replace(check, error=str(exc))
    try:
        public_key.verify(signature, data)
    except InvalidSignature:
        return replace(check, error="signature does not match the document and proof options")
    return replace(check, ok=True)


def _described(proof: Mapping[str, Any]) -> ProofCheck:
    return ProofCheck(
        ok=False,
        proof_type=_str_or_none(proof.get("type")),
        cryptosuite=_str_or_none(proof.get("cryptosuite")),
        verification_method=_str_or_none(proof.get("verificationMethod")),
        proof_purpose=_str_or_none(proof.get("proofPurpose")),
        created=_str_or_none(proof.get("created")),
    )


def _proof_problem(proof: Mapping[str, Any], suite: Suite) -> str | None:
    """Why the proof's own members are unacceptable to the suite, or None."""
    if proof.get("type") != suite.proof_type:
        return f"proof type is {proof.get('type')!r}, expected {suite.proof_type!r}"
    if suite.cryptosuite is not None and proof.get("cryptosuite") != suite.cryptosuite:
        return f"cryptosuite is {proof.get('cryptosuite')!r}, expected {suite.cryptosuite!r}"
    if not isinstance(proof.get("verificationMethod"), str):
        return "proof has no verificationMethod"
    if not isinstance(proof.get("proofPurpose"), str):
        return "proof has no proofPurpose"
    for name in ("created", "expires"):
        if name in proof and not is_xsd_datetime(proof[name]):
            return f"{name} {proof[name]!r} is not an XML Schema dateTime"
    return None


def _input_problem(document: Mapping[str, Any], public_key: Any) -> str | None:
    if not isinstance(public_key, Ed25519PublicKey):
        return "an Ed25519 public key is required"
    if "@context" not in document:
        return "the document has no @context"
    return None


def _signed_data(
    document: Mapping[str, Any],
    proof: Mapping[str, Any],
    suite: Suite,
    loader: DocumentLoader | None,
    canonicalizer: Canonicalizer | None,
) -> bytes:
    """The bytes the proof's signature covers; ValueError (a ProofError) when they cannot
    be computed."""
    secured = proof_input(document, proof)
    proof_options = {key: value for key, value in proof.items() if key != "proofValue"}
    secured["@context"], proof_context = suite.context_rule(document, proof_options)
    proof_config = {**proof_options, "@context": proof_context}
    try:
        return hash_data(secured, proof_config, loader=loader, canonicalizer=canonicalizer)
    except UnknownContextError as exc:
        raise ProofError(str(exc)) from None
    except CanonicalizationError as exc:
        raise ProofError(f"cannot canonicalize: {exc}") from None


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None
