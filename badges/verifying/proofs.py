"""Proof checks with key resolution: embedded Data Integrity proofs and VC-JWT.

Each returns two report entries, `proof` (the signature) and `issuer_key` (whose key it
is): a perfect signature by a key the issuer does not control proves nothing about the
issuer. The controller of the verification method must be the credential's issuer, as
the 1EdTech validator requires; unlike it, a key is never taken on trust from a URL
fragment or a JWT `jwk` header: its controller's document must list it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from badges.proofs import eddsa_rdfc_2022 as rdfc
from badges.proofs import legacy, verify_proof
from badges.proofs.canonicalize import Canonicalizer, Checkpoint, DocumentLoader
from badges.proofs.data_integrity import proofs_of
from badges.proofs.vc_jwt import SUPPORTED_ALGORITHMS, JwtError, verify_compact_jws
from badges.report import Check, Status
from badges.verifying.resolving import (
    KeyResolutionError,
    KeyResolver,
    ResolvedKey,
    dereferenceable,
    same_key,
)
from keys.jwk import JwkError, jwk_to_public_key, jws_algorithm

PROOF, ISSUER_KEY = "proof", "issuer_key"

# (type, cryptosuite) -> (label, legacy?)
SUITES: dict[tuple[str, str | None], tuple[str, bool]] = {
    ("DataIntegrityProof", rdfc.CRYPTOSUITE): ("Data Integrity eddsa-rdfc-2022", False),
    ("DataIntegrityProof", legacy.EDDSA_2022): ("Data Integrity eddsa-2022 (pre-standard)", True),
    (legacy.ED25519_SIGNATURE_2020, None): ("Ed25519Signature2020 (legacy)", True),
}


@dataclass(frozen=True)
class ProofOutcome:
    proof: Check
    key: Check
    format: str | None
    verified: bool  # the signature verifies with a key the issuer controls
    over_limit: bool = False  # refused unchecked: more proofs than the verifier checks

    @property
    def checks(self) -> list[Check]:
        return [self.proof, self.key]


def issuer_id_of(credential: Mapping[str, Any]) -> str | None:
    issuer = credential.get("issuer")
    if isinstance(issuer, Mapping):
        issuer = issuer.get("id")
    return issuer if isinstance(issuer, str) else None


def issuer_binding(issuer_id: str | None, key: ResolvedKey) -> Check:
    if issuer_id is not None and key.controller == issuer_id:
        return Check.ok(
            ISSUER_KEY, f"signed with {key.method_id}, a key of the issuer ({key.source})"
        )
    if issuer_id is None:
        return Check.error(ISSUER_KEY, "the credential names no issuer id to bind the key to")
    if dereferenceable(issuer_id):
        return Check.error(
            ISSUER_KEY,
            f"the signing key belongs to {key.controller}, not to the issuer {issuer_id}",
        )
    return Check.skipped(
        ISSUER_KEY,
        f"the issuer {issuer_id} is not a DID or web identifier, so nothing ties the signing "
        f"key of {key.controller} to it",
        indeterminate=True,
    )


def _unresolved(exc: KeyResolutionError, label: str | None) -> ProofOutcome:
    if exc.indeterminate:
        key = Check.skipped(ISSUER_KEY, exc.message, indeterminate=True)
        proof = Check.skipped(
            PROOF, "not checked: the key could not be obtained", indeterminate=True
        )
    else:
        key = Check.error(ISSUER_KEY, exc.message)
        proof = Check.skipped(PROOF, "not checked: no usable key")
    return ProofOutcome(proof, key, label, False)


# --- embedded proofs ---------------------------------------------------------------------


def verify_embedded(
    resolver: KeyResolver,
    document: Mapping[str, Any],
    *,
    loader: DocumentLoader | None = None,
    max_proofs: int | None = None,
    canonicalizer: Canonicalizer | None = None,
    checkpoint: Checkpoint | None = None,
) -> ProofOutcome:
    """Accept the first supported proof that verifies with an issuer key (OB 3.0 §9.1:
    "You may accept any one proof"); report the first one's failure otherwise.

    A document with more than `max_proofs` proofs is refused unchecked (indeterminate): each
    proof costs a signature check and possibly a key fetch. One `canonicalizer` serves every
    proof (they sign the same document); `checkpoint` runs before each proof."""
    proofs = proofs_of(document)
    if max_proofs is not None and len(proofs) > max_proofs:
        return ProofOutcome(
            Check.skipped(
                PROOF,
                f"not checked: the document carries {len(proofs)} proofs, more than the "
                f"{max_proofs} this verifier checks",
                indeterminate=True,
            ),
            Check.skipped(ISSUER_KEY, "not resolved: too many proofs", indeterminate=True),
            None,
            False,
            over_limit=True,
        )
    if not proofs:
        return ProofOutcome(
            Check.error(PROOF, "the credential has no proof"),
            Check.skipped(ISSUER_KEY, "no proof names a key"),
            None,
            False,
        )
    suites = [_suite(p) if isinstance(p, Mapping) else None for p in proofs]
    supported = [(p, s) for p, s in zip(proofs, suites, strict=True) if s is not None]
    ignored = [str(p.get("type")) if isinstance(p, Mapping) else "?" for p in proofs]
    ignored = [t for t, s in zip(ignored, suites, strict=True) if s is None]
    if not supported:
        return ProofOutcome(
            Check.error(
                PROOF,
                f"no proof of a supported type (found {', '.join(ignored)}); supported: "
                "DataIntegrityProof eddsa-rdfc-2022 or eddsa-2022, Ed25519Signature2020",
            ),
            Check.skipped(ISSUER_KEY, "no supported proof names a key"),
            None,
            False,
        )
    issuer_id = issuer_id_of(document)
    outcomes = []
    for proof, suite in supported:
        if checkpoint is not None:
            checkpoint()
        outcomes.append(
            _one_embedded(resolver, document, proof, suite, issuer_id, loader, canonicalizer)
        )
        if outcomes[-1].verified:
            break
    best = outcomes[-1] if outcomes[-1].verified else outcomes[0]
    if ignored:
        note = f" ({len(ignored)} proof(s) of unsupported type ignored: {', '.join(ignored)})"
        best = ProofOutcome(
            Check(PROOF, best.proof.status, best.proof.message + note, best.proof.indeterminate),
            best.key,
            best.format,
            best.verified,
        )
    return best


def _suite(proof: Mapping[str, Any]) -> tuple[str, bool] | None:
    """The (label, legacy) of a proof's suite, None for an unsupported one."""
    kind, suite = proof.get("type"), proof.get("cryptosuite")
    # Only strings name a suite; a list or object here must not reach a dict lookup.
    if not isinstance(kind, str) or not (suite is None or isinstance(suite, str)):
        return None
    return SUITES.get((kind, suite))


