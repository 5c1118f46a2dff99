"""Badge tables: issuers, issued credentials, status lists, claim tokens, badge images."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, LargeBinary, Text, UniqueConstraint, false
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
    # Applied when a credential is delivered; the learner may still hide (or show) it.
    public_by_default: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    created_at: datetime = timestamp()


class IssuedCredential(SQLModel, table=True):
    """A signed credential, stored verbatim: never rebuilt from models after signing.

    `source` "catalogue": an award of a micro-credential (recipient, e-mail, identity hash).
    `source` "vc-api": a caller's credential signed through VC-API `/credentials/issue`; it
    awards a micro-credential only when its achievement is one of ours, and names no e-mail.
    """

    __tablename__ = "issued_credential"
    __table_args__ = (
        UniqueConstraint("issuer_id", "external_id"),
        # The recipients list (badges.recipients): newest first per issuer, keyset-paged on
        # (created_at, id). Covering: every filter (state, micro-credential, search) is read
        # from the index, never from the table's rows, which hold the signed credential (on
        # SQLite, in overflow pages that a scan would otherwise read). Also serves the issuer
        # foreign key.
        Index(
            "ix_issued_credential_issuer_list",
            "issuer_id",
            "created_at",
            "id",
            "micro_credential_id",
            "revoked_at",
            "suspended",
            "valid_until",
            "claimed_at",
            "delivery_status",
            "public",
            "search_text",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    uuid: str = Field(max_length=36, unique=True, index=True)
    issuer_id: int = Field(foreign_key="issuer.id")
    micro_credential_id: int | None = Field(
        default=None, foreign_key="micro_credential.id", index=True
    )
    format: str = Field(max_length=8, description="ldp (Data Integrity) | jwt (VC-JWT)")
    source: str = Field(
        default="catalogue",
        max_length=12,
        sa_column_kwargs={"server_default": "catalogue"},
        description="catalogue | vc-api",
    )
    # The credential's own `id` when it is not our /credentials/{uuid} URL (VC-API input).
    credential_id: str | None = Field(default=None, max_length=1000, index=True)
    recipient_name: str = Field(max_length=300, description="the full name, as printed")
    # Given and family names apart (the EDC's givenName / familyName), when the provider gave
    # them; never guessed from the full name ("Li Wei", "Kovács Anna" put the family first).
    recipient_given_name: str | None = Field(default=None, max_length=300)
    recipient_family_name: str | None = Field(default=None, max_length=300)
    # The learner agreed that their e-mail address be the Europass credential's contactPoint
    # (never without it: the EDC is shown to whoever the learner shares it with).
    recipient_contact_consent: bool = Field(
        default=False, sa_column_kwargs={"server_default": false()}
    )
    # Kept for delivery and the provider's records only; credentials carry a salted hash.
    recipient_email: str | None = Field(default=None, max_length=320, index=True)
    recipient_did: str | None = Field(default=None, max_length=500)
    identity_hash: str | None = Field(default=None, max_length=100)
    external_id: str | None = Field(default=None, max_length=200)
    grade: str | None = Field(default=None, max_length=100)
    evidence_url: str | None = Field(default=None, max_length=1000)
    evidence_narrative: str | None = Field(default=None, sa_type=Text)
    valid_from: datetime = timestamp()
    valid_until: datetime | None = timestamp(nullable=True, default_now=False)
    signed: str = Field(sa_type=Text)
    public: bool = False
    revoked_at: datetime | None = timestamp(nullable=True, default_now=False)
    suspended: bool = False
    created_at: datetime = timestamp()
    # The last claim e-mail: None (not tried yet) | "sent" | "failed", for the issuer to see.
    delivery_status: str | None = Field(default=None, max_length=12)
    delivery_error: str | None = Field(default=None, max_length=500)
    # When the learner first redeemed a claim link (badges.sharing.delivery.redeem_claim).
    claimed_at: datetime | None = timestamp(nullable=True, default_now=False)
    # Name and e-mail case- and accent-folded (badges.recipients.fold), for one search that
    # behaves alike on SQLite and PostgreSQL.
    search_text: str = Field(default="", max_length=700, sa_column_kwargs={"server_default": ""})
    # When the learner's personal data was erased (they deleted their backpack account): the
    # name, address and signed text are gone; the status entries that revocation needs stay
    # (`signed` then holds only {"credentialStatus": …}, unsigned; backpack.leave).
    erased_at: datetime | None = timestamp(nullable=True, default_now=False)


class IdempotencyKey(SQLModel, table=True):
    """A client's key for one issue request (the `Idempotency-Key` header, or the console
    form's hidden token): the same key with the same request answers with the same
    credential; with another request it is refused. The unique pair is what makes two
    parallel requests with one key issue once."""

    __tablename__ = "idempotency_key"
    __table_args__ = (UniqueConstraint("organisation_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", ondelete="CASCADE")
    key: str = Field(max_length=200)
    request_hash: str = Field(max_length=64, description="hex SHA-256 of the request")
    credential_id: int = Field(foreign_key="issued_credential.id", ondelete="CASCADE")
    created_at: datetime = timestamp()


class BulkJob(SQLModel, table=True):
    """A bulk issuing run: rows are issued one by one, each with its own result."""

    __tablename__ = "bulk_job"

    id: int | None = Field(default=None, primary_key=True)
    uuid: str = Field(max_length=36, unique=True, index=True)
    issuer_id: int = Field(foreign_key="issuer.id", index=True)
    micro_credential_id: int = Field(foreign_key="micro_credential.id")
    format: str = Field(max_length=8)
    status: str = Field(default="pending", max_length=12, description="pending|running|done")
    total: int = 0
    issued: int = 0
    skipped: int = 0
    failed: int = 0
    created_at: datetime = timestamp()
    finished_at: datetime | None = timestamp(nullable=True, default_now=False)


class BulkJobRow(SQLModel, table=True):
    __tablename__ = "bulk_job_row"
    __table_args__ = (UniqueConstraint("job_id", "line"),)

    id: int | None = Field(default=None, primary_key=True)
    job_id: int = Field(foreign_key="bulk_job.id", index=True)
    line: int
    external_id: str | None = Field(default=None, max_length=200)
    payload: str = Field(sa_type=Text, description="the input row as JSON, to resume a job")
    status: str = Field(max_length=12, description="pending | issued | duplicate | failed")
    credential_uuid: str | None = Field(default=None, max_length=36, index=True)
    error: str | None = Field(default=None, sa_type=Text)


class StagedUpload(SQLModel, table=True):
    """A spreadsheet uploaded in the console, kept between its preview and the confirmation
    (badges.issuing.staging): bounded in size, in number per organisation and in time, and
    emptied once its job starts. No file on disk, so nothing is left behind."""

    __tablename__ = "staged_upload"

    id: int | None = Field(default=None, primary_key=True)
    uuid: str = Field(max_length=36, unique=True)
    organisation_id: int = Field(foreign_key="organisation.id", ondelete="CASCADE", index=True)
    uploaded_by: str = Field(max_length=320, description="who uploaded it (an actor label)")
    filename: str = Field(max_length=200)
    kind: str = Field(max_length=8, description="csv | xlsx")
    data: bytes | None = Field(default=None, sa_type=LargeBinary)
    created_at: datetime = timestamp()
    expires_at: datetime = timestamp(default_now=False)
    job_uuid: str | None = Field(default=None, max_length=36, description="set once confirmed")


class StatusList(SQLModel, table=True):
    """One Bitstring Status List of an issuer and purpose, with its signed, served forms."""

    __tablename__ = "status_list"
    __table_args__ = (UniqueConstraint("issuer_id", "purpose", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    issuer_id: int = Field(foreign_key="issuer.id", index=True)
    purpose: str = Field(max_length=20, description="revocation | suspension")
    seq: int = Field(description="1, 2, … per issuer and purpose")
    size: int
    full: bool = False
    bits: bytes
    version: int = 1
    credential_ldp: str = Field(sa_type=Text, description="Data Integrity signed list credential")
    credential_jwt: str = Field(sa_type=Text, description="VC-JWT signed list credential")
    updated_at: datetime = timestamp()


class StatusAllocation(SQLModel, table=True):
    """An index of a list given to one credential; the unique pair is the database's guarantee."""

    __tablename__ = "status_allocation"
    __table_args__ = (UniqueConstraint("list_id", "index"),)

    id: int | None = Field(default=None, primary_key=True)
    list_id: int = Field(foreign_key="status_list.id", index=True)
    index: int
    credential_uuid: str = Field(max_length=36, index=True)


