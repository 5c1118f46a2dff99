"""Backpack tables: learner accounts (by e-mail, no password), their sign-in links and
sessions, the badges in a backpack (this hub's, claimed; or imported from elsewhere), and
the collections a learner shares. Secrets are stored only as SHA-256 hashes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary, UniqueConstraint, false
from sqlmodel import Field, SQLModel

from catalogue.base import timestamp


class Learner(SQLModel, table=True):
    """A learner's account. `email` is the verified address, lower-case (one account per
    address whatever its case); it exists only once a sign-in link sent there was opened."""

    __tablename__ = "learner"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320, unique=True)
    # The public profile's address (/profiles/{handle}); None until the learner picks one.
    handle: str | None = Field(default=None, max_length=40, unique=True)
    display_name: str | None = Field(default=None, max_length=100)
    profile_public: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    created_at: datetime = timestamp()
    last_sign_in_at: datetime | None = timestamp(nullable=True, default_now=False)


class LearnerLink(SQLModel, table=True):
    """A sign-in link e-mailed to an address: spent once, expires. It names the address, not
    an account: the account is made when the link is opened (the address is then verified)."""

    __tablename__ = "learner_link"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    email: str = Field(max_length=320, index=True)
    created_at: datetime = timestamp()
    expires_at: datetime = timestamp(default_now=False)
    used_at: datetime | None = timestamp(nullable=True, default_now=False)


class LearnerSession(SQLModel, table=True):
    """A signed-in browser of a learner: the cookie holds a random token, the row its hash.
    Ended by signing out (the row is deleted), "sign out everywhere", or expiry."""

    __tablename__ = "learner_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    learner_id: int = Field(foreign_key="learner.id", ondelete="CASCADE", index=True)
    created_at: datetime = timestamp()
    last_seen_at: datetime = timestamp()
    expires_at: datetime = timestamp(default_now=False)
    user_agent: str | None = Field(default=None, max_length=300)


class BackpackItem(SQLModel, table=True):
    """One badge in a backpack. kind "hub": a credential this hub issued to the learner's
    address (`credential_id`); kind "import": a credential from elsewhere, kept as it was given
    (`data`: JSON, a compact JWS, or the baked PNG/SVG) and verified again whenever shown.

    `fingerprint` (SHA-256 of the credential's identity) is unique per learner: the same badge
    claimed or imported twice, even by two requests at once, is one row."""

    __tablename__ = "backpack_item"
    __table_args__ = (UniqueConstraint("learner_id", "fingerprint"),)

    id: int | None = Field(default=None, primary_key=True)
    learner_id: int = Field(foreign_key="learner.id", ondelete="CASCADE", index=True)
    key: str = Field(max_length=32, unique=True, description="the badge's public id")
    kind: str = Field(max_length=8, description="hub | import")
    fingerprint: str = Field(max_length=64)
    credential_id: int | None = Field(
        default=None, foreign_key="issued_credential.id", ondelete="CASCADE", index=True
    )
    container: str | None = Field(default=None, max_length=8, description="json|jwt|png|svg")
    data: bytes | None = Field(default=None, sa_type=LargeBinary)
    # What the import showed when it verified (a listing's label; the page verifies again).
    title: str = Field(default="", max_length=300)
    issuer_name: str = Field(default="", max_length=300)
    on_profile: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    added_at: datetime = timestamp()


class BackpackCollection(SQLModel, table=True):
    """A named set of the learner's badges with its own public link."""

    __tablename__ = "backpack_collection"
    __table_args__ = (UniqueConstraint("learner_id", "slug"),)

    id: int | None = Field(default=None, primary_key=True)
    learner_id: int = Field(foreign_key="learner.id", ondelete="CASCADE", index=True)
    slug: str = Field(max_length=40)
    name: str = Field(max_length=100)
    created_at: datetime = timestamp()


class BackpackCollectionItem(SQLModel, table=True):
    __tablename__ = "backpack_collection_item"
    __table_args__ = (UniqueConstraint("collection_id", "item_id"),)

    id: int | None = Field(default=None, primary_key=True)
    collection_id: int = Field(foreign_key="backpack_collection.id", ondelete="CASCADE")
    item_id: int = Field(foreign_key="backpack_item.id", ondelete="CASCADE", index=True)
