"""Console tables: staff users, their memberships, browser sessions, one-time password links
and the audit log. Secrets are stored only as hashes (Argon2id for passwords, SHA-256 for
random tokens)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    Index,
    LargeBinary,
    UniqueConstraint,
    false,
)
from sqlmodel import Field, SQLModel

from catalogue.base import timestamp


class User(SQLModel, table=True):
    """A provider's staff member. `email` is stored lower-case: unique whatever the case."""

    __tablename__ = "console_user"  # "user" is a reserved word in PostgreSQL

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320, unique=True, index=True)
    name: str | None = Field(default=None, max_length=200)
    # None until the user sets one through a one-time link (`skillshub user create` without
    # --password-stdin); such a user cannot sign in.
    password_hash: str | None = Field(default=None, max_length=200)
    # Second factor (accounts.second_factor): the TOTP secret sealed with the master key
    # (keys.sealing); set when enrolment starts, in force once `totp_enabled_at` is set (after
    # a first code confirmed it). `totp_last_step`: the time step of the last code accepted,
    # so that a code works once (RFC 6238 section 5.2).
    totp_secret: bytes | None = Field(default=None, sa_type=LargeBinary)
    totp_enabled_at: datetime | None = timestamp(nullable=True, default_now=False)
    totp_last_step: int | None = None
    # A hub operator (the alliance running the hub): above organisations, not a member of
    # one by this flag (accounts.operators). Given by `skillshub user create --role operator`.
    is_operator: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    created_at: datetime = timestamp()
    last_sign_in_at: datetime | None = timestamp(nullable=True, default_now=False)


class Membership(SQLModel, table=True):
    """A user's role in one organisation (see accounts.roles.Role)."""

    __tablename__ = "membership"
    __table_args__ = (
        UniqueConstraint("user_id", "organisation_id"),
        CheckConstraint("role IN ('owner', 'issuer', 'viewer')", name="ck_membership_role"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="console_user.id", ondelete="CASCADE", index=True)
    organisation_id: int = Field(foreign_key="organisation.id", ondelete="CASCADE", index=True)
    role: str = Field(max_length=10)
    created_at: datetime = timestamp()


class ConsoleSession(SQLModel, table=True):
    """A signed-in browser. The cookie holds a random token; only its SHA-256 is stored, so a
    copy of the database signs nobody in. Ended by sign-out, revocation or expiry."""

    __tablename__ = "console_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, description="hex SHA-256 of the token")
    user_id: int = Field(foreign_key="console_user.id", ondelete="CASCADE", index=True)
    created_at: datetime = timestamp()
    last_seen_at: datetime = timestamp()
    expires_at: datetime = timestamp(default_now=False)
    revoked_at: datetime | None = timestamp(nullable=True, default_now=False)
    user_agent: str | None = Field(default=None, max_length=300)
    address: str | None = Field(default=None, max_length=64)


class PasswordToken(SQLModel, table=True):
    """A one-time link to set a password: only its SHA-256 is stored; spent once, expires.

    purpose "set" (a new user's first password) or "reset" (a password reset by e-mail)."""

    __tablename__ = "password_token"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="console_user.id", ondelete="CASCADE", index=True)
    purpose: str = Field(max_length=10)
    created_at: datetime = timestamp()
    expires_at: datetime = timestamp(default_now=False)
    used_at: datetime | None = timestamp(nullable=True, default_now=False)


class AuditEvent(SQLModel, table=True):
    """One state change: who (`actor_kind` user | token | cli | system, `actor_label`), what
    (`action` such as "credential.revoke", on `subject_type`/`subject_id`), from where
    (`address` for HTTP, `command` for the CLI) and when. Written in the transaction of the
    change itself (accounts.audit.record), so the log never shows what did not happen."""

    __tablename__ = "audit_event"
    # The log is read per organisation, newest first, a page at a time (keyset on
    # (created_at, id)): this index answers every page without sorting.
    __table_args__ = (
        Index("ix_audit_event_org_created_id", "organisation_id", "created_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int | None = Field(
        default=None, foreign_key="organisation.id", ondelete="CASCADE"
    )
    actor_kind: str = Field(max_length=10)
    actor_label: str = Field(max_length=320)
    actor_user_id: int | None = Field(
        default=None, foreign_key="console_user.id", ondelete="SET NULL", index=True
    )
    action: str = Field(max_length=60)
    subject_type: str | None = Field(default=None, max_length=40)
    subject_id: str | None = Field(default=None, max_length=100)
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    address: str | None = Field(default=None, max_length=64)
    command: str | None = Field(default=None, max_length=300)
    created_at: datetime = timestamp()


class SignInChallenge(SQLModel, table=True):
    """The step between a correct password and the second factor: the browser holds a random
    token (cookie), the table its SHA-256. Spent once (by the right code), short-lived."""

    __tablename__ = "sign_in_challenge"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="console_user.id", ondelete="CASCADE", index=True)
    created_at: datetime = timestamp()
    expires_at: datetime = timestamp(default_now=False)
    used_at: datetime | None = timestamp(nullable=True, default_now=False)


class Invitation(SQLModel, table=True):
    """An invitation to join an organisation with a role, e-mailed as a one-time link that
    creates the account (or adds the role to an existing one). Only the link's SHA-256 is
    stored; spent once, expires, and an owner can cancel it."""

    __tablename__ = "invitation"
    __table_args__ = (
        CheckConstraint("role IN ('owner', 'issuer', 'viewer')", name="ck_invitation_role"),
    )

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    organisation_id: int = Field(foreign_key="organisation.id", ondelete="CASCADE", index=True)
    email: str = Field(max_length=320)
    role: str = Field(max_length=10)
    invited_by_user_id: int | None = Field(
        default=None, foreign_key="console_user.id", ondelete="SET NULL"
    )
    created_at: datetime = timestamp()
    expires_at: datetime = timestamp(default_now=False)
    used_at: datetime | None = timestamp(nullable=True, default_now=False)
    cancelled_at: datetime | None = timestamp(nullable=True, default_now=False)
