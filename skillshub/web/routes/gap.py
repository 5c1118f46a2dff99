"""The skills gap from the badges a learner holds: POST their credentials, get the gap."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from badges.proven_skills import MAX_CREDENTIALS, proven_skills
from catalogue import gap
from skillshub.web.deps import ContextDep, SessionDep, read_only
from skillshub.web.rate_limits import RateClass, spend_per_address

router = APIRouter(prefix="/api/v1", tags=["catalogue"])


class GapRequest(BaseModel):
    job_role: str = Field(description="job role slug or ESCO occupation URI")
    have: list[str] = Field(default_factory=list, description="skill IRIs the learner lists")
    credentials: list[dict[str, Any] | str] = Field(
        default_factory=list,
        max_length=MAX_CREDENTIALS,
        description="Open Badges the learner holds (JSON or compact JWS); only valid ones count",
    )


@router.post("/gap")
@read_only
def gap_from_badges(
    body: GapRequest, request: Request, session: SessionDep, context: ContextDep
) -> dict[str, Any]:
    if body.credentials:  # verifying them is the public verifier's work, on its budget
        spend_per_address(request, RateClass.VERIFY)
    proven, held = proven_skills(context, body.credentials)
    result = gap.gap(session, body.job_role, [*body.have, *proven])
    return {
        "gap": result.model_dump(mode="json"),
        "proven_skills": proven,
        "credentials": [asdict(h) for h in held],
    }
