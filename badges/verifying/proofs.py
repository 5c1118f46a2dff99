"""Proof checks with key resolution: embedded Data Integrity proofs and VC-JWT.

Each returns two report entries, `proof` (the signature) and `issuer_key` (whose key it
is): a perfect signature by a key the issuer does not control proves nothing about the
issuer. The controller of the verification method must be the credential's issuer, as
the 1EdTech validator requires; unlike it, a key is never taken on trust from a URL
fragment or a JWT `jwk` header: its controller's document must list it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from badges.proofs import eddsa_rdfc_2022 as rdfc
from badges.proofs import legacy, verify_proof
from badges.proofs.canonicalize import Canonicalizer, Checkpoint, DocumentLoader
from badges.proofs.data_integrity import proofs_of
from badges.proofs.vc_jwt import SUPPORTED_ALGORITHMS, JwtError, verify_compact_jws
from badges.report import Check, Status
from badges.verifying.resolving import (
    ASSERTION,
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


def issuer_binding(issuer_id: str | None, key: ResolvedKey, role: str = "issuer") -> Check:
    """Whether `key` is a key of `issuer_id` (the holder's, for a presentation's proof)."""
    if issuer_id is not None and key.controller == issuer_id:
        return Check.ok(
            ISSUER_KEY, f"signed with {key.method_id}, a key of the {role} ({key.source})"
        )
    if issuer_id is None:
        return Check.error(ISSUER_KEY, f"the document names no {role} id to bind the key to")
    if dereferenceable(issuer_id):
        return Check.error(
            ISSUER_KEY,
            f"the signing key belongs to {key.controller}, not to the {role} {issuer_id}",
        )
    return Check.skipped(
        ISSUER_KEY,
        f"the {role} {issuer_id} is not a DID or web identifier, so nothing ties the signing "
        f"key of {key.controller} to it",
        indeterminate=True,
    )


def bound_key(
    resolver: KeyResolver, issuer_id: str | None, key: ResolvedKey, role: str = "issuer"
) -> Check:
    """`issuer_binding`, or OK when this deployment's own records say the key is the
    issuer's (a did:key issuer's ES256 key, whose did:key is not the issuer's)."""
    check = issuer_binding(issuer_id, key, role)
    if check.status is not Status.OK and role == "issuer" and resolver.vouches(issuer_id, key):
        return Check.ok(
            ISSUER_KEY,
            f"signed with {key.method_id}, a key this deployment holds for the issuer {issuer_id}",
        )
    return check


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


@dataclass(frozen=True)
class Expected:
    """What the verifier expects of every proof (VC Data Integrity 1.0 §4.4 steps 5-7): its
    purpose and, when the verifier gave them, the challenge and domain it must carry."""

    purpose: str = ASSERTION
    challenge: str | None = None
    domain: str | list[str] | None = None

    def problem(self, proof: Mapping[str, Any]) -> str | None:
        if proof.get("proofPurpose") != self.purpose:
            who = "an issuer signs with" if self.purpose == ASSERTION else "expected"
            return f"proofPurpose is {proof.get('proofPurpose')!r}; {who} {self.purpose}"
        if self.challenge is not None and proof.get("challenge") != self.challenge:
            return "the proof's challenge is not the one given (INVALID_CHALLENGE_ERROR)"
        if self.domain is not None and _as_set(proof.get("domain")) != _as_set(self.domain):
            return "the proof's domain is not the one given (INVALID_DOMAIN_ERROR)"
        return None


ISSUER_PROOF = Expected()


def _as_set(value: Any) -> frozenset[Any] | None:
    values = value if isinstance(value, list) else [value]
    if value is None or not all(isinstance(v, str) for v in values):
        return None
    return frozenset(values)


