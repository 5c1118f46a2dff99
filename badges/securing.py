"""Securing a credential in one of the formats we issue: the one sign path shared by issuing,
the VC-API and status lists, so that they cannot drift apart.

- `ldp`: a Data Integrity `eddsa-rdfc-2022` proof, with the issuer's Ed25519 key.
- `jwt`: a VC-JWT, ES256 with the issuer's P-256 key (by default; every issuer has one, a
  did:key issuer's under a did:key of its own, `did:key:zDn…`) or EdDSA with its Ed25519 key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, overload

from sqlmodel import Session, select

from badges.models import Issuer
from badges.proofs import eddsa_rdfc_2022, vc_jwt
from badges.proofs.compiled import Shapes
from catalogue.errors import InvalidInput
from keys import store
from keys.did import did_key_from_public_key
from keys.sealing import MasterKey
from keys.signer import Signer

Format = Literal["ldp", "jwt"]
FORMATS: tuple[Format, ...] = ("ldp", "jwt")


def check_format(fmt: str) -> Format:
    for known in FORMATS:
        if fmt == known:
            return known
    raise InvalidInput(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")


JwtAlgorithm = Literal["ES256", "EdDSA"]
JWT_ALGORITHMS: tuple[JwtAlgorithm, ...] = ("ES256", "EdDSA")


def issuer_signer(
    session: Session,
    master_key: MasterKey,
    issuer_id: int,
    fmt: Format,
    *,
    jwt_algorithm: JwtAlgorithm = "ES256",
) -> Signer:
    """The issuer's current signer for that format (and, for a VC-JWT, that algorithm)."""
    if fmt == "ldp":
        return store.signer(session, master_key, issuer_id, "Ed25519")
    if jwt_algorithm == "ES256":
        ensure_p256_key(session, master_key, issuer_id)
    return store.jwt_signer(session, master_key, issuer_id, jwt_algorithm)


def ensure_p256_key(session: Session, master_key: MasterKey, issuer_id: int) -> None:
    """Give the issuer a P-256 key (ES256) if it has none: a did:web issuer's is listed in its
    DID document; a did:key issuer's is named by a did:key of its own (`did:key:zDn…`), since
    a did:key names one key. Made once, under a lock on the issuer's row."""
    if store.active_keys(session, issuer_id, "P-256"):
        return
    issuer = session.exec(select(Issuer).where(Issuer.id == issuer_id).with_for_update()).one()
    if store.active_keys(session, issuer_id, "P-256"):  # made while we waited for the lock
        return
    own = not issuer.did.startswith("did:key:")
    key = store.add_key(
        session,
        master_key,
        issuer_id=issuer_id,
        controller=issuer.did if own else "pending",
        algorithm="P-256",
    )
    if not own:
        key.controller = did_key_from_public_key(store.public_key(key))
        session.add(key)
        session.flush()


@overload
def secure(
    document: Mapping[str, Any],
    fmt: Literal["ldp"],
    signer: Signer,
    *,
    created: str | None = None,
    shapes: Shapes = "reuse",
) -> dict[str, Any]: ...
@overload
def secure(
    document: Mapping[str, Any],
    fmt: Literal["jwt"],
    signer: Signer,
    *,
    created: str | None = None,
    shapes: Shapes = "reuse",
) -> str: ...
@overload
def secure(
    document: Mapping[str, Any],
    fmt: Format,
    signer: Signer,
    *,
    created: str | None = None,
    shapes: Shapes = "reuse",
) -> dict[str, Any] | str: ...


def secure(
    document: Mapping[str, Any],
    fmt: Format,
    signer: Signer,
    *,
    created: str | None = None,
    shapes: Shapes = "reuse",
) -> dict[str, Any] | str:
    """`document` secured as `fmt`: the document with its proof (`ldp`), or a compact JWS.

    `created` is the Data Integrity proof's creation time (default now); a JWT's `iat` is
    always now. `shapes="compile"` for the shapes we build ourselves (a credential, a status
    list): the Data Integrity proof then signs through a compiled template
    (`badges.proofs.compiled`), the same bytes as the pyld path. Raises the suites' errors
    (`CanonicalizationError`, `ProofError`, `JwtError`, all `ValueError`s): whose fault they
    are is the caller's to say.
    """
    if fmt == "ldp":
        return eddsa_rdfc_2022.create_proof(document, signer=signer, created=created, shapes=shapes)
    return vc_jwt.sign(document, signer=signer)
