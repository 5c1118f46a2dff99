"""The community's API (issue 20): a provider's token submits its courses and
micro-credentials for review and proposes job-role skills. (Approving is an operator's, in
the console: no API token acts as an operator.)"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body
from pydantic import BaseModel, Field

from catalogue import review
from catalogue.base import pk
from catalogue.models import Submission
from skillshub.web.deps import ApiCallerDep, OrgDep, SessionDep

router = APIRouter(prefix="/api/v1", tags=["community"])


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
