"""VC-JWT proofs for Open Badges 3.0 on VC DM 2.0 (OB 3.0 §8.2 "JSON Web Token Proof Format").

The JWT payload is the credential itself plus the registered claims `iss` (issuer id), `jti`
(credential id), `sub` (credentialSubject.id), `nbf` (validFrom), `exp` (validUntil) and
`iat`; there is no `vc` claim (that was VC DM 1.1, still read here and flagged as legacy).
The header is `alg`, `typ: "JWT"` (OB §8.2: "If present, MUST be set to JWT"), and `kid`
and/or `jwk`.

The JWS code is written on `cryptography` instead of PyJWT or python-jose: it is small and
exact, and the algorithm check is ours. The key decides the algorithm, never the token, so
`alg: none`, HS256 with a public key as the HMAC secret, or any alg that does not fit the
key's type is refused before a signature is looked at.

`verify` checks the signature only. Which key may sign for the issuer (a `jwk` header is
whatever the presenter chose), dates, and claims are the verifier's business;
`credential_from_payload` reports how the claims match the credential.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.utils import (
    encode_dss_signature,
)

from keys.jwk import JwkError, PublicKey, b64url_decode, b64url_encode, jws_algorithm, public_jwk
from keys.signer import Signer

SUPPORTED_ALGORITHMS = ("EdDSA", "ES256", "RS256")
# The registered claims this format puts next to the credential's own members.
JWT_CLAIMS = ("iss", "sub", "aud", "exp", "nbf", "iat", "jti")
_P256_COORDINATE_BYTES = 32


class JwtError(ValueError):
    """A token is malformed, uses a refused algorithm, or its signature does not verify."""


# --- signing ---------------------------------------------------------------------------


def sign(
    credential: Mapping[str, Any],
    *,
    signer: Signer,
    alg: str | None = None,
    embed_jwk: bool = False,
    issued_at: datetime | None = None,
) -> str:
    """The compact JWS of an OB 3.0 credential (VC DM 2.0).

    `alg` is the signer's (EdDSA for Ed25519, ES256 for P-256). OB §8.2 needs a `kid` (the
    signer's) or the public `jwk` in the header; `embed_jwk` adds the latter. The credential
    must have `id`, `issuer` and `validFrom`, as `jti`, `iss` and `nbf` are required claims.
    """
    key_alg, kid = signer.algorithm, signer.kid
    if key_alg not in ("EdDSA", "ES256"):
        raise JwtError(f"signing is with Ed25519 (EdDSA) or P-256 (ES256) keys, not {key_alg}")
    if alg is not None and alg != key_alg:
        raise JwtError(f"alg {alg!r} does not fit the signing key (its alg is {key_alg})")
    if kid is None and not embed_jwk:
        raise JwtError("a VC-JWT header needs a kid or an embedded jwk (OB 3.0 §8.2)")
    header: dict[str, Any] = {"alg": key_alg, "typ": "JWT"}
    if kid is not None:
        header["kid"] = kid
    if embed_jwk:
        header["jwk"] = public_jwk(signer.public_key)
    payload = _payload(credential, issued_at or datetime.now(UTC))
    return sign_compact_jws(header, _json_bytes(payload), signer)


def sign_compact_jws(header: Mapping[str, Any], payload: bytes, signer: Signer) -> str:
    """Compact JWS serialization (RFC 7515 §7.1) of `payload` under `header`."""
    signing_input = f"{b64url_encode(_json_bytes(header))}.{b64url_encode(payload)}"
    # Signers give ES256 signatures as raw r ‖ s (RFC 7518 §3.4), as JWS wants, not DER.
    signature = signer.sign(signing_input.encode("ascii"))
    return f"{signing_input}.{b64url_encode(signature)}"


def _payload(credential: Mapping[str, Any], issued_at: datetime) -> dict[str, Any]:
    if not isinstance(credential, Mapping):
        raise JwtError("a credential must be a JSON object")
    claims: dict[str, Any] = {
        "iss": _required_id(credential.get("issuer"), "issuer"),
        "jti": _required_id(credential.get("id"), "id"),
    }
    subject_id = _object_id(credential.get("credentialSubject"))
    if subject_id is not None:
        claims["sub"] = subject_id
    if "validFrom" not in credential:
        raise JwtError("the credential has no validFrom, which the required nbf claim carries")
    claims["nbf"] = _numeric_date(credential["validFrom"], "validFrom")
    if "validUntil" in credential:
        claims["exp"] = _numeric_date(credential["validUntil"], "validUntil")
    claims["iat"] = _timestamp(issued_at)
    for name in JWT_CLAIMS:
        if name in credential and credential[name] != claims.get(name):
            raise JwtError(f"the credential's own {name!r} member conflicts with the JWT claim")
    return {**credential, **claims}


def _required_id(value: Any, name: str) -> str:
    found = value if isinstance(value, str) else _object_id(value)
    if not found:
        raise JwtError(f"the credential has no {name} id, which a required JWT claim carries")
    return found


# --- verification ----------------------------------------------------------------------


def decode_unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(header, payload) without checking the signature: for choosing the key, and display."""
    header, payload, _, _ = _parse(token)
    return header, _json_object(payload, "payload")


