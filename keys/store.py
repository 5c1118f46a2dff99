"""Issuer keys in the database: generated here, sealed at rest, opened only here.

Private keys never leave this module: callers get a signer (`keys.signer`) that signs with
the key without showing it; the database holds only ciphertext under the master key.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from catalogue.errors import DomainError, InvalidInput, NotFound
from keys.did import PublicKeyInfo
from keys.models import IssuerKey, MasterKeyCheck
from keys.multikey import (
    MultikeyPrivateKey,
    MultikeyPublicKey,
    decode_public_key,
    encode_public_key,
)
from keys.sealing import MasterKey, SealingError, generate_master_key
from keys.signer import KeySigner, Signer, default_algorithm

ALGORITHMS = ("Ed25519", "P-256")
_CHECK_ID = "master-key-check"


class KeyStoreError(DomainError):
    """The key store cannot serve: missing or wrong master key, a damaged key row."""

    code = "key_store_error"


def jwt_kid(record: IssuerKey) -> str:
    """The JWT `kid`: resolvable in the controller's DID document.

    A did:key document lists only the Multikey method, so did:key issuers use that id.
    """
    info = PublicKeyInfo(decode_public_key(record.public_multibase))
    if record.controller.startswith("did:key:"):
        return info.multikey_id(record.controller)
    return info.jwk_id(record.controller)


def open_master_key(text: str | None) -> MasterKey:
    try:
        return MasterKey(text)
    except SealingError as exc:
        raise KeyStoreError(
            f"{exc} (set SKILLSHUB_MASTER_KEY, or run `skillshub init` to create one)"
        ) from None


def init_master_key(configured: str | None, path: Path) -> bool:
    """Write a new master key to `path` (mode 0600) unless one is already configured.

    Returns True when a key file was written. An existing key is never overwritten: a
    malformed one is an error, not a reason to replace it.
    """
    if configured is not None:
        open_master_key(configured)
        return False
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # the data directory
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(generate_master_key() + "\n")
    return True


def ensure_master_key(session: Session, master_key_text: str | None) -> MasterKey:
    """Check the master key against this database; on a new database, record its check value."""
    master_key = open_master_key(master_key_text)
    check = session.get(MasterKeyCheck, 1)
    if check is None:
        try:
            with session.begin_nested():
                sealed = master_key.seal(os.urandom(16), key_id=_CHECK_ID)
                session.add(MasterKeyCheck(id=1, sealed=sealed))
            return master_key
        except IntegrityError:
            # Another process (a second web worker starting) recorded its check first.
            check = session.get(MasterKeyCheck, 1, populate_existing=True)
            assert check is not None
    try:
        master_key.unseal(check.sealed, key_id=_CHECK_ID)
    except SealingError:
        raise KeyStoreError(
            "the master key does not match this database (its keys were sealed under another "
            "SKILLSHUB_MASTER_KEY); nothing was changed"
        ) from None
    return master_key


def _generate(algorithm: str) -> MultikeyPrivateKey:
    if algorithm == "Ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    if algorithm == "P-256":
        return ec.generate_private_key(ec.SECP256R1())
    raise InvalidInput(f"unsupported key algorithm {algorithm!r}; use one of {ALGORITHMS}")


def _private_bytes(key: MultikeyPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def add_key(
    session: Session, master_key: MasterKey, *, issuer_id: int, controller: str, algorithm: str
) -> IssuerKey:
    """Generate, seal and store a new active key for the issuer."""
    private_key = _generate(algorithm)
    multibase = encode_public_key(private_key.public_key())
    record = IssuerKey(
        issuer_id=issuer_id,
        kid=multibase,
        algorithm=algorithm,
        controller=controller,
        public_multibase=multibase,
        sealed_private_key=master_key.seal(_private_bytes(private_key), key_id=multibase),
    )
    session.add(record)
    session.flush()
    return record


def rotate(
    session: Session, master_key: MasterKey, *, issuer_id: int, controller: str, algorithm: str
) -> IssuerKey:
    """A new active key; the old ones stay published (retired) so old credentials verify."""
    now = datetime.now(UTC)
    for old in active_keys(session, issuer_id, algorithm):
        old.active = False
        old.retired_at = now
        session.add(old)
    return add_key(
        session, master_key, issuer_id=issuer_id, controller=controller, algorithm=algorithm
    )


def active_keys(session: Session, issuer_id: int, algorithm: str) -> list[IssuerKey]:
    statement = select(IssuerKey).where(
        IssuerKey.issuer_id == issuer_id, IssuerKey.algorithm == algorithm, IssuerKey.active
    )
    return list(session.exec(statement.order_by(col(IssuerKey.id).desc())))


def published_keys(session: Session, issuer_id: int) -> list[IssuerKey]:
    """Every key of the issuer, active first, newest first: what DID documents and JWKS list."""
    statement = select(IssuerKey).where(IssuerKey.issuer_id == issuer_id)
    rows = session.exec(statement.order_by(col(IssuerKey.id).desc())).all()
    return sorted(rows, key=lambda k: not k.active)


def public_key(record: IssuerKey) -> MultikeyPublicKey:
    return decode_public_key(record.public_multibase)


def signer(
    session: Session, master_key: MasterKey, issuer_id: int, algorithm: str = "Ed25519"
) -> Signer:
    """A signer over the issuer's current key of that algorithm."""
    keys = active_keys(session, issuer_id, algorithm)
    if not keys:
        raise NotFound(f"issuer {issuer_id} has no active {algorithm} key")
    record = keys[0]
    private_key = _open(master_key, record)
    return KeySigner(
        private_key,
        default_algorithm(private_key),
        PublicKeyInfo(private_key.public_key()).multikey_id(record.controller),
        jwt_kid(record),
    )


# JWS `alg` -> the key type that signs it.
JWT_KEY_TYPES = {"ES256": "P-256", "EdDSA": "Ed25519"}


def jwt_signer(
    session: Session, master_key: MasterKey, issuer_id: int, algorithm: str = "ES256"
) -> Signer:
    """A VC-JWT signer: ES256 with the issuer's P-256 key (what the 1EdTech validator accepts)
    or EdDSA with its Ed25519 key."""
    if algorithm not in JWT_KEY_TYPES:
        raise InvalidInput(f"a VC-JWT is signed ES256 or EdDSA, not {algorithm!r}")
    return signer(session, master_key, issuer_id, JWT_KEY_TYPES[algorithm])


def own_jwt_signer(
    session: Session, master_key: MasterKey, issuer_id: int, controller: str
) -> Signer:
    """A JWT signer whose key the issuer's own identifier names (its DID document lists it):
    ES256 where `controller` controls a P-256 key (did:web), else EdDSA (a did:key is its
    Ed25519 key). For documents third parties must tie to the issuer with no help, such as
    status lists."""
    p256 = [k for k in active_keys(session, issuer_id, "P-256") if k.controller == controller]
    return signer(session, master_key, issuer_id, "P-256" if p256 else "Ed25519")


def _open(master_key: MasterKey, record: IssuerKey) -> MultikeyPrivateKey:
    try:
        der = master_key.unseal(record.sealed_private_key, key_id=record.kid)
    except SealingError as exc:
        raise KeyStoreError(f"issuer key {record.id} cannot be opened: {exc}") from None
    private_key = serialization.load_der_private_key(der, password=None)
    if not isinstance(private_key, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey):
        raise KeyStoreError(f"issuer key {record.id} is not an Ed25519 or P-256 key")
    if encode_public_key(private_key.public_key()) != record.public_multibase:
        raise KeyStoreError(f"issuer key {record.id} is corrupt: its halves do not match")
    return private_key
