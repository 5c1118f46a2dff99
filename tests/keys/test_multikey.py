"""Multikey encoding against the W3C vc-di-eddsa and OB 3.0 implementation-guide key pairs."""

from __future__ import annotations

import json
import random

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from keys.multikey import (
    KeyFormatError,
    b58decode,
    b58encode,
    decode_private_key,
    decode_public_key,
    decode_varint,
    encode_private_key,
    encode_public_key,
    encode_varint,
)
from tests.support.reference import reference


def _json(*parts: str) -> dict:
    return json.loads(reference("ob3", "examples", *parts).read_text())


def test_w3c_vc_di_eddsa_key_pair_round_trips_exactly() -> None:
    pair = _json("w3c-vc-di-eddsa", "keyPair.json")
    private_key = decode_private_key(pair["privateKeyMultibase"])
    assert isinstance(private_key, Ed25519PrivateKey)
    assert encode_public_key(private_key.public_key()) == pair["publicKeyMultibase"]
    assert encode_private_key(private_key) == pair["privateKeyMultibase"]
    assert decode_public_key(pair["publicKeyMultibase"]) == private_key.public_key()


def test_ob_implementation_guide_key_pair_matches_its_hex_and_multibase() -> None:
    pair = _json("ob3-impl-guide-ldp-test-vector", "key-pair.json")
    # The guide's secret is seed ‖ public key (64 bytes); the seed alone is the Multikey form.
    private_key = decode_private_key(pair["secretKeyMultibase"])
    assert isinstance(private_key, Ed25519PrivateKey)
    assert private_key.private_bytes_raw() + private_key.public_key().public_bytes_raw() == (
        bytes.fromhex(pair["privateKeyHex"])
    )
    assert encode_public_key(private_key.public_key()) == pair["publicKeyMultibase"]
    assert pair["id"].endswith("#" + pair["publicKeyMultibase"])
    public_key = decode_public_key(pair["publicKeyMultibase"])
    assert isinstance(public_key, Ed25519PublicKey)
    assert public_key.public_bytes_raw() == bytes.fromhex(pair["publicKeyHex"])
    # Re-encoded, it takes the 32-byte seed form of the W3C vector.
    reencoded = encode_private_key(private_key)
    assert len(b58decode(reencoded[1:])) == 2 + 32
    decoded = decode_private_key(reencoded)
    assert isinstance(decoded, Ed25519PrivateKey)
    assert decoded.private_bytes_raw() == private_key.private_bytes_raw()


def test_ed25519_prefixes() -> None:
    key = Ed25519PrivateKey.generate()
    assert encode_public_key(key.public_key()).startswith("z6Mk")
    assert encode_private_key(key).startswith("z3u2")


def test_p256_round_trip_uses_compressed_point_and_zdn_prefix() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    public = encode_public_key(key.public_key())
    assert public.startswith("zDn")
    assert b58decode(public[1:])[:2] == bytes([0x80, 0x24])
    assert len(b58decode(public[1:])) == 2 + 33
    assert decode_public_key(public) == key.public_key()
    secret = encode_private_key(key)
    assert b58decode(secret[1:])[:2] == bytes([0x86, 0x26])
    restored = decode_private_key(secret)
    assert isinstance(restored, ec.EllipticCurvePrivateKey)
    assert restored.private_numbers() == key.private_numbers()


def test_other_curves_are_refused() -> None:
    key = ec.generate_private_key(ec.SECP384R1())
    with pytest.raises(KeyFormatError, match="P-256"):
        encode_public_key(key.public_key())
    with pytest.raises(KeyFormatError, match="P-256"):
        encode_private_key(key)


@pytest.mark.parametrize("data", [b"", b"\0", b"\0\0\x01", b"hello world", bytes(range(256))])
def test_base58_round_trip_keeps_leading_zeros(data: bytes) -> None:
    assert b58decode(b58encode(data)) == data


