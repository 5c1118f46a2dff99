"""The community's API (issue 20): a provider's token submits its courses and
micro-credentials for review and proposes job-role skills (approving is an operator's, in the
console: no API token acts as an operator); an organisation's token endorses another's
micro-credential, course or organisation, and revokes its own endorsements."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from badges import endorsing, verifying
from badges.models import Endorsement
from badges.report import Verdict
from badges.verifying.service import VerificationContext
from catalogue import review
from catalogue.base import pk
from catalogue.models import Submission
from skillshub.web.deps import ApiCallerDep, MasterKeyDep, OrgDep, SessionDep, SettingsDep
from skillshub.web.negotiation import preferred

router = APIRouter(prefix="/api/v1", tags=["community"])
JSONLD = "application/ld+json"


class SubmitIn(BaseModel):
    note: str | None = Field(default=None, max_length=review.MAX_MESSAGE)


class SkillProposal(BaseModel):
    skill: str = Field(max_length=500, description="an ESCO skill IRI or the hub's slug")
    level: str = Field(default="practitioner", max_length=20)
    essential: bool = True


class ProposalIn(BaseModel):
    skills: list[SkillProposal] = Field(max_length=review.MAX_SKILLS)
    note: str | None = Field(default=None, max_length=review.MAX_MESSAGE)


class SubmissionOut(BaseModel):
    id: int
    kind: str
    slug: str
    state: str
    entry_state: str | None
    snapshot: dict[str, Any]


def _out(session: SessionDep, submission: Submission) -> SubmissionOut:
    entry = review.entry_of(session, submission)
    return SubmissionOut(
        id=pk(submission),
        kind=submission.kind,
        slug=entry.slug,
        state=submission.state,
        entry_state=entry.state,
        snapshot=submission.snapshot,
    )


SubmitBody = Annotated[SubmitIn | None, Body()]


def _submit(
    session: SessionDep,
    org: OrgDep,
    caller: ApiCallerDep,
    kind: review.EntryKind,
    slug: str,
    body: SubmitIn | None,
) -> SubmissionOut:
    submission = review.submit(
        session, org, kind, slug, by=caller.actor.label, note=body.note if body else None
    )
    caller.record(
        session,
        f"{kind}.submit",
        subject_type=kind,
        subject_id=slug,
        details={"submission": pk(submission)},
    )
    return _out(session, submission)


@router.post(
    "/micro-credentials/{slug}/submit",
    status_code=201,
    summary="Submit a draft micro-credential for review (the hub's operators publish it)",
)
def submit_micro_credential(
    slug: str, session: SessionDep, org: OrgDep, caller: ApiCallerDep, body: SubmitBody = None
) -> SubmissionOut:
    return _submit(session, org, caller, "micro_credential", slug, body)


@router.post(
    "/courses/{slug}/submit",
    status_code=201,
    summary="Submit a draft course for review (the hub's operators publish it)",
)
def submit_course(
    slug: str, session: SessionDep, org: OrgDep, caller: ApiCallerDep, body: SubmitBody = None
) -> SubmissionOut:
    return _submit(session, org, caller, "course", slug, body)


@router.post(
    "/job-roles/{key}/proposals",
    status_code=201,
    summary="Propose a job role's required skills (the hub's operators review it)",
)
def propose_job_role(
    key: str, body: ProposalIn, session: SessionDep, org: OrgDep, caller: ApiCallerDep
) -> SubmissionOut:
    submission = review.propose_job_role(
        session,
        org,
        key,
        [s.model_dump() for s in body.skills],
        by=caller.actor.label,
        note=body.note,
    )
    entry = review.entry_of(session, submission)
    caller.record(
        session,
        "job_role.propose",
        subject_type="job_role",
        subject_id=entry.slug,
        details={"submission": pk(submission)},
    )
    return _out(session, submission)


# --- endorsements ----------------------------------------------------------------------------


class EndorseIn(BaseModel):
    comment: str = Field(max_length=endorsing.MAX_COMMENT, description="why you endorse it")
    valid_from: datetime | None = Field(default=None, description="default: now")
    valid_until: datetime | None = Field(default=None, description="default: no end")
    issuer: str | None = Field(
        default=None, max_length=80, description="your issuer's slug; default: your first"
    )


class EndorsementOut(BaseModel):
    id: str
    uuid: str
    endorser: str
    subject_kind: str
    subject: str
    comment: str
    valid_from: datetime
    valid_until: datetime | None
    revoked: bool
    credential: dict[str, Any]
    credential_jwt: str


def endorsement_out(session: SessionDep, row: Endorsement, base_url: str) -> EndorsementOut:
    return EndorsementOut(
        id=endorsing.endorsement_url(base_url, row.uuid),
        uuid=row.uuid,
        endorser=endorsing.endorser_of(session, row).slug,
        subject_kind=row.subject_kind,
        subject=row.subject_uri,
        comment=row.comment,
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        revoked=row.revoked_at is not None,
        credential=endorsing.document(row),
        credential_jwt=row.signed_jwt,
    )


def _endorse(
    kind: str,
    key: str,
    body: EndorseIn,
    session: SessionDep,
    caller: ApiCallerDep,
    master_key: MasterKeyDep,
    settings: SettingsDep,
) -> EndorsementOut:
    row = endorsing.endorse(
        session,
        master_key,
        endorser=caller.organisation,
        subject_kind=kind,
        subject_key=key,
        comment=body.comment,
        valid_from=body.valid_from,
        valid_until=body.valid_until,
        issuer_slug=body.issuer,
        base_url=settings.base_url,
        jwt_algorithm=settings.jwt_algorithm,
    )
    caller.record(
        session,
        "endorsement.create",
        subject_type="endorsement",
        subject_id=row.uuid,
        details={"about": kind, "slug": key},
    )
    return endorsement_out(session, row, settings.base_url)


@router.post(
    "/micro-credentials/{slug}/endorsements",
    status_code=201,
    summary="Endorse another organisation's micro-credential (a signed EndorsementCredential)",
)
def endorse_micro_credential(
    slug: str,
    body: EndorseIn,
    session: SessionDep,
    caller: ApiCallerDep,
    master_key: MasterKeyDep,
    settings: SettingsDep,
) -> EndorsementOut:
    return _endorse("micro_credential", slug, body, session, caller, master_key, settings)


@router.post("/courses/{slug}/endorsements", status_code=201, summary="Endorse a course")
def endorse_course(
    slug: str,
    body: EndorseIn,
    session: SessionDep,
    caller: ApiCallerDep,
    master_key: MasterKeyDep,
    settings: SettingsDep,
) -> EndorsementOut:
    return _endorse("course", slug, body, session, caller, master_key, settings)


@router.post(
    "/organisations/{slug}/endorsements", status_code=201, summary="Endorse an organisation"
)
def endorse_organisation(
    slug: str,
    body: EndorseIn,
    session: SessionDep,
    caller: ApiCallerDep,
    master_key: MasterKeyDep,
    settings: SettingsDep,
) -> EndorsementOut:
    return _endorse("organisation", slug, body, session, caller, master_key, settings)


@router.get(
    "/micro-credentials/{slug}/endorsements",
    summary="A published micro-credential's endorsements (revoked ones say so)",
)
def micro_credential_endorsements(
    slug: str, session: SessionDep, settings: SettingsDep
) -> list[EndorsementOut]:
    about = endorsing.subject(session, "micro_credential", slug, settings.base_url)
    rows = endorsing.of_subject(session, "micro_credential", about.ref_id)
    return [endorsement_out(session, row, settings.base_url) for row in rows]


@router.post("/endorsements/{endorsement_uuid}/revoke", summary="Revoke your endorsement")
def revoke_endorsement(
    endorsement_uuid: str,
    session: SessionDep,
    caller: ApiCallerDep,
    master_key: MasterKeyDep,
    settings: SettingsDep,
) -> EndorsementOut:
    row = endorsing.revoke(
        session,
        master_key,
        endorsement_uuid=endorsement_uuid,
        endorser=caller.organisation,
        base_url=settings.base_url,
    )
    caller.record(session, "endorsement.revoke", subject_type="endorsement", subject_id=row.uuid)
    return endorsement_out(session, row, settings.base_url)


# The signed endorsement itself, where its `id` points (JSON-LD, or the VC-JWT).
public_router = APIRouter(tags=["community"])


@public_router.get("/endorsements/{endorsement_uuid}", response_model=None)
def endorsement_document(endorsement_uuid: str, request: Request, session: SessionDep) -> Response:
    row = endorsing.get(session, endorsement_uuid)
    offers = (JSONLD, "application/json", "application/vc+jwt", "application/jwt")
    chosen = preferred(request.headers.get("accept", ""), offers) or JSONLD
    headers = {"Vary": "Accept"}
    if chosen in ("application/vc+jwt", "application/jwt"):
        return Response(row.signed_jwt, media_type=chosen, headers=headers)
    return JSONResponse(endorsing.document(row), media_type=chosen, headers=headers)


# --- endorsements as the catalogue pages show them -------------------------------------------

MAX_SHOWN = 10


@dataclass(frozen=True)
class EndorsementView:
    endorser: str
    endorser_slug: str
    comment: str
    url: str
    checked: bool  # our verifier found it valid now (proof, issuer, status, dates)
    reason: str | None  # why not, in words


def endorsement_views(
    session: SessionDep, context: VerificationContext, kind: str, ref_id: int, base_url: str
) -> list[EndorsementView]:
    """A subject's endorsements, each verified now as any verifier would (bounded: the
    newest MAX_SHOWN)."""
    views = []
    for row in endorsing.of_subject(session, kind, ref_id, limit=MAX_SHOWN):
        report = verifying.verify(context, endorsing.document(row))
        valid = report.verdict is Verdict.VALID
        problems = report.errors or report.unresolved
        reason = None if valid else (problems[0].message if problems else report.verdict.value)
        org = endorsing.endorser_of(session, row)
        views.append(
            EndorsementView(
                endorser=org.legal_name,
                endorser_slug=org.slug,
                comment=row.comment,
                url=endorsing.endorsement_url(base_url, row.uuid),
                checked=valid,
                reason=reason,
            )
        )
    return views
