"""Sealing private keys at rest: round trip, wrong master key, tampering, swapped rows."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from keys.sealing import (
    MASTER_KEY_BYTES,
    MasterKey,
    MasterKeyError,
    SealedKeyError,
    generate_master_key,
)


@pytest.fixture
def master() -> MasterKey:
    return MasterKey(generate_master_key())


@pytest.fixture
def secret() -> bytes:
    return Ed25519PrivateKey.generate().private_bytes_raw()


def test_generated_master_key_is_base64url_of_32_random_bytes() -> None:
    text = generate_master_key()
    assert base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).__len__() == MASTER_KEY_BYTES
    assert "=" not in text
    assert text != generate_master_key()


def test_round_trip(master: MasterKey, secret: bytes) -> None:
    sealed = master.seal(secret, key_id="issuer-1/key-1")
    assert secret not in sealed
    assert master.unseal(sealed, key_id="issuer-1/key-1") == secret


def test_same_text_same_master_key(secret: bytes) -> None:
    text = generate_master_key()
    sealed = MasterKey(text).seal(secret, key_id="k")
    assert MasterKey(f"  {text}\n").unseal(sealed, key_id="k") == secret


def test_each_seal_uses_a_fresh_nonce(master: MasterKey, secret: bytes) -> None:
    assert master.seal(secret, key_id="k") != master.seal(secret, key_id="k")


def test_wrong_master_key_fails(master: MasterKey, secret: bytes) -> None:
    sealed = master.seal(secret, key_id="k")
    with pytest.raises(SealedKeyError, match="different master key"):
        MasterKey(generate_master_key()).unseal(sealed, key_id="k")


def test_swapped_key_id_fails(master: MasterKey, secret: bytes) -> None:
    sealed = master.seal(secret, key_id="issuer-1/key-1")
    with pytest.raises(SealedKeyError, match="another key id"):
        master.unseal(sealed, key_id="issuer-2/key-1")


@pytest.mark.parametrize("position", [0, 1, 9, 20, 21, -17, -1])
def test_any_flipped_byte_fails(master: MasterKey, secret: bytes, position: int) -> None:
    # Version, fingerprint, nonce, ciphertext and tag are all covered.
    sealed = bytearray(master.seal(secret, key_id="k"))
    sealed[position] ^= 0x01
    with pytest.raises(SealedKeyError):
        master.unseal(bytes(sealed), key_id="k")


def test_truncated_record_fails(master: MasterKey, secret: bytes) -> None:
    sealed = master.seal(secret, key_id="k")
    for cut in (0, 10, len(sealed) - 1):
        with pytest.raises(SealedKeyError):
            master.unseal(sealed[:cut], key_id="k")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (None, "no master key"),
        ("   ", "no master key"),
        ("not base64 at all!", "not base64url"),
        (base64.b64encode(bytes(range(200, 232))).decode(), "not base64url"),  # '+' and '/'
        (base64.urlsafe_b64encode(b"short").decode(), "at least 32"),
    ],
)
def test_malformed_master_keys(text: str | None, message: str) -> None:
    with pytest.raises(MasterKeyError, match=message) as caught:
        MasterKey(text)
    if text and text.strip():
        assert text.strip() not in str(caught.value)


def test_nothing_secret_in_repr_or_errors(master: MasterKey, secret: bytes) -> None:
    text = generate_master_key()
    key = MasterKey(text)
    assert text not in repr(key)
    sealed = key.seal(secret, key_id="k")
    with pytest.raises(SealedKeyError) as caught:
        master.unseal(sealed, key_id="k")
    assert secret.hex() not in str(caught.value)
    assert text not in str(caught.value)


def test_mac_is_per_master_key_and_per_purpose(master: MasterKey) -> None:
    text = generate_master_key()
    same = MasterKey(text).mac("web csrf", b"nonce")
    assert MasterKey(text).mac("web csrf", b"nonce") == same and len(same) == 32
    assert MasterKey(generate_master_key()).mac("web csrf", b"nonce") != same
    assert MasterKey(text).mac("other use", b"nonce") != same
    # A NUL separates label and data, so a label may not hold one.
    with pytest.raises(ValueError, match="purpose"):
        master.mac("a\0b", b"c")
    with pytest.raises(ValueError, match="purpose"):
        master.mac("", b"c")
