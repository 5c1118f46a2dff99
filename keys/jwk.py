"""JSON Web Keys (RFC 7517/7518/8037) for public keys only, thumbprints (RFC 7638), JWKS.

Private members (`d`, RSA CRT values, `k`) are never emitted, and a JWK carrying one is
refused on input: a published key with `d` is a leaked key (OB 3.0 §8.2: "The JWK MUST
never contain d").
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

PublicKey = Ed25519PublicKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey

# RFC 7518 §3.3: RS256 keys MUST be 2048 bits or larger.
MIN_RSA_BITS = 2048

_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_THUMBPRINT_MEMBERS = {
    "OKP": ("crv", "kty", "x"),
    "EC": ("crv", "kty", "x", "y"),
    "RSA": ("e", "kty", "n"),
}
_B64URL_CHARS = re.compile(r"[A-Za-z0-9_-]*")


class JwkError(ValueError):
    """A JWK is malformed, private, or of a key type this project does not handle."""


def b64url_encode(data: bytes) -> str:
    """base64url without padding (RFC 7515 §2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict base64url: no padding, no other characters, canonical trailing bits.

    The canonical check matters for signatures: without it, changing the last character
    of a segment can leave the decoded bytes unchanged.
    """
    if not isinstance(text, str) or not _B64URL_CHARS.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError("not base64url")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if b64url_encode(data) != text:
        raise ValueError("non-canonical base64url")
    return data


def jws_algorithm(key: PublicKey) -> str:
    """The one JWS `alg` this project pairs with a key type (EdDSA, ES256, RS256)."""
    if isinstance(key, Ed25519PublicKey):
        return "EdDSA"
    if isinstance(key, ec.EllipticCurvePublicKey):
        _require_p256(key.curve)
        return "ES256"
    if isinstance(key, rsa.RSAPublicKey):
        _require_rsa_size(key.key_size)
        return "RS256"
    raise TypeError(f"unsupported public key type {type(key).__name__}")


def public_jwk(
    key: PublicKey, *, kid: str | None = None, alg: str | None = None, use: str | None = None
) -> dict[str, str]:
    """The public JWK of `key`: key-type members, then `kid`, `alg`, `use` when given.

    Only public key objects are accepted, so a private parameter cannot slip in.
    """
    jwk: dict[str, str]
    if isinstance(key, Ed25519PublicKey):
        jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(key.public_bytes_raw())}
    elif isinstance(key, ec.EllipticCurvePublicKey):
        _require_p256(key.curve)
        numbers = key.public_numbers()
        jwk = {
            "kty": "EC",
            "crv": "P-256",
            "x": b64url_encode(numbers.x.to_bytes(32, "big")),
            "y": b64url_encode(numbers.y.to_bytes(32, "big")),
        }
    elif isinstance(key, rsa.RSAPublicKey):
        rsa_numbers = key.public_numbers()
        jwk = {"kty": "RSA", "n": _b64url_uint(rsa_numbers.n), "e": _b64url_uint(rsa_numbers.e)}
    else:
        raise TypeError(f"not a supported public key: {type(key).__name__}")
    if alg is not None and alg != jws_algorithm(key):
        raise JwkError(f"alg {alg!r} does not fit a {jwk['kty']} key")
    for name, value in (("kid", kid), ("alg", alg), ("use", use)):
        if value is not None:
            jwk[name] = value
    return jwk


def jwk_to_public_key(jwk: Mapping[str, Any]) -> PublicKey:
    """Parse a public JWK: OKP/Ed25519, EC/P-256 or RSA (>= 2048 bits, for third-party RS256)."""
    if not isinstance(jwk, Mapping):
        raise JwkError("a JWK must be a JSON object")
    if _PRIVATE_MEMBERS & jwk.keys():
        raise JwkError("the JWK contains private key members; refusing it")
    if jwk.get("use", "sig") != "sig":
        raise JwkError("the JWK is not a signature key (use != 'sig')")
    kty = jwk.get("kty")
    key: PublicKey
    if kty == "OKP":
        if jwk.get("crv") != "Ed25519":
            raise JwkError(f"unsupported OKP curve {jwk.get('crv')!r}")
        key = Ed25519PublicKey.from_public_bytes(_member(jwk, "x", size=32))
    elif kty == "EC":
        if jwk.get("crv") != "P-256":
            raise JwkError(f"unsupported EC curve {jwk.get('crv')!r}")
        x = int.from_bytes(_member(jwk, "x", size=32), "big")
        y = int.from_bytes(_member(jwk, "y", size=32), "big")
        try:
            key = ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
        except ValueError:
            raise JwkError("the EC JWK is not a point on P-256") from None
    elif kty == "RSA":
        n = int.from_bytes(_member(jwk, "n"), "big")
        e = int.from_bytes(_member(jwk, "e"), "big")
        _require_rsa_size(n.bit_length())
        try:
            key = rsa.RSAPublicNumbers(e, n).public_key()
        except ValueError:
            raise JwkError("the RSA JWK has invalid parameters") from None
    else:
        raise JwkError(f"unsupported JWK kty {kty!r}")
    alg = jwk.get("alg")
    if alg is not None and alg != jws_algorithm(key):
        raise JwkError(f"the JWK's alg {alg!r} does not fit its key type")
    return key


def jwk_thumbprint(key: PublicKey | Mapping[str, Any]) -> str:
    """RFC 7638 SHA-256 thumbprint (RFC 8037 §2 for OKP), base64url.

    The JWK form is re-derived from the key, so equal keys give equal thumbprints whatever
    extra members or encodings the input had.
    """
    public_key = jwk_to_public_key(key) if isinstance(key, Mapping) else key
    jwk = public_jwk(public_key)
    required = {name: jwk[name] for name in _THUMBPRINT_MEMBERS[jwk["kty"]]}
    canonical = json.dumps(required, separators=(",", ":"), sort_keys=True)
    return b64url_encode(hashlib.sha256(canonical.encode("utf-8")).digest())


def build_jwks(keys: Iterable[tuple[str, PublicKey]]) -> dict[str, list[dict[str, str]]]:
    """`{"keys": [...]}` from (kid, public key) pairs, each with its `alg` and `use: sig`."""
    entries = [public_jwk(key, kid=kid, alg=jws_algorithm(key), use="sig") for kid, key in keys]
    kids = [entry["kid"] for entry in entries]
    if len(set(kids)) != len(kids):
        raise JwkError("duplicate kid in JWKS")
    return {"keys": entries}


def _member(jwk: Mapping[str, Any], name: str, *, size: int | None = None) -> bytes:
    try:
        value = b64url_decode(jwk[name])
    except KeyError:
        raise JwkError(f"the JWK lacks {name!r}") from None
    except ValueError:
        raise JwkError(f"the JWK member {name!r} is not base64url") from None
    if size is not None and len(value) != size:
        raise JwkError(f"the JWK member {name!r} must be {size} bytes")
    if not value:
        raise JwkError(f"the JWK member {name!r} is empty")
    return value


def _b64url_uint(value: int) -> str:
    # RFC 7518 §2 Base64urlUInt: big-endian, minimal length (at least one byte).
    return b64url_encode(value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big"))


def _require_p256(curve: ec.EllipticCurve) -> None:
    if not isinstance(curve, ec.SECP256R1):
        raise JwkError(f"unsupported elliptic curve {curve.name}: only P-256 is handled")


def _require_rsa_size(bits: int) -> None:
    if bits < MIN_RSA_BITS:
        raise JwkError(f"RSA keys must be at least {MIN_RSA_BITS} bits, got {bits}")
