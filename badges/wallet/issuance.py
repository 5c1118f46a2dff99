"""The Credential Endpoint (OpenID4VCI 1.0 §8): a copy of the offered credential, bound to the
holder's key, signed by the same issuer.

The copy is the original credential (same `id`, claims, dates and `credentialStatus` entries)
with `credentialSubject.id` set to the holder's DID, secured anew in the format asked for:
`ldp_vc` with a Data Integrity `eddsa-rdfc-2022` proof, `jwt_vc_json` as a VC-JWT. Sharing the
status entries is what makes revoking (or suspending) the award revoke every copy: the
verifier reads the same bit of the same list. A badge the issuer already bound to a DID goes
only to that DID's key.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from badges.issuing import signed_document
from badges.models import IssuedCredential
from badges.proofs import vc_jwt
from badges.proofs.canonicalize import CanonicalizationError
from badges.proofs.data_integrity import ProofError
from badges.securing import JwtAlgorithm, issuer_signer, secure
from badges.wallet import offers
from badges.wallet.errors import (
    CredentialRequestDenied,
    InsufficientScope,
    InvalidAccessToken,
    InvalidCredentialRequest,
    InvalidNonce,
    InvalidProof,
    UnknownCredentialConfiguration,
    UnknownCredentialIdentifier,
)
from badges.wallet.key_proofs import verify_key_proof
from badges.wallet.metadata import STORED_FORMAT, WalletFormat, parse_configuration_id
from badges.wallet.models import WalletCopy
from catalogue.base import pk
from catalogue.models import EntryState, MicroCredential
from keys.sealing import MasterKey

MAX_REQUEST_BYTES = 64 * 1024


def parse_request(body: bytes) -> dict[str, Any]:
    """The Credential Request's JSON object; InvalidCredentialRequest for anything else."""
    if len(body) > MAX_REQUEST_BYTES:
        raise InvalidCredentialRequest(f"the request is over {MAX_REQUEST_BYTES} bytes")
    try:
        value = json.loads(body.decode("utf-8"), object_pairs_hook=vc_jwt.refuse_duplicates)
    except vc_jwt.DuplicateMemberError:
        raise InvalidCredentialRequest("the request repeats a member name") from None
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise InvalidCredentialRequest("the request body is not JSON") from None
    if not isinstance(value, dict):
        raise InvalidCredentialRequest("the request body must be a JSON object")
    return value


def _requested_format(session: Session, request: Mapping[str, Any], offered: list[str]) -> str:
    """The configuration id asked for (§8.2), checked against the offer."""
    by_config = request.get("credential_configuration_id")
    by_identifier = request.get("credential_identifier")
    if by_config is not None and by_identifier is not None:
        raise InvalidCredentialRequest(
            "send credential_configuration_id or credential_identifier, not both"
        )
    if by_identifier is not None:
        if not isinstance(by_identifier, str) or by_identifier not in offered:
            raise UnknownCredentialIdentifier("credential_identifier is not one of this token's")
        return by_identifier
    if by_config is None:
        raise InvalidCredentialRequest("credential_configuration_id is missing")
    if not isinstance(by_config, str):
        raise InvalidCredentialRequest("credential_configuration_id must be a string")
    if by_config in offered:
        return by_config
    parsed = parse_configuration_id(by_config)
    if parsed is None or (parsed.slug is not None and not _published(session, parsed.slug)):
        raise UnknownCredentialConfiguration(f"no credential configuration {by_config[:80]!r}")
    raise InsufficientScope("the access token does not cover that credential configuration")


def _published(session: Session, slug: str) -> bool:
    found = session.exec(
        select(MicroCredential.id).where(
            MicroCredential.slug == slug, MicroCredential.state == EntryState.published.value
        )
    ).first()
    return found is not None


