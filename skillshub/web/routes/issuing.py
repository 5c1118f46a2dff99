"""Issuers' public identity (profile, DID document, JWKS, status lists) and the issuing API."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, Header, Path, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field

from accounts import credentials
from badges import issuing, recipients, status
from badges.issuing import bulk, issuers, vc_api
from badges.models import IssuedCredential, Issuer
from badges.sharing import delivery
from badges.verifying import Limits, parse_json
from catalogue.base import pk
from catalogue.errors import InvalidInput, NotFound, UnsupportedMediaType
from catalogue.micro_credentials import get_micro_credential
from catalogue.text import Line
from openbadges_schemas import eu_microcredential
from openbadges_schemas.loader import EU_MICROCREDENTIAL_V1, pinned_bytes
from skillshub.db import writer
from skillshub.jobs import enqueue_job, jobs_of
from skillshub.web.deps import (
    ApiCaller,
    ApiCallerDep,
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
    name: str | None = Field(
        default=None,
        description="the learner's full name as printed; optional with given_name/family_name "
        "(then given then family name)",
    )
    given_name: str | None = Field(default=None, description="given name(s), kept apart")
    family_name: str | None = Field(default=None, description="family name(s), kept apart")
    email: str
    contact_consent: bool = Field(
        default=False,
        description="the learner agreed that this e-mail address be shown in their Europass "
        "credential (its contactPoint); off by default",
    )
    did: str | None = None
    grade: str | None = None
    evidence_url: str | None = None
    evidence_narrative: str | None = Field(
        default=None, description="the evidence in words (OB 3.0 Evidence.narrative)"
    )
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
    recipient_given_name: str | None
    recipient_family_name: str | None
    contact_consent: bool = Field(description="the e-mail is the Europass contactPoint")
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
        recipient_given_name=record.recipient_given_name,
        recipient_family_name=record.recipient_family_name,
        contact_consent=record.recipient_contact_consent,
        external_id=record.external_id,
        valid_from=record.valid_from.isoformat(),
        valid_until=record.valid_until.isoformat() if record.valid_until else None,
        revoked=record.revoked_at is not None,
        suspended=record.suspended,
        delivery_status=record.delivery_status,
        delivery_error=record.delivery_error,
        credential=issuing.signed_document(record),
    )


def _origin(caller: ApiCaller) -> credentials.Origin:
    return credentials.Origin(caller.actor, caller.address)


@router.post(
    "/api/v1/issuers/{slug}/credentials",
    status_code=201,
    responses={200: {"description": "the credential of an earlier identical request (replay)"}},
)
def issue_credential(
    slug: str,
    body: IssueRequest,
    request: Request,
    response: Response,
    background: BackgroundTasks,
    session: SessionDep,
    settings: SettingsDep,
    master_key: MasterKeyDep,
    caller: ApiCallerDep,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description="Repeat a request safely: the same key with the same body answers "
            "with the first credential (200, Idempotent-Replayed: true); with another body, 422.",
        ),
    ] = None,
) -> IssuedOut:
    """Issue one credential. Without a key, a request with the `external_id` of an earlier
    identical award also answers with that credential (200); a different award under that
    id is a 409."""
    issuer = issuers.owned_issuer(session, slug, caller.organisation.id)
    mc = get_micro_credential(session, body.micro_credential)
    issued = credentials.issue(
        session,
        master_key,
        issuer=issuer,
        micro_credential=mc,
        recipient=issuing.Recipient(
            name=body.name or "",
            given_name=body.given_name,
            family_name=body.family_name,
            email=body.email,
            contact_consent=body.contact_consent,
            did=body.did,
            grade=body.grade,
            evidence_url=body.evidence_url,
            external_id=body.external_id,
            evidence_narrative=body.evidence_narrative,
        ),
        base_url=settings.base_url,
        origin=_origin(caller),
        key=idempotency_key,
        jwt_algorithm=settings.jwt_algorithm,
        fmt=body.format,
        status_purposes=settings.status_purposes,
    )
    if issued.replayed:
        response.status_code = 200
        response.headers["Idempotent-Replayed"] = "true"
    else:
        # After the session has committed and the response is out: the claim e-mail.
        background.add_task(
            delivery.deliver_committed,
            writer(request.app.state.engine),
            settings,
            issued.record.uuid,
        )
    return credential_out(issued.record, issuer, mc.slug, settings.base_url)


@router.post("/api/v1/issuers/{slug}/credentials/bulk", status_code=202)
def issue_bulk(
    slug: str,
    raw: BodyDep,
    request: Request,
    background: BackgroundTasks,
    session: SessionDep,
    settings: SettingsDep,
    master_key: MasterKeyDep,
    caller: ApiCallerDep,
    micro_credential: Annotated[str, Query(description="slug of the micro-credential")],
    format: Annotated[Literal["ldp", "jwt"], Query()] = "ldp",
) -> dict:
    """Start a bulk job from CSV (`text/csv`) or a JSON array; poll `/api/v1/jobs/{id}`."""
    issuer = issuers.owned_issuer(session, slug, caller.organisation.id)
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
    job = credentials.start_bulk(
        session, issuer=issuer, micro_credential=mc, rows=rows, fmt=format, origin=_origin(caller)
    )
    enqueue_job(session, job.uuid)  # its tasks commit with its rows (PostgreSQL)
    session.commit()
    background.add_task(jobs_of(request.app.state).run, job.uuid)
    return bulk.job_report(session, job) | {"href": f"/api/v1/jobs/{job.uuid}"}


@router.get("/api/v1/jobs/{job_id}")
def bulk_job(job_id: str, session: SessionDep, org: OrgDep) -> dict:
    return bulk.job_report(session, bulk.owned_job(session, job_id, org.id))


class CredentialSummary(BaseModel):
    id: str
    url: str
    issuer: str
    micro_credential: str | None = Field(description="its slug; null for a VC-API credential")
    recipient_name: str
    recipient_email: str | None
    external_id: str | None
    grade: str | None
    state: str = Field(description=f"one of {', '.join(recipients.STATES)} (see the filter)")
    public: bool
    issued_at: str
    valid_until: str | None
    revoked_at: str | None
    suspended: bool
    delivery_status: str | None
    delivery_error: str | None
    claimed_at: str | None
    source: str = Field(description="catalogue (an award) | vc-api (signed through the VC-API)")
    credential_id: str | None = Field(description="a VC-API credential's own id")


class CredentialList(BaseModel):
    items: list[CredentialSummary]
    next_cursor: str | None = Field(description="the next (older) page: ?cursor=…")
    previous_cursor: str | None = Field(
        description="the previous (newer) page: ?cursor=…&direction=before"
    )
    total: int | None = Field(
        description=f"matches, on the first page only; {recipients.COUNT_CAP + 1} means more "
        f"than {recipients.COUNT_CAP}"
    )


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def credential_summary(row: recipients.Row, now: datetime, base_url: str) -> CredentialSummary:
    return CredentialSummary(
        id=row.uuid,
        url=issuing.Urls(base_url).credential(row.uuid),
        issuer=row.issuer,
        micro_credential=row.micro_credential,
        recipient_name=row.recipient_name,
        recipient_email=row.recipient_email,
        external_id=row.external_id,
        grade=row.grade,
        state=row.state_at(now),
        public=row.public,
        issued_at=row.created_at.isoformat(),
        valid_until=_iso(row.valid_until),
        revoked_at=_iso(row.revoked_at),
        suspended=row.suspended,
        delivery_status=row.delivery_status,
        delivery_error=row.delivery_error,
        claimed_at=_iso(row.claimed_at),
        source=row.source,
        credential_id=row.credential_id,
    )


@router.get("/api/v1/credentials")
def list_credentials(
    session: SessionDep,
    settings: SettingsDep,
    org: OrgDep,
    micro_credential: Annotated[str | None, Query(description="its slug")] = None,
    state: Annotated[str | None, Query(description=", ".join(recipients.STATES))] = None,
    issued_from: Annotated[date | None, Query(description="YYYY-MM-DD, UTC, inclusive")] = None,
    issued_until: Annotated[date | None, Query(description="YYYY-MM-DD, UTC, inclusive")] = None,
    q: Annotated[str | None, Query(description="part of the name or e-mail")] = None,
    source: Annotated[Literal["catalogue", "vc-api"] | None, Query()] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    direction: Annotated[Literal["after", "before"], Query()] = "after",
    limit: Annotated[int, Query(ge=1, le=recipients.MAX_PAGE)] = recipients.DEFAULT_PAGE,
) -> CredentialList:
    """The organisation's issued credentials, newest first, with their state; keyset pages
    (follow `next_cursor`), the same filters as the console's recipients page."""
    filters = recipients.Filters(micro_credential, state, issued_from, issued_until, q, source)
    found = recipients.page(
        session, pk(org), filters, cursor=cursor, direction=direction, limit=limit
    )
    return CredentialList(
        items=[credential_summary(row, found.now, settings.base_url) for row in found.rows],
        next_cursor=found.older,
        previous_cursor=found.newer,
        total=found.total,
    )


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
    caller: ApiCallerDep,
    body: StatusChangeRequest | None = None,
) -> dict:
    record = credentials.change_status(
        session,
        master_key,
        credential_uuid=credential_id,
        action=action,
        organisation_id=caller.organisation.id,
        base_url=settings.base_url,
        origin=_origin(caller),
        reason=body.reason if body else None,
        status_actor=f"organisation:{caller.organisation.slug}",
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
