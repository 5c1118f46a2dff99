"""The e-seal certificates organisations seal their Europass credentials with."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from catalogue.base import timestamp

# How early the console and `skillshub doctor` announce a certificate's end: ordering and
# importing a qualified e-seal's successor takes days to weeks.
EXPIRY_WARNING = timedelta(days=30)


class SealCertificate(SQLModel, table=True):
    """An organisation's X.509 e-seal certificate with its chain; the private key is sealed
    with the master key (key id ``seal-certificate:<fingerprint>``), like issuer keys."""

    __tablename__ = "seal_certificate"
    __table_args__ = (UniqueConstraint("organisation_id", "fingerprint"),)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    fingerprint: str = Field(max_length=64, description="SHA-256 of the leaf certificate (hex)")
    subject: str = Field(max_length=1000)
    issuer: str = Field(max_length=1000)
    serial: str = Field(max_length=64, description="hex")
    organisation_identifier: str = Field(
        max_length=200, description="eIDAS legal identifier, e.g. VATBE-0123456789"
    )
    country: str = Field(max_length=2, description="ISO 3166-1 alpha-2 of the sealing body")
    algorithm: str = Field(max_length=8, description="RS256 | PS256 | ES256")
    chain_pem: str = Field(sa_type=Text, description="leaf first, then its issuers")
    sealed_private_key: bytes
    not_before: datetime = timestamp(default_now=False)
    not_after: datetime = timestamp(default_now=False)
    self_signed: bool = False
    active: bool = True
    created_at: datetime = timestamp()
