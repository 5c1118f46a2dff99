"""The audit log: who changed what, when, from where. `record` adds the event to the caller's
session and never commits: the event is part of the change's own transaction, so a change that
fails leaves no event and an event never describes something that did not happen.

Details are for people reading the log: never a secret (keys that name one are refused, a
programming error) and never an e-mail address in clear (masked as "a…@example.org")."""

from __future__ import annotations

import getpass
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlmodel import Session, col, select

from accounts.models import AuditEvent, User
from accounts.users import memberships
from catalogue.base import pk
from catalogue.models import Organisation

_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")
_SECRET_KEY = re.compile(r"password|secret|token|private|api_key|otp", re.I)
MAX_COMMAND = 300


class ActorKind(StrEnum):
    user = "user"  # a staff member in the console
    token = "token"  # an API token (label: its prefix and name)
    cli = "cli"  # the `skillshub` command (label: the operating-system user)
    system = "system"  # the app itself (jobs, expiry)


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    label: str
    user_id: int | None = None

    @classmethod
    def for_user(cls, user: User) -> Actor:
        return cls(ActorKind.user, user.email, pk(user))

    @classmethod
    def for_token(cls, prefix: str, name: str) -> Actor:
        return cls(ActorKind.token, f"API token {prefix}… ({name})")

    @classmethod
    def cli(cls) -> Actor:
        try:
            who = getpass.getuser()
        except (KeyError, OSError):
            who = "unknown"
        return cls(ActorKind.cli, who)

    @classmethod
    def system(cls, label: str = "Skills Hub") -> Actor:
        return cls(ActorKind.system, label)


def mask_email(address: str) -> str:
    """ "ada@example.org" -> "a…@example.org": enough to tell people apart in a log."""
    return _EMAIL.sub(lambda m: f"{m.group(1)}…@{m.group(2)}", address)


def _clean(value: Any, where: str) -> Any:
    if isinstance(value, str):
        return mask_email(value)
    if isinstance(value, dict):
        for key in value:
            if _SECRET_KEY.search(str(key)):
                raise ValueError(f"audit details must not hold secrets: {where}{key}")
        return {str(k): _clean(v, f"{where}{k}.") for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v, where) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return mask_email(str(value))


def command_line(argv: Sequence[str]) -> str:
    """How a CLI event names its command: the arguments, e-mail addresses masked."""
    return mask_email(shlex.join(["skillshub", *argv]))[:MAX_COMMAND]


def record(
    session: Session,
    *,
    actor: Actor,
    action: str,
    organisation: Organisation | int | None = None,
    subject_type: str | None = None,
    subject_id: str | int | None = None,
    details: dict[str, Any] | None = None,
    address: str | None = None,
    command: str | None = None,
    now: datetime | None = None,
) -> AuditEvent:
    """Add one event to the caller's transaction (flushed, not committed)."""
    org_id = pk(organisation) if isinstance(organisation, Organisation) else organisation
    event = AuditEvent(
        organisation_id=org_id,
        actor_kind=actor.kind.value,
        actor_label=actor.label[:320],
        actor_user_id=actor.user_id,
        action=action,
        subject_type=subject_type,
        subject_id=str(subject_id) if subject_id is not None else None,
        details=_clean(details or {}, ""),
        address=address[:64] if address else None,
        command=command[:MAX_COMMAND] if command else None,
        created_at=now or datetime.now(UTC),
    )
    session.add(event)
    session.flush()
    return event


def record_for_user(
    session: Session, user: User, *, action: str, **fields: Any
) -> list[AuditEvent]:
    """An event about the user themself (sign-in, sign-out, password, sessions), written to
    the log of each of their organisations, so that every organisation's log (one query by
    organisation) shows its members' sign-ins; one event without organisation if they have
    none yet."""
    orgs: list[Organisation | None] = [m.organisation for m in memberships(session, user)]
    return [
        record(session, actor=Actor.for_user(user), action=action, organisation=org, **fields)
        for org in orgs or [None]
    ]


def recent(session: Session, organisation_id: int, *, limit: int = 10) -> list[AuditEvent]:
    """The organisation's latest events, newest first."""
    return list(
        session.exec(
            select(AuditEvent)
            .where(AuditEvent.organisation_id == organisation_id)
            .order_by(col(AuditEvent.created_at).desc(), col(AuditEvent.id).desc())
            .limit(limit)
        ).all()
    )
