"""Issuers' public identity (profile, DID document, JWKS, status lists) and the issuing API."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, Path, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field

from badges import issuing, status
from badges.issuing import bulk, issuers, vc_api
from badges.models import IssuedCredential, Issuer
from badges.sharing import delivery
from badges.verifying import Limits, parse_json
from catalogue.errors import InvalidInput, NotFound, UnsupportedMediaType
from catalogue.micro_credentials import get_micro_credential
from catalogue.text import Line
from openbadges_schemas import eu_microcredential
from openbadges_schemas.loader import EU_MICROCREDENTIAL_V1, pinned_bytes
from skillshub.db import writer
from skillshub.web.deps import (
    BodyDep,
    MasterKeyDep,
    OrgDep,
    SessionDep,
    SettingsDep,
)
from skillshub.web.negotiation import JSON_TYPES, preferred, wants_html
from skillshub.web.pages import templates

router = APIRouter(tags=["issuing"])
JSONLD = "application/ld+json"


# --- public identity -----------------------------------------------------------------------


@router.get("/issuers/{slug}", response_model=None)
def issuer_profile(
    slug: str, request: Request, session: SessionDep, settings: SettingsDep
) -> Response:
    """The issuer Profile: JSON-LD for machines, a page for browsers."""
    issuer = issuers.get_issuer(session, slug)
    if wants_html(request):
        org = issuers.organisation_of(session, issuer)
        return templates.TemplateResponse(request, "issuer.html", {"issuer": issuer, "org": org})
    document = issuing.profile_document(session, issuer, issuing.Urls(settings.base_url))
    return JSONResponse(document, media_type=JSONLD)


@router.get("/issuers/{slug}/did.json")
def issuer_did_document(slug: str, session: SessionDep) -> JSONResponse:
    issuer = issuers.get_issuer(session, slug)
    return JSONResponse(issuers.did_document(session, issuer), media_type="application/did+json")


@router.get("/issuers/{slug}/jwks.json")
def issuer_jwks(slug: str, session: SessionDep) -> dict:
    return issuers.jwks(session, issuers.get_issuer(session, slug))


@router.get("/.well-known/jwks.json")
def deployment_jwks(session: SessionDep) -> dict:
    return issuers.jwks(session)


@router.get("/status/{issuer_slug}/{purpose}/{seq}", response_model=None)
def status_list_credential(
    issuer_slug: str,
    purpose: str,
    # Bounded to the column's 32-bit range: a larger number is a 422, not a database error.
    seq: Annotated[int, Path(ge=-(2**31), le=2**31 - 1)],
    request: Request,
    session: SessionDep,
) -> Response:
    """A signed BitstringStatusListCredential, cacheable for its ttl, with conditional GET."""
    if purpose not in status.PURPOSES:
        raise NotFound(f"unknown status purpose {purpose!r}")
    status_list = status.get_list(session, issuer_slug, purpose, seq)
    # The JSON-LD form unless a JWT is preferred; nothing acceptable still gets JSON-LD.
    offers = (*JSON_TYPES, "application/vc+jwt", "application/jwt")
    as_jwt = preferred(request.headers.get("accept", ""), offers) in offers[-2:]
    etag = status.etag(status_list, "jwt" if as_jwt else "ldp")
    headers = {
        "ETag": etag,
        "Cache-Control": f"public, max-age={status.TTL_MS // 1000}",
        "Vary": "Accept",
    }
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    if as_jwt:
        return Response(
            status_list.credential_jwt, media_type="application/vc+jwt", headers=headers
        )
    return Response(status_list.credential_ldp, media_type=JSONLD, headers=headers)


# --- issuing -------------------------------------------------------------------------------


class IssueRequest(BaseModel):
    micro_credential: Line = Field(description="slug of the micro-credential awarded")
    name: str
    email: str
    did: str | None = None
    grade: str | None = None
    evidence_url: str | None = None
    external_id: str | None = Field(default=None, description="idempotency key")
    format: Literal["ldp", "jwt"] = "ldp"


class IssuedOut(BaseModel):
    id: str
    url: str
    source: str = Field(description="catalogue (an award) or vc-api (/credentials/issue)")
    credential_id: str | None = Field(
        default=None, description="the id a VC-API credential was issued with"
    )
    format: str
    issuer: str
    micro_credential: str
    recipient_name: str
    external_id: str | None
    valid_from: str
    valid_until: str | None
    revoked: bool
    suspended: bool
    delivery_status: str | None = Field(
        description="the claim e-mail: null (not tried yet), sent or failed"
    )
    delivery_error: str | None = Field(description="why the last claim e-mail failed")
    credential: Any = Field(description="the signed credential: JSON (ldp) or a compact JWS (jwt)")


def credential_out(
    record: IssuedCredential, issuer: Issuer, mc_slug: str, base_url: str
) -> IssuedOut:
    return IssuedOut(
        id=record.uuid,
        url=issuing.Urls(base_url).credential(record.uuid),
        source=record.source,
        credential_id=record.credential_id,
        format=record.format,
        issuer=issuer.slug,
        micro_credential=mc_slug,
        recipient_name=record.recipient_name,
        external_id=record.external_id,
        valid_from=record.valid_from.isoformat(),
        valid_until=record.valid_until.isoformat() if record.valid_until else None,
        revoked=record.revoked_at is not None,
        suspended=record.suspended,
        delivery_status=record.delivery_status,
        delivery_error=record.delivery_error,
        credential=issuing.signed_document(record),
    )


@router.post("/api/v1/issuers/{slug}/credentials", status_code=201)
def issue_credential(
    slug: str,
    body: IssueRequest,
    request: Request,
    background: BackgroundTasks,
    session: SessionDep,
    settings: SettingsDep,
    master_key: MasterKeyDep,
    org: OrgDep,
) -> IssuedOut:
    issuer = issuers.owned_issuer(session, slug, org.id)
    mc = get_micro_credential(session, body.micro_credential)
    record = issuing.issue(
        session,
        master_key,
        issuer=issuer,
        micro_credential=mc,
        recipient=issuing.Recipient(
            name=body.name,
            email=body.email,
            did=body.did,
            grade=body.grade,
            evidence_url=body.evidence_url,
            external_id=body.external_id,
        ),
        base_url=settings.base_url,
        status_purposes=settings.status_purposes,
        jwt_algorithm=settings.jwt_algorithm,
        fmt=body.format,
    )
    # Runs after the session has committed and the response is out: the e-mail with the claim link.
    background.add_task(
        delivery.deliver_committed, writer(request.app.state.engine), settings, record.uuid
    )
    return credential_out(record, issuer, mc.slug, settings.base_url)


@router.post("/api/v1/issuers/{slug}/credentials/bulk", status_code=202)
def issue_bulk(
    slug: str,
    raw: BodyDep,
    request: Request,
    background: BackgroundTasks,
    session: SessionDep,
    settings: SettingsDep,
    master_key: MasterKeyDep,
    org: OrgDep,
    micro_credential: Annotated[str, Query(description="slug of the micro-credential")],
    format: Annotated[Literal["ldp", "jwt"], Query()] = "ldp",
) -> dict:
    """Start a bulk job from CSV (`text/csv`) or a JSON array; poll `/api/v1/jobs/{id}`."""
    issuer = issuers.owned_issuer(session, slug, org.id)
    mc = get_micro_credential(session, micro_credential)
    content_type = request.headers.get("content-type", "").split(";")[0].strip()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("the body must be UTF-8 text") from None
    if content_type == "text/csv":
        rows = bulk.parse_csv(text)
    elif content_type == "application/json":
        try:
            rows = bulk.parse_json(json.loads(text))
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"malformed JSON: {exc.msg} at line {exc.lineno}") from None
        except RecursionError:  # "[[[[…": json.loads recurses once per level
            raise InvalidInput("the JSON is nested too deeply") from None
    else:
        raise UnsupportedMediaType("send text/csv or a JSON array (application/json)")
    job = bulk.create_job(session, issuer=issuer, micro_credential=mc, rows=rows, fmt=format)
    session.commit()
    background.add_task(
        bulk.run_job,
        writer(request.app.state.engine),
        master_key,
        job.uuid,
        base_url=settings.base_url,
        status_purposes=settings.status_purposes,
        jwt_algorithm=settings.jwt_algorithm,
        on_issued=lambda s, record: delivery.deliver(s, settings, record),
    )
    return bulk.job_report(session, job) | {"href": f"/api/v1/jobs/{job.uuid}"}


@router.get("/api/v1/jobs/{job_id}")
def bulk_job(job_id: str, session: SessionDep, org: OrgDep) -> dict:
    return bulk.job_report(session, bulk.owned_job(session, job_id, org.id))


class CredentialListOut(BaseModel):
    credentials: list[IssuedOut]
    next: str | None = Field(description="the URL of the next (older) page, if any")


@router.get("/api/v1/credentials")
def list_issued(
    session: SessionDep,
    settings: SettingsDep,
    org: OrgDep,
    source: Annotated[Literal["catalogue", "vc-api"] | None, Query()] = None,
    before: Annotated[str | None, Query(description="a credential's UUID")] = None,
    limit: Annotated[int, Query(ge=1, le=issuing.MAX_PAGE)] = 50,
) -> CredentialListOut:
    """The organisation's credentials, newest first (awards and VC-API ones alike)."""
    owned = issuing.list_credentials(session, org.id, source=source, before=before, limit=limit)
    items = [
        credential_out(o.record, o.issuer, o.micro_credential_slug, settings.base_url)
        for o in owned
    ]
    following = None
    if len(owned) == limit:
        query = f"before={owned[-1].record.uuid}&limit={limit}"
        following = f"/api/v1/credentials?{query}" + (f"&source={source}" if source else "")
    return CredentialListOut(credentials=items, next=following)


