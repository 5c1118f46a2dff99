"""Catalogue tables: provider organisations (more catalogue tables join them here)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from catalogue.base import timestamp



class Organisation(SQLModel, table=True):
    """A training provider: owns issuers and catalogue entries."""

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=80, unique=True, index=True)
    legal_name: str = Field(max_length=300)
    country: str = Field(max_length=2, description="ISO 3166-1 alpha-2")
    registration_id: str | None = Field(default=None, max_length=120)
    homepage: str | None = Field(default=None, max_length=500)
    logo_url: str | None = Field(default=None, max_length=500)
    email: str | None = Field(default=None, max_length=320)
    created_at: datetime = timestamp()