def _one_embedded(
    resolver: KeyResolver,
    document: Mapping[str, Any],
    proof: Mapping[str, Any],
    suite: tuple[str, bool],
    issuer_id: str | None,
    loader: DocumentLoader | None,
    canonicalizer: Canonicalizer | None,
) -> ProofOutcome:
    label, is_legacy = suite
    if proof.get("proofPurpose") != "assertionMethod":
        return ProofOutcome(
            Check.error(
                PROOF,
                f"proofPurpose is {proof.get('proofPurpose')!r}; an issuer signs with "
                "assertionMethod",
            ),
            Check.skipped(ISSUER_KEY, "not resolved: the proof has the wrong purpose"),
            label,
            False,
        )
    try:
        key = resolver.resolve_method(proof.get("verificationMethod"))
    except KeyResolutionError as exc:
        return _unresolved(exc, label)
    binding = issuer_binding(issuer_id, key)
    result = verify_proof(
        document, proof, key.public_key, loader=loader, canonicalizer=canonicalizer
    )
    if not result.ok:
        return ProofOutcome(Check.error(PROOF, f"{label}: {result.error}"), binding, label, False)
    if is_legacy:
        check = Check.warning(PROOF, f"{label} proof verified; the suite is superseded")
    else:
        check = Check.ok(PROOF, f"{label} proof verified")
    return ProofOutcome(check, binding, label, binding.status is Status.OK)