def _proof_token(request: Mapping[str, Any]) -> Any:
    if "proof" in request:
        raise InvalidCredentialRequest(
            "the single 'proof' parameter of earlier drafts is gone in OpenID4VCI 1.0: send "
            "'proofs'"
        )
    proofs = request.get("proofs")
    if proofs is None:
        raise InvalidProof("the request has no proofs: sign a jwt key proof")
    if not isinstance(proofs, dict) or len(proofs) != 1:
        raise InvalidCredentialRequest("proofs must be an object with exactly one proof type")
    kind, values = next(iter(proofs.items()))
    if kind != "jwt":
        raise InvalidProof(f"the proof type {str(kind)[:40]!r} is not supported; use jwt")
    if not isinstance(values, list) or not values:
        raise InvalidCredentialRequest("proofs.jwt must be a non-empty array")
    if len(values) > 1:
        raise InvalidCredentialRequest("one key proof per request: batch issuance is not offered")
    return values[0]


def holder_copy(record: IssuedCredential, holder: str) -> dict[str, Any]:
    """The unsigned credential bound to `holder`: the stored one with a new subject id."""
    document = signed_document(record)
    if isinstance(document, str):
        _, payload = vc_jwt.decode_unverified(document)
        credential = vc_jwt.credential_from_payload(payload).credential
    else:
        credential = {k: v for k, v in document.items() if k != "proof"}
    subject = credential.get("credentialSubject")
    if not isinstance(subject, dict):
        raise CredentialRequestDenied("this credential has several subjects; it cannot be bound")
    bound = subject.get("id")
    if isinstance(bound, str) and bound.startswith("did:") and bound != holder:
        raise InvalidProof(
            "the issuer bound this badge to another DID: sign the key proof with that DID's key"
        )
    credential["credentialSubject"] = {"id": holder} | {
        k: v for k, v in subject.items() if k != "id"
    }
    return credential


def _sign(
    session: Session,
    master_key: MasterKey,
    record: IssuedCredential,
    credential: dict[str, Any],
    fmt: WalletFormat,
    jwt_algorithm: JwtAlgorithm,
    now: datetime,
) -> dict[str, Any] | str:
    stored = STORED_FORMAT[fmt]
    signer = issuer_signer(
        session, master_key, record.issuer_id, stored, jwt_algorithm=jwt_algorithm
    )
    created = now.replace(microsecond=0).isoformat().replace("+00:00", "Z")
    try:
        signed = secure(credential, stored, signer, created=created)
    except (CanonicalizationError, ProofError, vc_jwt.JwtError) as exc:
        raise CredentialRequestDenied(f"the credential cannot be signed: {exc}") from None
    if isinstance(signed, dict):
        signed["proof"] = [signed["proof"]]  # as stored credentials carry it (OB 3.0 schema)
    return signed


def credential_response(
    session: Session,
    master_key: MasterKey,
    *,
    access_token: str | None,
    body: bytes,
    json_body: bool = True,
    base_url: str,
    jwt_algorithm: JwtAlgorithm,
    nonce_ttl: timedelta,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Check the access token, the request and its key proof; issue and record the copy."""
    now = now or datetime.now(UTC)
    grant = offers.grant_for_token(session, access_token, now)
    if grant is None:
        raise InvalidAccessToken("the access token is missing, unknown or expired")
    record = grant.record
    if record.revoked_at is not None or record.suspended:
        raise CredentialRequestDenied("the award is revoked or suspended")
    if not json_body:
        raise InvalidCredentialRequest("the credential request must be application/json")
    request = parse_request(body)
    offered = offers.offered_configurations(session, grant.record)
    config_id = _requested_format(session, request, offered)
    parsed = parse_configuration_id(config_id)
    assert parsed is not None  # the offered ids are ours
    proof = verify_key_proof(_proof_token(request), audience=base_url, now=now, max_age=nonce_ttl)
    if not offers.spend_nonce(session, proof.nonce, now=now):
        raise InvalidNonce("the nonce is unknown, expired or used: get a new c_nonce")
    if not offers.count_copy(session, pk(grant.offer)):
        raise InvalidAccessToken("this access token has issued all the credentials it may")
    credential = holder_copy(record, proof.holder)
    signed = _sign(session, master_key, record, credential, parsed.format, jwt_algorithm, now)
    session.add(
        WalletCopy(
            offer_id=pk(grant.offer),
            credential_id=pk(record),
            holder=proof.holder[:500],
            format=parsed.format,
            created_at=now,
        )
    )
    session.flush()
    return {"credentials": [{"credential": signed}]}
