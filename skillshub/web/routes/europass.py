"""`GET /credentials/{id}/europass`: the award as a European Digital Credential for Europass."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from badges import europass
from catalogue.errors import Unauthorized
from skillshub.verifier import seal_revocation
from skillshub.web import learner_auth
from skillshub.web.deps import MasterKeyDep, SessionDep, SettingsDep
from skillshub.web.rate_limits import authenticate_request

router = APIRouter(tags=["europass"])
_bearer = HTTPBearer(auto_error=False, description="The awarding organisation's API token")


def _requester(
    session: Session,
    request: Request,
    credential_id: str,
    credentials: HTTPAuthorizationCredentials | None,
) -> int | None:
    """The organisation asking (its API token), or None for the credential's learner (the
    one rule of skillshub.web.learner_auth: a claim-link session or their signed-in backpack).
    Anyone else is refused."""
    if credentials is not None:
        return authenticate_request(request, session, credentials.credentials).id
    if learner_auth.owned_credential(request, session, credential_id) is not None:
        return None
    raise Unauthorized(
        "exporting to Europass needs the issuer's API token, the learner's claim-link session "
        "or their backpack sign-in"
    )


@router.get("/credentials/{credential_id}/europass", response_model=None)
def europass_download(
    credential_id: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    master_key: MasterKeyDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Response:
    """Sealed with the provider's e-seal (JAdES) when it has one; otherwise the EDC Issuer's
    uploadable form for the provider to seal at the European Commission."""
    seal = seal_revocation(settings)
    export = europass.export_europass(
        session,
        master_key,
        credential_id,
        organisation_id=_requester(session, request, credential_id, credentials),
        base_url=settings.base_url,
        tsa_url=settings.tsa_url,
        tsa_timeout=settings.fetch_timeout_seconds,
        revocation_fetch=seal.fetch,
        trust_anchors=seal.trust_anchors,
    )
    headers = {
        "Content-Disposition": f'attachment; filename="{export.filename}"',
        "X-Europass-Sealed": "true" if export.sealed else "false",
        "Cache-Control": "no-store",
    }
    if export.level:
        headers["X-Europass-Seal-Level"] = f"JAdES-{export.level}"
    if export.self_signed:
        headers["X-Europass-Note"] = "sealed with a self-signed TEST certificate"
    return Response(export.text(), media_type=export.media_type, headers=headers)
