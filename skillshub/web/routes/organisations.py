"""Provider organisations: public reads, and a token-scoped view of one's own."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel

from catalogue import organisations
from skillshub.web.deps import OrgDep, SessionDep

router = APIRouter(prefix="/api/v1", tags=["organisations"])


class OrganisationOut(BaseModel):
    slug: str
    legal_name: str
    country: str
    registration_id: str | None = None
    homepage: str | None = None
    logo_url: str | None = None
    created_at: datetime


@router.get("/organisations")
def list_organisations(session: SessionDep) -> list[OrganisationOut]:
    return [
        OrganisationOut.model_validate(o, from_attributes=True)
        for o in organisations.list_organisations(session)
    ]


@router.get("/organisations/me")
def my_organisation(org: OrgDep) -> OrganisationOut:
    return OrganisationOut.model_validate(org, from_attributes=True)


@router.get("/organisations/{slug}")
def get_organisation(slug: str, session: SessionDep) -> OrganisationOut:
    return OrganisationOut.model_validate(
        organisations.get_organisation(session, slug), from_attributes=True
    )