@router.get("/api/v1/credentials/{credential_id}")
def get_issued(
    credential_id: str, session: SessionDep, settings: SettingsDep, org: OrgDep
) -> IssuedOut:
    owned = issuing.owned_credential(session, credential_id, org.id)
    return credential_out(
        owned.record, owned.issuer, owned.micro_credential_slug, settings.base_url
    )


class StatusChangeRequest(BaseModel):
    reason: str | None = Field(default=None, max_length=2000)


@router.post("/api/v1/credentials/{credential_id}/{action}")
def change_credential_status(
    credential_id: str,
    action: Literal["revoke", "suspend", "unsuspend"],
    session: SessionDep,
    settings: SettingsDep,
    master_key: MasterKeyDep,
    org: OrgDep,
    body: StatusChangeRequest | None = None,
) -> dict:
    record = status.change_status(
        session,
        master_key,
        credential_uuid=credential_id,
        action=action,
        organisation_id=org.id,
        actor=f"organisation:{org.slug}",
        base_url=settings.base_url,
        reason=body.reason if body else None,
    )
    return {
        "id": record.uuid,
        "revoked": record.revoked_at is not None,
        "suspended": record.suspended,
        "history": [
            {"action": c.action, "reason": c.reason, "actor": c.actor, "at": c.at.isoformat()}
            for c in status.history(session, record.uuid)
        ],
    }


