"""Tables that hold secrets, hashed or sealed: API tokens and issuer keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from catalogue.base import timestamp


class ApiToken(SQLModel, table=True):
    """A bearer token scoped to one organisation; only its SHA-256 is stored."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    name: str = Field(max_length=120)
    prefix: str = Field(max_length=16, description="shown in listings to tell tokens apart")
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = timestamp()
    last_used_at: datetime | None = timestamp(nullable=True, default_now=False)
    revoked_at: datetime | None = timestamp(nullable=True, default_now=False)
    expires_at: datetime | None = timestamp(nullable=True, default_now=False)


class IssuerKey(SQLModel, table=True):
    """One signing key of an issuer. The private half is sealed with the master key."""

    __tablename__ = "issuer_key"
    __table_args__ = (UniqueConstraint("issuer_id", "kid"),)

    id: int | None = Field(default=None, primary_key=True)
    issuer_id: int = Field(foreign_key="issuer.id", index=True)
    kid: str = Field(max_length=200, description="fragment of the verification method id")
    algorithm: str = Field(max_length=16, description="Ed25519 | P-256")
    controller: str = Field(max_length=500, description="the DID or URL that controls the key")
    public_multibase: str = Field(max_length=200)
    sealed_private_key: bytes
    active: bool = Field(default=True)
    created_at: datetime = timestamp()
    retired_at: datetime | None = timestamp(nullable=True, default_now=False)


class MasterKeyCheck(SQLModel, table=True):
    """A value sealed with the master key, so a wrong key is told at start-up, not at signing."""

    __tablename__ = "master_key_check"

    id: int = Field(default=1, primary_key=True)
    sealed: bytes
    created_at: datetime = timestamp()
