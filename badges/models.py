"""Issuing tables: issuers (more badge tables join them here)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from catalogue.base import timestamp


class Issuer(SQLModel, table=True):
    """A provider's issuing identity: the OB 3.0 issuer Profile of its credentials."""

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    slug: str = Field(max_length=80, unique=True, index=True)
    name: str = Field(max_length=300)
    url: str | None = Field(default=None, max_length=500)
    description: str | None = None
    email: str | None = Field(default=None, max_length=320)
    image_url: str | None = Field(default=None, max_length=500)
    did: str = Field(max_length=500, index=True, description="issuer.id in credentials")
    created_at: datetime = timestamp()