# --- W3C VC-API ----------------------------------------------------------------------------


def _json_body(**properties: dict[str, Any]) -> dict[str, Any]:
    """An OpenAPI request body for a route that parses its JSON itself (VC-API answers 400,
    not FastAPI's 422, to a body it cannot use)."""
    schema = {"type": "object", "properties": properties}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


@router.post(
    "/credentials/issue",
    status_code=201,
    tags=["vc-api"],
    openapi_extra=_json_body(credential={"type": "object"}, options={"type": "object"}),
)
def vc_api_issue(
    raw: BodyDep,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    master_key: MasterKeyDep,
    org: OrgDep,
) -> dict[str, Any]:
    """VC-API issue `{credential, options}`: a VC Data Model 2.0 (or 1.1) credential of one of
    the caller's issuers (`options.issuer`: its slug or DID, else the credential's issuer),
    signed `eddsa-rdfc-2022`, recorded, with Bitstring Status List entries (the default
    purposes, or those of `options.credentialStatus`). 400 with problem details naming the
    broken rule; 403 for another organisation's issuer or micro-credential. `Location` names
    the recorded credential (`/api/v1/credentials/{uuid}`)."""
    limits = Limits(
        max_input_bytes=settings.max_upload_bytes, max_json_depth=settings.max_json_depth
    )
    credential, options = vc_api.read_request(parse_json(raw, limits))
    record = vc_api.issue_submitted(
        session,
        master_key,
        organisation_id=org.id,
        credential=credential,
        options=options,
        base_url=settings.base_url,
        default_purposes=settings.status_purposes,
    )
    response.headers["Location"] = f"/api/v1/credentials/{record.uuid}"
    return {"verifiableCredential": issuing.signed_document(record)}


@router.post(
    "/credentials/status",
    tags=["vc-api"],
    openapi_extra=_json_body(
        credentialId={"type": "string"},
        credentialStatus={"type": "object"},
        status={"type": "boolean"},
    ),
)
def vc_api_update_status(
    raw: BodyDep,
    session: SessionDep,
    settings: SettingsDep,
    master_key: MasterKeyDep,
    org: OrgDep,
) -> dict[str, Any]:
    """VC-API `{credentialId, credentialStatus: {type, statusPurpose}, status}`: revoke
    (revocation, true), suspend or unsuspend (suspension, true/false) one of the caller's
    credentials, named by its UUID, its id URL or the id it was issued with."""
    limits = Limits(max_input_bytes=settings.max_upload_bytes, max_json_depth=8)
    record = vc_api.update_status(
        session,
        master_key,
        organisation_id=org.id,
        body=parse_json(raw, limits),
        base_url=settings.base_url,
        actor=f"organisation:{org.slug}",
    )
    return {
        "id": record.uuid,
        "credentialId": record.credential_id
        or issuing.Urls(settings.base_url).credential(record.uuid),
        "revoked": record.revoked_at is not None,
        "suspended": record.suspended,
    }


@router.get("/issuers", response_class=HTMLResponse, include_in_schema=False)
def issuers_page(request: Request, session: SessionDep) -> HTMLResponse:
    return templates.TemplateResponse(
        request, "issuers.html", {"issuers": issuers.list_issuers(session)}
    )


@router.get(eu_microcredential.CONTEXT_PATH, include_in_schema=False)
def eu_microcredential_context() -> Response:
    """Our pinned JSON-LD context, byte for byte (credentials name its fixed URL)."""
    return Response(
        pinned_bytes(EU_MICROCREDENTIAL_V1),
        media_type="application/ld+json",
        headers={"Cache-Control": "public, max-age=86400", "Access-Control-Allow-Origin": "*"},
    )


@router.get(eu_microcredential.SCHEMA_PATH, include_in_schema=False)
def eu_microcredential_schema() -> Response:
    """Our JSON Schema for the EU micro-credential elements, as pinned."""
    return Response(
        eu_microcredential.schema_bytes(),
        media_type="application/schema+json",
        headers={"Cache-Control": "public, max-age=86400", "Access-Control-Allow-Origin": "*"},
    )
