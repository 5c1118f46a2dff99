"""Multikey encoding of Ed25519 and P-256 keys (W3C Controlled Identifiers §2.2.2, vc-di-eddsa).

A Multikey value is multibase base58btc (`z` prefix) of a multicodec varint code followed by
the raw key bytes:

    ed25519-pub  0xed   -> varint ed 01, 32 bytes            -> "z6Mk…"
    ed25519-priv 0x1300 -> varint 80 26, 32-byte seed        -> "z3u2…"
    p256-pub     0x1200 -> varint 80 24, 33-byte compressed  -> "zDn…"
    p256-priv    0x1306 -> varint 86 26, 32-byte scalar

base58btc is written here: it is a few lines, and a dependency for it is not worth having.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

MultikeyPublicKey = Ed25519PublicKey | ec.EllipticCurvePublicKey
MultikeyPrivateKey = Ed25519PrivateKey | ec.EllipticCurvePrivateKey

ED25519_PUB = 0xED
ED25519_PRIV = 0x1300
P256_PUB = 0x1200
P256_PRIV = 0x1306

_CODEC_NAMES = {
    ED25519_PUB: "ed25519-pub",
    ED25519_PRIV: "ed25519-priv",
    P256_PUB: "p256-pub",
    P256_PRIV: "p256-priv",
}

_B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {char: value for value, char in enumerate(_B58_ALPHABET)}
# Decoding is quadratic in the length; the longest key here (an Ed25519 seed+public secret)
# is 90 characters, so anything far beyond that is refused before doing the work.
_MAX_MULTIBASE_CHARS = 128


class KeyFormatError(ValueError):
    """A key encoding is malformed or of a kind this module does not handle."""


# Two base58 digits per step: half the big-integer divisions, a quarter of the time.
_B58_PAIRS = [high + low for high in _B58_ALPHABET for low in _B58_ALPHABET]


def b58encode(data: bytes) -> str:
    """base58btc (Bitcoin alphabet); each leading zero byte becomes a leading '1'."""
    zeros = len(data) - len(data.lstrip(b"\0"))
    number = int.from_bytes(data, "big")
    pairs = []
    while number:
        number, remainder = divmod(number, 58 * 58)
        pairs.append(_B58_PAIRS[remainder])
    # The top pair may start with a zero digit ('1') the number does not have.
    return "1" * zeros + "".join(reversed(pairs)).lstrip("1")


def b58decode(text: str) -> bytes:
    """Inverse of b58encode; KeyFormatError on a character outside the alphabet."""
    number = 0
    for char in text:
        value = _B58_INDEX.get(char)
        if value is None:
            raise KeyFormatError("invalid base58btc character")
        number = number * 58 + value
    zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * zeros + body


def encode_varint(value: int) -> bytes:
    """Unsigned LEB128, as multicodec uses."""
    if value < 0:
        raise ValueError("varint must be non-negative")
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def decode_varint(data: bytes) -> tuple[int, bytes]:
    """(value, rest); multicodec varints are at most 9 bytes and minimally encoded."""
    value = 0
    for index, byte in enumerate(data[:9]):
        value |= (byte & 0x7F) << (7 * index)
        if not byte & 0x80:
            if byte == 0 and index > 0:
                raise KeyFormatError("multicodec varint is not minimally encoded")
            return value, data[index + 1 :]
    raise KeyFormatError("truncated or overlong multicodec varint")


def _decode_multibase(multibase: str) -> tuple[int, bytes]:
    if not isinstance(multibase, str) or not multibase:
        raise KeyFormatError("a Multikey value must be a non-empty string")
    if multibase[0] != "z":
        raise KeyFormatError("unsupported multibase prefix: only base58btc ('z') is accepted")
    if len(multibase) > _MAX_MULTIBASE_CHARS:
        raise KeyFormatError("Multikey value is too long")
    return decode_varint(b58decode(multibase[1:]))


def _encode_multibase(codec: int, raw: bytes) -> str:
    return "z" + b58encode(encode_varint(codec) + raw)


def _codec_name(codec: int) -> str:
    return _CODEC_NAMES.get(codec, f"0x{codec:x}")


def _require_p256(curve: ec.EllipticCurve) -> None:
    if not isinstance(curve, ec.SECP256R1):
        raise KeyFormatError(f"unsupported elliptic curve {curve.name}: only P-256 is handled")


def encode_public_key(key: MultikeyPublicKey) -> str:
    """The publicKeyMultibase of an Ed25519 or P-256 public key."""
    if isinstance(key, Ed25519PublicKey):
        return _encode_multibase(ED25519_PUB, key.public_bytes_raw())
    if isinstance(key, ec.EllipticCurvePublicKey):
        _require_p256(key.curve)
        return _encode_multibase(
            P256_PUB, key.public_bytes(Encoding.X962, PublicFormat.CompressedPoint)
        )
    raise KeyFormatError(f"unsupported public key type {type(key).__name__}")


def decode_public_key(multibase: str) -> MultikeyPublicKey:
    """Parse a publicKeyMultibase (or the z… part of a did:key) into a key object."""
    codec, raw = _decode_multibase(multibase)
    if codec == ED25519_PUB:
        if len(raw) != 32:
            raise KeyFormatError(f"ed25519-pub key must be 32 bytes, got {len(raw)}")
        return Ed25519PublicKey.from_public_bytes(raw)
    if codec == P256_PUB:
        # The Multikey spec fixes the compressed form; an uncompressed point is refused.
        if len(raw) != 33 or raw[0] not in (2, 3):
            raise KeyFormatError("p256-pub key must be a 33-byte compressed point")
        try:
            return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
        except ValueError:
            raise KeyFormatError("p256-pub key is not a point on the curve") from None
    if codec in (ED25519_PRIV, P256_PRIV):
        raise KeyFormatError(f"expected a public key, got {_codec_name(codec)}")
    raise KeyFormatError(f"unsupported multicodec {_codec_name(codec)}")


def encode_private_key(key: MultikeyPrivateKey) -> str:
    """The secretKeyMultibase of an Ed25519 (32-byte seed) or P-256 private key."""
    if isinstance(key, Ed25519PrivateKey):
        return _encode_multibase(ED25519_PRIV, key.private_bytes_raw())
    if isinstance(key, ec.EllipticCurvePrivateKey):
        _require_p256(key.curve)
        scalar = key.private_numbers().private_value
        return _encode_multibase(P256_PRIV, scalar.to_bytes(32, "big"))
    raise KeyFormatError(f"unsupported private key type {type(key).__name__}")


def decode_private_key(multibase: str) -> MultikeyPrivateKey:
    """Parse a secretKeyMultibase into a key object.

    Ed25519 comes as the 32-byte seed (W3C vc-di-eddsa vector) or as seed ‖ public key
    (64 bytes, as in the OB 3.0 implementation guide); in the latter form the public half
    must match the seed. Error messages never contain key bytes.
    """
    codec, raw = _decode_multibase(multibase)
    if codec == ED25519_PRIV:
        if len(raw) not in (32, 64):
            raise KeyFormatError(f"ed25519-priv key must be 32 or 64 bytes, got {len(raw)}")
        key = Ed25519PrivateKey.from_private_bytes(raw[:32])
        if len(raw) == 64 and key.public_key().public_bytes_raw() != raw[32:]:
            raise KeyFormatError("ed25519-priv key: the public half does not match the seed")
        return key
    if codec == P256_PRIV:
        if len(raw) != 32:
            raise KeyFormatError(f"p256-priv key must be 32 bytes, got {len(raw)}")
        try:
            return ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
        except ValueError:
            raise KeyFormatError("p256-priv key is out of range for the curve") from None
    if codec in (ED25519_PUB, P256_PUB):
        raise KeyFormatError(f"expected a private key, got {_codec_name(codec)}")
    raise KeyFormatError(f"unsupported multicodec {_codec_name(codec)}")