def test_base58_known_value() -> None:
    # The Bitcoin alphabet: 0x00 -> '1', 57 -> 'z', 58 -> '21'.
    assert b58encode(b"\0") == "1"
    assert b58encode(bytes([57])) == "z"
    assert b58encode(bytes([58])) == "21"
    # An odd number of digits (the top pair's zero digit dropped) and the draft's vector.
    assert b58encode(bytes([255])) == "5Q"
    assert b58encode((58 * 58 - 1).to_bytes(2, "big")) == "zz"
    assert b58encode((58**2).to_bytes(2, "big")) == "211"
    assert b58encode(b"hello world") == "StV1DL6CwTryKyV"


def _b58_one_digit_at_a_time(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    digits = ""
    while number:
        number, remainder = divmod(number, 58)
        digits = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"[remainder] + digits
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + digits


def test_base58_two_digits_at_a_time_is_the_plain_encoding() -> None:
    generator = random.Random(58)
    for size in [*range(0, 80), 64, 64, 64, 200]:
        zeros = generator.randrange(3)
        data = bytes(zeros) + generator.randbytes(size)
        assert b58encode(data) == _b58_one_digit_at_a_time(data), data


@pytest.mark.parametrize(
    ("value", "encoded"),
    [(0xED, b"\xed\x01"), (0x1300, b"\x80\x26"), (0x1200, b"\x80\x24"), (0x1306, b"\x86\x26")],
)
def test_multicodec_varints(value: int, encoded: bytes) -> None:
    assert encode_varint(value) == encoded
    assert decode_varint(encoded + b"rest") == (value, b"rest")


def test_overlong_varint_is_refused() -> None:
    with pytest.raises(KeyFormatError, match="minimally"):
        decode_varint(b"\xed\x81\x00")


def _multibase(prefix: bytes, body: bytes) -> str:
    return "z" + b58encode(prefix + body)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "non-empty"),
        ("u7QE", "only base58btc"),
        ("z6Mk0OIl", "base58btc character"),
        (_multibase(b"\xed\x01", b"\1" * 31), "32 bytes"),
        (_multibase(b"\x80\x24", b"\4" + b"\1" * 64), "compressed"),
        (_multibase(b"\x80\x24", b"\2" + b"\xff" * 32), "not a point"),
        (_multibase(b"\x80\x26", b"\1" * 32), "expected a public key, got ed25519-priv"),
        (_multibase(b"\xe7\x01", b"\2" * 33), "unsupported multicodec 0xe7"),
        ("z" + "2" * 200, "too long"),
    ],
)
def test_bad_public_keys_raise_key_format_error(value: str, message: str) -> None:
    with pytest.raises(KeyFormatError, match=message):
        decode_public_key(value)


def test_bad_private_keys_raise_key_format_error() -> None:
    key = Ed25519PrivateKey.generate()
    other = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    mismatched = _multibase(b"\x80\x26", key.private_bytes_raw() + other)
    with pytest.raises(KeyFormatError, match="does not match"):
        decode_private_key(mismatched)
    with pytest.raises(KeyFormatError, match="expected a private key"):
        decode_private_key(encode_public_key(key.public_key()))
    with pytest.raises(KeyFormatError, match="out of range"):
        decode_private_key(_multibase(b"\x86\x26", b"\xff" * 32))
    with pytest.raises(KeyFormatError, match="32 bytes"):
        decode_private_key(_multibase(b"\x86\x26", b"\1" * 31))


def test_error_messages_do_not_echo_key_bytes() -> None:
    key = Ed25519PrivateKey.generate()
    seed = key.private_bytes_raw()
    bad = _multibase(b"\x80\x26", seed + b"\0" * 32)
    with pytest.raises(KeyFormatError) as caught:
        decode_private_key(bad)
    assert seed.hex() not in str(caught.value)
    assert bad not in str(caught.value)
