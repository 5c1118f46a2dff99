"""Provider organisations: public reads, and a token-scoped view of one's own (its API
tokens included: list and revoke)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel

from accounts.api_tokens import revoke_and_record
from catalogue import organisations
from catalogue.base import pk
from catalogue.errors import Forbidden
from keys import tokens
from keys.models import ApiToken
from skillshub.web.deps import ApiCallerDep, OrgDep, SessionDep

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


class TokenOut(BaseModel):
    """A token as listed: never the secret nor its hash, only the prefix that tells it apart."""

    id: int
    name: str
    prefix: str
    state: tokens.TokenState
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, record: ApiToken) -> TokenOut:
        return cls(
            id=pk(record),
            name=record.name,
            prefix=record.prefix,
            state=tokens.token_state(record),
            created_at=record.created_at,
            expires_at=record.expires_at,
            last_used_at=record.last_used_at,
            revoked_at=record.revoked_at,
        )


@router.get("/organisations/{slug}/tokens", tags=["tokens"])
def list_tokens(slug: str, session: SessionDep, org: OrgDep) -> list[TokenOut]:
    """The organisation's API tokens, revoked and expired ones included."""
    if slug != org.slug:
        raise Forbidden(f"this API token belongs to organisation {org.slug!r}, not {slug!r}")
    return [TokenOut.of(t) for t in tokens.list_tokens(session, pk(org))]


@router.delete("/tokens/{token_id}", tags=["tokens"])
def revoke_token(
    token_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    session: SessionDep,
    org: OrgDep,
    caller: ApiCallerDep,
) -> TokenOut:
    """Revoke one of the organisation's tokens (the one calling included); it is refused
    from the moment this answer is sent."""
    record = revoke_and_record(
        session, token_id, pk(org), actor=caller.actor, address=caller.address
    )
    return TokenOut.of(record)
