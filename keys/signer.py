"""Signers: what `keys/` hands out instead of private keys.

A signer signs bytes and says how to find its public key again (the Data Integrity
verification method, the JWT `kid`): the shape Digital Bazaar's suites take. The proof
suites, status lists and the e-seal sign through one, so no private key object leaves
`keys/`. Signatures come in their JOSE / Data Integrity form: ECDSA as raw r ‖ s
(RFC 7518 §3.4), not DER.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from keys.jwk import PublicKey

Algorithm = Literal["EdDSA", "ES256", "RS256", "PS256"]
PrivateKey = Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
_P256_COORDINATE_BYTES = 32


class UnsupportedKey(ValueError):
    """The key cannot sign with the asked algorithm (or with any this project uses)."""


class Signer(Protocol):
    @property
    def algorithm(self) -> str:
        """The JOSE `alg` name of the signatures."""
        ...

    @property
    def verification_method(self) -> str:
        """The DID URL of the key, for Data Integrity proofs ("" when it has none)."""
        ...

    @property
    def kid(self) -> str | None:
        """The JWT header `kid`, resolvable in the controller's DID document."""
        ...

    @property
    def public_key(self) -> PublicKey: ...

    def sign(self, data: bytes) -> bytes: ...


class KeySigner:
    """A private key closed over: it signs, it never shows the key (not even in its repr)."""

    __slots__ = ("_key", "algorithm", "kid", "public_key", "verification_method")

    def __init__(
        self, key: PrivateKey, algorithm: Algorithm, verification_method: str, kid: str | None
    ) -> None:
        _check_fits(key, algorithm)
        self._key = key
        self.algorithm: Algorithm = algorithm
        self.verification_method = verification_method
        self.kid = kid
        self.public_key: PublicKey = key.public_key()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.algorithm}, {self.verification_method or self.kid!r})"

    def sign(self, data: bytes) -> bytes:
        key = self._key
        if isinstance(key, Ed25519PrivateKey):
            return key.sign(data)
        if isinstance(key, ec.EllipticCurvePrivateKey):
            r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
            return r.to_bytes(_P256_COORDINATE_BYTES, "big") + s.to_bytes(
                _P256_COORDINATE_BYTES, "big"
            )
        if self.algorithm == "PS256":
            # RFC 7518 §3.5: MGF1 with SHA-256 and a salt as long as the hash.
            pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
            return key.sign(data, pss, hashes.SHA256())
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def default_algorithm(key: PrivateKey) -> Algorithm:
    """The one algorithm this project pairs with a key type."""
    if isinstance(key, Ed25519PrivateKey):
        return "EdDSA"
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return "ES256"
    if isinstance(key, rsa.RSAPrivateKey):
        return "RS256"
    raise UnsupportedKey(f"unsupported private key type {type(key).__name__}")


def _check_fits(key: PrivateKey, algorithm: str) -> None:
    if algorithm == "EdDSA":
        fits, needs = isinstance(key, Ed25519PrivateKey), "an Ed25519"
    elif algorithm == "ES256":
        fits = isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1)
        needs = "a P-256"
    elif algorithm in ("RS256", "PS256"):
        fits, needs = isinstance(key, rsa.RSAPrivateKey), "an RSA"
    else:
        raise UnsupportedKey(f"unsupported algorithm {algorithm!r}")
    if not fits:
        raise UnsupportedKey(f"{algorithm} needs {needs} key")


def from_private_key(
    key: PrivateKey,
    *,
    verification_method: str = "",
    kid: str | None = None,
    algorithm: Algorithm | None = None,
) -> KeySigner:
    """A signer over a key held elsewhere: test vectors, fixtures, a benchmark's own key."""
    return KeySigner(key, algorithm or default_algorithm(key), verification_method, kid)


class ESealSigner(KeySigner):
    """Signs JAdES e-seals: an RSA or P-256 key with its certificate chain (leaf first)."""

    __slots__ = ("chain",)

    def __init__(
        self, key: PrivateKey, chain: Sequence[x509.Certificate], algorithm: Algorithm | None = None
    ) -> None:
        super().__init__(key, algorithm or default_algorithm(key), "", None)
        self.chain = list(chain)


def eseal_signer(
    chain: Sequence[x509.Certificate], key: PrivateKey, *, algorithm: Algorithm | None = None
) -> ESealSigner:
    """An e-seal signer over a key held elsewhere (a certificate file being imported, tests)."""
    return ESealSigner(key, chain, algorithm)
