"""The `jwt` key proof of a Credential Request (OpenID4VCI 1.0 Appendix F.1, F.4), checked
with our own JWS code (badges.proofs.vc_jwt) and did:key resolution (keys.did).

The holder names its key in the header as a `kid` that is a did:key DID URL, or as a public
`jwk` (Ed25519 or P-256); exactly one of them. The credential is bound to the holder's DID:
the kid's DID, or the did:key of the jwk. The signature must verify with that key; `aud` must
be our Credential Issuer Identifier, `iat` recent, and `nonce` a c_nonce (spent by the caller,
so that a proof that fails here does not use one up).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from badges.proofs import vc_jwt
from badges.wallet.errors import InvalidProof
from badges.wallet.metadata import PROOF_ALGORITHMS
from keys.did import DidError, did_key_from_public_key, resolve_did_key
from keys.jwk import JwkError, PublicKey, jwk_to_public_key
from keys.multikey import KeyFormatError

PROOF_TYPE = "openid4vci-proof+jwt"
MAX_PROOF_CHARS = 8_000
CLOCK_SKEW = timedelta(seconds=60)
_UNSUPPORTED_HEADERS = ("x5c", "trust_chain", "key_attestation")


@dataclass(frozen=True)
class KeyProof:
    holder: str  # the DID the credential is bound to
    nonce: str


def verify_key_proof(token: Any, *, audience: str, now: datetime, max_age: timedelta) -> KeyProof:
    """The holder and nonce of a valid key proof; InvalidProof with the reason otherwise."""
    if not isinstance(token, str) or not token:
        raise InvalidProof("each jwt proof must be a non-empty string")
    if len(token) > MAX_PROOF_CHARS:
        raise InvalidProof(f"the key proof is longer than {MAX_PROOF_CHARS} characters")
    try:
        header, _ = vc_jwt.decode_unverified(token)
    except vc_jwt.JwtError as exc:
        raise InvalidProof(f"the key proof is not a JWT: {exc}") from None
    if header.get("typ") != PROOF_TYPE:
        raise InvalidProof(f"the key proof's typ must be {PROOF_TYPE}")
    if header.get("alg") not in PROOF_ALGORITHMS:
        raise InvalidProof(f"the key proof's alg must be one of {', '.join(PROOF_ALGORITHMS)}")
    holder, key = _holder_key(header)
    try:
        payload = vc_jwt.verify(token, key)
    except vc_jwt.JwtError as exc:
        raise InvalidProof(f"the key proof does not verify: {exc}") from None
    _check_claims(payload, audience, now, max_age)
    return KeyProof(holder=holder, nonce=payload["nonce"])


def _holder_key(header: Mapping[str, Any]) -> tuple[str, PublicKey]:
    unsupported = [name for name in _UNSUPPORTED_HEADERS if name in header]
    if unsupported:
        raise InvalidProof(f"the key proof's {unsupported[0]} header is not supported here")
    kid, jwk = header.get("kid"), header.get("jwk")
    if (kid is None) == (jwk is None):
        raise InvalidProof("the key proof's header needs exactly one of kid and jwk")
    if kid is not None:
        if not isinstance(kid, str) or not kid.startswith("did:key:"):
            raise InvalidProof("the key proof's kid must be a did:key DID URL")
        try:
            _, key = resolve_did_key(kid)
        except DidError as exc:
            raise InvalidProof(f"the key proof's kid: {exc}") from None
        return kid.partition("#")[0], key
    if not isinstance(jwk, Mapping):
        raise InvalidProof("the key proof's jwk must be a JSON object")
    try:
        public = jwk_to_public_key(jwk)
    except (JwkError, TypeError, ValueError) as exc:
        raise InvalidProof(f"the key proof's jwk: {exc}") from None
    if not isinstance(public, Ed25519PublicKey | ec.EllipticCurvePublicKey):
        raise InvalidProof("the key proof's jwk must be an Ed25519 or P-256 key")
    try:
        return did_key_from_public_key(public), public
    except KeyFormatError as exc:
        raise InvalidProof(f"the key proof's jwk: {exc}") from None


def _number(value: Any) -> bool:
    # JSON parsers accept NaN and Infinity; neither is a time, and NaN passes every comparison.
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _check_claims(
    payload: Mapping[str, Any], audience: str, now: datetime, max_age: timedelta
) -> None:
    aud = payload.get("aud")
    if aud != audience and not (isinstance(aud, list) and audience in aud):
        raise InvalidProof(f"the key proof's aud must be the Credential Issuer {audience}")
    iat = payload.get("iat")
    if not _number(iat):
        raise InvalidProof("the key proof has no iat (a NumericDate)")
    assert isinstance(iat, int | float)
    stamp = now.timestamp()
    if iat > stamp + CLOCK_SKEW.total_seconds():
        raise InvalidProof("the key proof's iat is in the future")
    if iat < stamp - (max_age + CLOCK_SKEW).total_seconds():
        raise InvalidProof("the key proof is too old: make a new one with a fresh nonce")
    exp = payload.get("exp")
    if exp is not None and (not _number(exp) or exp <= stamp):
        raise InvalidProof("the key proof has expired")
    if not isinstance(payload.get("nonce"), str) or not payload["nonce"]:
        raise InvalidProof("the key proof has no nonce: get a c_nonce from the nonce endpoint")
