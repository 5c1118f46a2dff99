"""Securing a credential in one of the formats we issue: the one sign path shared by issuing,
the VC-API and status lists, so that they cannot drift apart.

- `ldp`: a Data Integrity `eddsa-rdfc-2022` proof, with the issuer's Ed25519 key.
- `jwt`: a VC-JWT, ES256 where the issuer has a P-256 key, else EdDSA.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, overload

from sqlmodel import Session

from badges.proofs import eddsa_rdfc_2022, vc_jwt
from catalogue.errors import InvalidInput
from keys import store
from keys.sealing import MasterKey
from keys.signer import Signer

Format = Literal["ldp", "jwt"]
FORMATS: tuple[Format, ...] = ("ldp", "jwt")


def check_format(fmt: str) -> Format:
    for known in FORMATS:
        if fmt == known:
            return known
    raise InvalidInput(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")


def issuer_signer(session: Session, master_key: MasterKey, issuer_id: int, fmt: Format) -> Signer:
    """The issuer's current signer for that format."""
    if fmt == "ldp":
        return store.signer(session, master_key, issuer_id, "Ed25519")
    return store.jwt_signer(session, master_key, issuer_id)


@overload
def secure(
    document: Mapping[str, Any], fmt: Literal["ldp"], signer: Signer, *, created: str | None = None
) -> dict[str, Any]: ...
@overload
def secure(
    document: Mapping[str, Any], fmt: Literal["jwt"], signer: Signer, *, created: str | None = None
) -> str: ...
@overload
def secure(
    document: Mapping[str, Any], fmt: Format, signer: Signer, *, created: str | None = None
) -> dict[str, Any] | str: ...


def secure(
    document: Mapping[str, Any], fmt: Format, signer: Signer, *, created: str | None = None
) -> dict[str, Any] | str:
    """`document` secured as `fmt`: the document with its proof (`ldp`), or a compact JWS.

    `created` is the Data Integrity proof's creation time (default now); a JWT's `iat` is
    always now. Raises the suites' errors (`CanonicalizationError`, `ProofError`,
    `JwtError`, all `ValueError`s): whose fault they are is the caller's to say.
    """
    if fmt == "ldp":
        return eddsa_rdfc_2022.create_proof(document, signer=signer, created=created)
    return vc_jwt.sign(document, signer=signer)