# --- VC-JWT ------------------------------------------------------------------------------


def verify_jwt(
    resolver: KeyResolver,
    token: str,
    header: Mapping[str, Any],
    issuer_id: str | None,
) -> ProofOutcome:
    """Key from `kid` (resolved), else the issuer's published keys (a `jwk` header must be
    one of them); the key's type decides the algorithm, never the header."""
    alg = header.get("alg")
    label = f"VC-JWT {alg}" if isinstance(alg, str) else "VC-JWT"
    if not isinstance(alg, str) or alg.lower() == "none":
        return ProofOutcome(
            Check.error(PROOF, "unsigned tokens (alg none) are refused"),
            Check.skipped(ISSUER_KEY, "no signature, no key"),
            label,
            False,
        )
    if alg not in SUPPORTED_ALGORITHMS:
        return ProofOutcome(
            Check.error(PROOF, f"alg {alg!r} is not accepted ({', '.join(SUPPORTED_ALGORITHMS)})"),
            Check.skipped(ISSUER_KEY, "not resolved: unsupported algorithm"),
            label,
            False,
        )
    header_key = None
    if "jwk" in header:
        try:
            header_key = jwk_to_public_key(header["jwk"])
        except JwkError as exc:
            return ProofOutcome(
                Check.error(PROOF, f"the jwk header is not a usable public key: {exc}"),
                Check.error(ISSUER_KEY, "the jwk header is unusable"),
                label,
                False,
            )
    try:
        candidates = _jwt_keys(resolver, header, header_key, alg, issuer_id)
    except KeyResolutionError as exc:
        return _unresolved(exc, label)
    error: str = "no key"
    for key in candidates:
        try:
            verify_compact_jws(token, key.public_key)
        except JwtError as exc:
            error = str(exc)
            continue
        binding = issuer_binding(issuer_id, key)
        return ProofOutcome(
            Check.ok(PROOF, f"{label} signature verified"),
            binding,
            label,
            binding.status is Status.OK,
        )
    key_check = issuer_binding(issuer_id, candidates[0]) if len(candidates) == 1 else None
    return ProofOutcome(
        Check.error(PROOF, f"{label}: {error}"),
        key_check or Check.ok(ISSUER_KEY, "the issuer's published keys were tried"),
        label,
        False,
    )


def _jwt_keys(
    resolver: KeyResolver,
    header: Mapping[str, Any],
    header_key: Any,
    alg: str,
    issuer_id: str | None,
) -> list[ResolvedKey]:
    if header.get("kid") is not None:
        key = resolver.resolve_method(header["kid"])
        if header_key is not None and not same_key(header_key, key.public_key):
            raise KeyResolutionError(
                "the jwk header and the kid name different keys", indeterminate=False
            )
        return [key]
    published = resolver.issuer_keys(issuer_id)
    if header_key is not None:
        matching = [k for k in published if same_key(k.public_key, header_key)]
        if not matching:
            raise KeyResolutionError(
                "the key in the JWT header (jwk) is not among the keys the issuer publishes",
                indeterminate=False,
            )
        return matching
    fitting = [k for k in published if _fits(k, alg)]
    if not fitting:
        raise KeyResolutionError(
            f"the issuer publishes no assertionMethod key for {alg}", indeterminate=False
        )
    return fitting


def _fits(key: ResolvedKey, alg: str) -> bool:
    try:
        return jws_algorithm(key.public_key) == alg
    except (JwkError, TypeError):
        return False
