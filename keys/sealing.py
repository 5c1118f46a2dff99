"""Encryption at rest of issuer private keys under a master key kept outside the database.

Sealed record, version 1:

    0x01 ‖ master-key fingerprint (8) ‖ nonce (12) ‖ AES-256-GCM ciphertext+tag

- The AES key is derived from the master key with HKDF-SHA256 and its own `info` label, so
  the master key text is never used directly as a cipher key.
- The fingerprint (a second HKDF output, not the key) tells "sealed under another master
  key" apart from "damaged", and lets a future master-key rotation pick the right key.
- The associated data binds the record to its key id: a sealed value copied onto another
  key's row fails to open.
- A fresh random 96-bit nonce per record; issuer keys are few, far from GCM's 2^32 limit.

Errors never contain key material or the master key text.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MASTER_KEY_BYTES = 32
VERSION = 1
_FINGERPRINT_BYTES = 8
_NONCE_BYTES = 12
_TAG_BYTES = 16
_HEADER_BYTES = 1 + _FINGERPRINT_BYTES + _NONCE_BYTES
_AAD_LABEL = b"skillshub sealed private key"
_B64URL_TEXT = re.compile(r"[A-Za-z0-9_-]+={0,2}")


class SealingError(ValueError):
    """Base of the sealing errors."""


class MasterKeyError(SealingError):
    """The master key is missing or malformed."""


class SealedKeyError(SealingError):
    """A sealed record does not open: another master key, a corrupt or a tampered record."""


def generate_master_key() -> str:
    """A new random master key in its text form (base64url, no padding)."""
    return base64.urlsafe_b64encode(os.urandom(MASTER_KEY_BYTES)).rstrip(b"=").decode("ascii")


class MasterKey:
    """A parsed master key; seals and unseals private key bytes."""

    __slots__ = ("_aead", "_mac_key", "fingerprint")

    def __init__(self, text: str | None) -> None:
        material = _parse_master_key(text)
        self._aead = AESGCM(_hkdf(material, b"skillshub/keys/sealing/v1 aes-256-gcm", 32))
        self._mac_key = _hkdf(material, b"skillshub/keys/mac/v1 hmac-sha256", 32)
        self.fingerprint: bytes = _hkdf(
            material, b"skillshub/keys/sealing/v1 fingerprint", _FINGERPRINT_BYTES
        )

    def __repr__(self) -> str:
        return f"MasterKey(fingerprint={self.fingerprint.hex()})"

    def mac(self, purpose: str, data: bytes) -> bytes:
        """HMAC-SHA256 of `data` for one `purpose` (e.g. "web csrf token"): a server secret
        every host of a deployment shares, without the key itself leaving this module."""
        if not purpose or "\0" in purpose:
            raise ValueError("a MAC purpose is a non-empty label without NUL")
        message = purpose.encode() + b"\0" + data
        return hmac.new(self._mac_key, message, hashlib.sha256).digest()

    def seal(self, plaintext: bytes, *, key_id: str) -> bytes:
        header = bytes([VERSION]) + self.fingerprint + os.urandom(_NONCE_BYTES)
        nonce = header[1 + _FINGERPRINT_BYTES :]
        return header + self._aead.encrypt(nonce, plaintext, _aad(header, key_id))

    def unseal(self, sealed: bytes, *, key_id: str) -> bytes:
        if not isinstance(sealed, bytes | bytearray | memoryview):
            raise SealedKeyError("a sealed key must be bytes")
        sealed = bytes(sealed)
        if len(sealed) < _HEADER_BYTES + _TAG_BYTES:
            raise SealedKeyError("sealed key record is truncated")
        if sealed[0] != VERSION:
            raise SealedKeyError(f"unknown sealed key record version {sealed[0]}")
        header = sealed[:_HEADER_BYTES]
        if header[1 : 1 + _FINGERPRINT_BYTES] != self.fingerprint:
            raise SealedKeyError("the key was sealed under a different master key")
        nonce = header[1 + _FINGERPRINT_BYTES :]
        try:
            return self._aead.decrypt(nonce, sealed[_HEADER_BYTES:], _aad(header, key_id))
        except InvalidTag:
            raise SealedKeyError(
                "sealed key does not open: the record was altered or belongs to another key id"
            ) from None


def _parse_master_key(text: str | None) -> bytes:
    if text is None or not isinstance(text, str) or not text.strip():
        raise MasterKeyError("no master key is configured")
    text = text.strip()
    if not _B64URL_TEXT.fullmatch(text):
        raise MasterKeyError("the master key is not base64url text")
    try:
        material = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise MasterKeyError("the master key is not base64url text") from None
    if len(material) < MASTER_KEY_BYTES:
        raise MasterKeyError(f"the master key must hold at least {MASTER_KEY_BYTES} random bytes")
    return material


def _hkdf(material: bytes, info: bytes, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info).derive(material)


def _aad(header: bytes, key_id: str) -> bytes:
    if not isinstance(key_id, str) or not key_id:
        raise ValueError("a sealed key needs a non-empty key id")
    # Length-prefixing keeps label, header and id unambiguous.
    encoded_id = key_id.encode("utf-8")
    return _AAD_LABEL + header + len(encoded_id).to_bytes(4, "big") + encoded_id