def verify_compact_jws(token: str, public_key: PublicKey) -> tuple[dict[str, Any], bytes]:
    """Check a compact JWS signature with `public_key`; (header, raw payload) when valid."""
    header, payload, signing_input, signature = _parse(token)
    alg = header.get("alg")
    if not isinstance(alg, str):
        raise JwtError("the JWS header has no alg")
    if alg.lower() == "none":
        raise JwtError("unsigned tokens (alg none) are refused")
    if alg not in SUPPORTED_ALGORITHMS:
        raise JwtError(f"unsupported alg {alg!r}; accepted: {', '.join(SUPPORTED_ALGORITHMS)}")
    try:
        key_alg = jws_algorithm(public_key)
    except (JwkError, TypeError) as exc:
        raise JwtError(f"not a usable verification key: {exc}") from None
    if alg != key_alg:
        raise JwtError(f"alg {alg!r} does not match the verification key (expects {key_alg})")
    if "crit" in header:
        raise JwtError("the JWS header has critical extensions this verifier does not know")
    if not _signature_valid(public_key, signature, signing_input):
        raise JwtError("the JWS signature does not verify")
    return header, payload


def verify(token: str, public_key: PublicKey) -> dict[str, Any]:
    """The JWT payload when the signature verifies with `public_key`; JwtError otherwise."""
    _, payload = verify_compact_jws(token, public_key)
    return _json_object(payload, "payload")


def _signature_valid(key: PublicKey, signature: bytes, data: bytes) -> bool:
    try:
        if isinstance(key, Ed25519PublicKey):
            key.verify(signature, data)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            if len(signature) != 2 * _P256_COORDINATE_BYTES:
                return False
            r = int.from_bytes(signature[:_P256_COORDINATE_BYTES], "big")
            s = int.from_bytes(signature[_P256_COORDINATE_BYTES:], "big")
            key.verify(encode_dss_signature(r, s), data, ec.ECDSA(hashes.SHA256()))
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        else:
            return False
    except InvalidSignature:
        return False
    return True


def _parse(token: str) -> tuple[dict[str, Any], bytes, bytes, bytes]:
    if not isinstance(token, str):
        raise JwtError("a compact JWS must be a string")
    segments = token.split(".")
    if len(segments) != 3:
        raise JwtError(f"a compact JWS has 3 dot-separated segments, this has {len(segments)}")
    decoded = []
    for name, segment in zip(("header", "payload", "signature"), segments, strict=True):
        if not segment:
            raise JwtError(f"the JWS {name} segment is empty")
        try:
            decoded.append(b64url_decode(segment))
        except ValueError:
            raise JwtError(f"the JWS {name} segment is not strict base64url") from None
    header = _json_object(decoded[0], "header")
    signing_input = f"{segments[0]}.{segments[1]}".encode("ascii")
    return header, decoded[1], signing_input, decoded[2]


def _json_object(data: bytes, name: str) -> dict[str, Any]:
    try:
        value = json.loads(data.decode("utf-8"), object_pairs_hook=refuse_duplicates)
    except DuplicateMemberError:
        raise JwtError(f"the JWS {name} repeats a member name") from None
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise JwtError(f"the JWS {name} is not JSON") from None
    if not isinstance(value, dict):
        raise JwtError(f"the JWS {name} must be a JSON object")
    return value


class DuplicateMemberError(Exception):
    """A JSON object names the same member twice."""


def refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """`json.loads` object hook. RFC 7515 §5.2: a parser must reject duplicate names or use
    the last one; silently picking one hides what another parser would see."""
    result = dict(pairs)
    if len(result) != len(pairs):
        raise DuplicateMemberError
    return result


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode(
        "utf-8"
    )


# --- the credential inside a payload ---------------------------------------------------


@dataclass(frozen=True)
class ClaimProblem:
    """A JWT claim that is missing or disagrees with the credential.

    OB 3.0 §8.2, "Verify a Credential VC-JWT Signature".
    """

    claim: str
    kind: str  # "missing" | "mismatch"
    message: str


@dataclass(frozen=True)
class JwtCredential:
    credential: dict[str, Any]
    legacy: bool  # VC DM 1.1 encoding: the credential sat in the `vc` claim
    problems: tuple[ClaimProblem, ...]