class StatusChange(SQLModel, table=True):
    """Who revoked, suspended or unsuspended a credential, when, and why."""

    __tablename__ = "status_change"

    id: int | None = Field(default=None, primary_key=True)
    credential_uuid: str = Field(max_length=36, index=True)
    action: str = Field(max_length=12, description="revoke | suspend | unsuspend")
    reason: str | None = Field(default=None, sa_type=Text)
    actor: str = Field(max_length=200)
    at: datetime = timestamp()


class ClaimToken(SQLModel, table=True):
    """A learner's secret for one credential: only its SHA-256 is stored.

    purpose "claim": the e-mailed link, redeemed once before it expires; purpose "session":
    the learner's browser session minted by that redemption (see badges.sharing.delivery).
    """

    __tablename__ = "claim_token"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, description="hex SHA-256 of the token")
    credential_id: int = Field(foreign_key="issued_credential.id", ondelete="CASCADE", index=True)
    purpose: str = Field(max_length=10, description="claim | session")
    expires_at: datetime = timestamp(default_now=False)
    used_at: datetime | None = timestamp(nullable=True, default_now=False)
    created_at: datetime = timestamp()


class BadgeImage(SQLModel, table=True):
    """A provider's uploaded badge image for a micro-credential (validated PNG or SVG)."""

    __tablename__ = "badge_image"

    id: int | None = Field(default=None, primary_key=True)
    micro_credential_id: int = Field(
        foreign_key="micro_credential.id", ondelete="CASCADE", unique=True
    )
    media_type: str = Field(max_length=20, description="image/png | image/svg+xml")
    data: bytes
    sha256: str = Field(max_length=64)
    width: int | None = None
    height: int | None = None
    updated_at: datetime = timestamp()


