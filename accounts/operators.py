"""Hub operators: the alliance running the hub, above organisations (issue 20).

An operator manages the organisations, the shared skills and job roles and the review queue;
the flag is on the user (`User.is_operator`), not a membership, so an operator needs no
organisation (and a provider's owner is no operator). Every service that acts as an operator
calls `require_operator` first and records the audit event in the same transaction.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from accounts import audit
from accounts.audit import Actor
from accounts.models import User
from catalogue import organisations
from catalogue.errors import Forbidden
from catalogue.models import Organisation


class OperatorRequired(Forbidden):
    """The action is the hub operators' (organisations, shared skills, job roles, reviews)."""

    code = "operator_required"


def is_operator(user: User | None) -> bool:
    return bool(user is not None and user.is_operator)


def require_operator(user: User) -> None:
    if not is_operator(user):
        raise OperatorRequired(
            "This is for the hub's operators (the alliance running the hub); "
            "ask one of them if you need it."
        )


def make_operator(session: Session, user: User, *, actor: Actor, command: str | None) -> bool:
    """Give the user the operator role; False when they had it already (nothing recorded)."""
    if user.is_operator:
        return False
    user.is_operator = True
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="operator.add",
        subject_type="user",
        subject_id=user.id,
        command=command,
    )
    return True


def operators(session: Session) -> list[User]:
    return list(
        session.exec(select(User).where(col(User.is_operator).is_(True)).order_by(col(User.email)))
    )


def organisations_list(session: Session, user: User) -> list[Organisation]:
    require_operator(user)
    return list(session.exec(select(Organisation).order_by(col(Organisation.legal_name))))


def create_organisation_as(
    session: Session,
    user: User,
    fields: dict[str, Any],
    *,
    address: str | None,
) -> Organisation:
    """A new provider organisation, created by an operator in the console (audited)."""
    require_operator(user)
    org = organisations.create_organisation(
        session,
        legal_name=str(fields.get("legal_name") or ""),
        country=str(fields.get("country") or ""),
        slug=(str(fields.get("slug") or "").strip() or None),
        homepage=(str(fields.get("homepage") or "").strip() or None),
        email=(str(fields.get("email") or "").strip() or None),
    )
    audit.record(
        session,
        actor=Actor.for_user(user),
        action="organisation.create",
        organisation=org,
        subject_type="organisation",
        subject_id=org.slug,
        details={"legal_name": org.legal_name, "country": org.country},
        address=address,
    )
    return org


__all__ = [
    "OperatorRequired",
    "create_organisation_as",
    "is_operator",
    "make_operator",
    "operators",
    "organisations_list",
    "require_operator",
]