def credential_from_payload(payload: Mapping[str, Any]) -> JwtCredential:
    """The credential a verified payload carries, and how its JWT claims match it.

    VC DM 2.0: the payload minus the registered claims. VC DM 1.1: the `vc` claim, with
    the members the JWT claims stand for filled in when absent (VC DM 1.1 §6.3.1). In both,
    an `exp` with no expiry in the credential sets it, as OB §8.2 says.
    """
    if "@context" in payload:
        legacy = False
        credential = {k: v for k, v in payload.items() if k not in JWT_CLAIMS}
        start, end = "validFrom", "validUntil"
    elif isinstance(payload.get("vc"), Mapping):
        legacy = True
        credential = _legacy_credential(payload)
        start, end = "issuanceDate", "expirationDate"
    else:
        raise JwtError("the JWT payload carries no credential")
    if "exp" in payload and end not in credential and _is_numeric_date(payload["exp"]):
        credential[end] = _iso_datetime(payload["exp"])
    problems = [
        *_match_id(payload, "iss", _object_id_or_string(credential.get("issuer")), "issuer id"),
        *_match_id(payload, "jti", credential.get("id"), "credential id"),
        *_match_id(payload, "sub", _object_id(credential.get("credentialSubject")), "subject id"),
        *_match_date(payload, "nbf", credential.get(start), start, required=True),
        *_match_date(payload, "exp", credential.get(end), end, required=end in credential),
    ]
    return JwtCredential(credential=credential, legacy=legacy, problems=tuple(problems))


def _legacy_credential(payload: Mapping[str, Any]) -> dict[str, Any]:
    credential = dict(payload["vc"])
    if "jti" in payload:
        credential.setdefault("id", payload["jti"])
    if "iss" in payload:
        credential.setdefault("issuer", payload["iss"])
    if "nbf" in payload and _is_numeric_date(payload["nbf"]):
        credential.setdefault("issuanceDate", _iso_datetime(payload["nbf"]))
    subject = credential.get("credentialSubject")
    if "sub" in payload and isinstance(subject, Mapping) and "id" not in subject:
        credential["credentialSubject"] = {**subject, "id": payload["sub"]}
    return credential


def _match_id(
    payload: Mapping[str, Any], claim: str, expected: Any, what: str
) -> list[ClaimProblem]:
    if claim not in payload:
        if expected is None:
            return []
        return [ClaimProblem(claim, "missing", f"no {claim} claim; the credential has a {what}")]
    if payload[claim] != expected:
        return [ClaimProblem(claim, "mismatch", f"{claim} differs from the credential's {what}")]
    return []


def _match_date(
    payload: Mapping[str, Any], claim: str, value: Any, member: str, *, required: bool
) -> list[ClaimProblem]:
    if claim not in payload:
        if required:
            return [ClaimProblem(claim, "missing", f"no {claim} claim for the {member}")]
        return []
    if not _is_numeric_date(payload[claim]):
        return [ClaimProblem(claim, "mismatch", f"{claim} is not a NumericDate")]
    try:
        expected = _numeric_date(value, member)
    except JwtError:
        return [ClaimProblem(claim, "mismatch", f"{claim} has no valid {member} to match")]
    # NumericDate may drop sub-second digits the dateTime has.
    if abs(payload[claim] - expected) >= 1:
        return [ClaimProblem(claim, "mismatch", f"{claim} differs from the {member}")]
    return []


# --- small helpers ---------------------------------------------------------------------


def _object_id(value: Any) -> str | None:
    ident = value.get("id") if isinstance(value, Mapping) else None
    return ident if isinstance(ident, str) else None


def _object_id_or_string(value: Any) -> str | None:
    return value if isinstance(value, str) else _object_id(value)


def _numeric_date(value: Any, member: str) -> int | float:
    """An xsd:dateTimeStamp as a JWT NumericDate (whole seconds when it has no fraction)."""
    if not isinstance(value, str):
        raise JwtError(f"{member} must be a date-time string")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise JwtError(f"{member} is not an ISO 8601 date-time") from None
    if moment.tzinfo is None:
        raise JwtError(f"{member} has no time zone, so it names no single instant")
    return _timestamp(moment)


def _timestamp(moment: datetime) -> int | float:
    if moment.tzinfo is None:
        raise JwtError("a NumericDate needs a time-zone-aware datetime")
    stamp = moment.timestamp()
    return int(stamp) if moment.microsecond == 0 else stamp


def _is_numeric_date(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _iso_datetime(stamp: int | float) -> str:
    try:
        moment = datetime.fromtimestamp(stamp, UTC)
    except (OverflowError, OSError, ValueError):
        raise JwtError("a NumericDate claim is out of range") from None
    timespec = "seconds" if moment.microsecond == 0 else "microseconds"
    return moment.isoformat(timespec=timespec).replace("+00:00", "Z")