class Endorsement(SQLModel, table=True):
    """An Open Badges 3.0 EndorsementCredential one organisation's issuer signed about a
    micro-credential, a course or another organisation (badges.endorsing), in both securing
    formats (the same credential: one status entry, in the endorser's revocation list).
    Awards of an endorsed micro-credential carry it (`achievement.endorsement` /
    `endorsementJwt`) while it is valid and not revoked."""

    __tablename__ = "endorsement"
    __table_args__ = (
        Index("ix_endorsement_subject", "subject_kind", "subject_ref_id", "revoked_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    uuid: str = Field(max_length=36, unique=True, index=True)
    endorser_id: int = Field(foreign_key="organisation.id", ondelete="CASCADE", index=True)
    issuer_id: int = Field(foreign_key="issuer.id")
    subject_kind: str = Field(max_length=20, description="micro_credential | course | organisation")
    subject_ref_id: int
    subject_uri: str = Field(max_length=500, description="credentialSubject.id")
    comment: str = Field(sa_type=Text)
    valid_from: datetime = timestamp()
    valid_until: datetime | None = timestamp(nullable=True, default_now=False)
    signed_ldp: str = Field(sa_type=Text, description="Data Integrity (eddsa-rdfc-2022)")
    signed_jwt: str = Field(sa_type=Text, description="VC-JWT (compact JWS)")
    revoked_at: datetime | None = timestamp(nullable=True, default_now=False)
    created_at: datetime = timestamp()