def verify_embedded(
    resolver: KeyResolver,
    document: Mapping[str, Any],
    *,
    loader: DocumentLoader | None = None,
    max_proofs: int | None = None,
    canonicalizer: Canonicalizer | None = None,
    checkpoint: Checkpoint | None = None,
    expected: Expected = ISSUER_PROOF,
    controller_id: str | None = None,
) -> ProofOutcome:
    """Verify every proof of a proof set or chain (VC Data Integrity 1.0 §4.5): each proof
    of a supported suite must verify, and at least one must be by a key of
    `controller_id` (default: the document's issuer). A proof of a suite this verifier
    does not implement is named in a warning, not checked.

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
    supported = [p for p in proofs if isinstance(p, Mapping) and _suite(p) in SUITES]
    ignored = [str(p.get("type")) if isinstance(p, Mapping) else "?" for p in proofs]
    ignored = [t for t, p in zip(ignored, proofs, strict=True) if p not in supported]
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
    controller = controller_id if controller_id is not None else issuer_id_of(document)
    outcomes = []
    for proof in supported:
        if checkpoint is not None:
            checkpoint()
        outcomes.append(
            _one_embedded(resolver, document, proof, controller, expected, loader, canonicalizer)
        )
    return _combined(outcomes, ignored)


def _combined(outcomes: list[ProofOutcome], ignored: list[str]) -> ProofOutcome:
    """One outcome for a proof set: the first failure, else the first that could not be
    checked, else success when some proof is by the expected controller's key."""
    count = len(outcomes)

    def numbered(index: int, outcome: ProofOutcome) -> ProofOutcome:
        if count == 1:
            return outcome
        check = outcome.proof
        message = f"proof {index + 1} of {count}: {check.message}"
        return replace(outcome, proof=Check(PROOF, check.status, message, check.indeterminate))

    bound = [o for o in outcomes if o.verified]
    # On a failure, the key check still says whether the issuer signed (some proof of it).
    key = bound[0].key if bound else None
    for index, outcome in enumerate(outcomes):
        if outcome.proof.status is Status.ERROR or _unusable(outcome):
            return replace(numbered(index, outcome), key=key or outcome.key, verified=False)
    for index, outcome in enumerate(outcomes):
        if outcome.proof.indeterminate or outcome.key.indeterminate:
            return replace(numbered(index, outcome), key=key or outcome.key, verified=False)
    if not bound:
        return numbered(0, outcomes[0])
    labels = [o.format or "?" for o in outcomes]
    warn = any(o.proof.status is Status.WARNING for o in outcomes) or bool(ignored)
    message = (
        outcomes[0].proof.message
        if count == 1
        else (f"all {count} proofs of the set verified: {', '.join(labels)}")
    )
    if ignored:
        message += (
            f" ({len(ignored)} proof(s) of a type this verifier does not implement not "
            f"checked: {', '.join(ignored)})"
        )
    proof = Check.warning(PROOF, message) if warn else Check.ok(PROOF, message)
    return ProofOutcome(proof, bound[0].key, bound[0].format, True)


def _unusable(outcome: ProofOutcome) -> bool:
    """A proof whose key is known to be unusable was not verified: a failure in a set."""
    return outcome.proof.status is Status.SKIPPED and not outcome.proof.indeterminate


def _suite(proof: Mapping[str, Any]) -> tuple[str, str | None] | None:
    kind, suite = proof.get("type"), proof.get("cryptosuite")
    # Only strings name a suite; a list or object here must not reach a dict lookup.
    if not isinstance(kind, str) or not (suite is None or isinstance(suite, str)):
        return None
    return kind, suite


def _label(proof: Mapping[str, Any]) -> tuple[str, bool]:
    """(label, legacy?) of a proof of a supported suite."""
    suite = _suite(proof)
    assert suite is not None and suite in SUITES  # verify_embedded keeps only those
    return SUITES[suite]


def _one_embedded(
    resolver: KeyResolver,
    document: Mapping[str, Any],
    proof: Mapping[str, Any],
    controller: str | None,
    expected: Expected,
    loader: DocumentLoader | None,
    canonicalizer: Canonicalizer | None,
) -> ProofOutcome:
    label, is_legacy = _label(proof)
    problem = expected.problem(proof)
    if problem is not None:
        return ProofOutcome(
            Check.error(PROOF, problem),
            Check.skipped(ISSUER_KEY, "not resolved: the proof is not the one expected"),
            label,
            False,
        )
    try:
        key = resolver.resolve_method(proof.get("verificationMethod"), expected.purpose)
    except KeyResolutionError as exc:
        return _unresolved(exc, label)
    binding = bound_key(
        resolver, controller, key, "issuer" if expected.purpose == ASSERTION else "holder"
    )
    result = verify_proof(
        document, proof, key.public_key, loader=loader, canonicalizer=canonicalizer
    )
    if not result.ok:
        return ProofOutcome(Check.error(PROOF, f"{label}: {result.error}"), binding, label, False)
    chained = " (chained to an earlier proof)" if "previousProof" in proof else ""
    if is_legacy:
        check = Check.warning(PROOF, f"{label} proof verified{chained}; the suite is superseded")
    else:
        check = Check.ok(PROOF, f"{label} proof verified{chained}")
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
        binding = bound_key(resolver, issuer_id, key)
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
