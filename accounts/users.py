"""Staff users and memberships: creating them, signing in with a password, role checks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from email_validator import EmailNotValidError, validate_email
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from accounts.models import Membership, User
from accounts.passwords import hash_password, needs_rehash, rehash, verify_password
from accounts.roles import NotAMember, Role, RoleTooLow
from catalogue.base import pk
from catalogue.errors import Conflict, InvalidInput, NotFound, Unauthorized
from catalogue.models import Organisation

SIGN_IN_FAILED = "E-mail or password is wrong"


class SignInFailed(Unauthorized):
    """The one answer to a wrong password, an unknown address or a user without a password."""

    code = "sign_in_failed"


def normalize_email(email: str) -> str:
    """The stored form: checked syntax, lower-case (one user per address whatever its case)."""
    try:
        checked = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidInput(f"This is not an e-mail address: {exc}") from None
    return checked.normalized.lower()


def find_user(session: Session, email: str) -> User | None:
    try:
        address = normalize_email(email)
    except InvalidInput:
        return None
    return session.exec(select(User).where(User.email == address)).first()


def create_user(
    session: Session, email: str, *, password: str | None = None, name: str | None = None
) -> User:
    """A new user; without a password until one is set (`accounts.password_links`)."""
    address = normalize_email(email)
    if session.exec(select(User).where(User.email == address)).first() is not None:
        raise Conflict("A user with this e-mail address exists already.")
    user = User(
        email=address,
        name=name.strip() if name else None,
        password_hash=hash_password(password) if password is not None else None,
    )
    session.add(user)
    try:
        with session.begin_nested():  # a concurrent insert of the same address loses here
            session.flush()
    except IntegrityError:
        raise Conflict("A user with this e-mail address exists already.") from None
    return user


def set_password(session: Session, user: User, password: str) -> None:
    user.password_hash = hash_password(password)
    session.add(user)
    session.flush()


def add_member(session: Session, user: User, organisation: Organisation, role: Role) -> Membership:
    """Give `user` a role in `organisation`; Conflict when it has one there already."""
    role = Role(role)
    existing = _membership(session, pk(user), pk(organisation))
    if existing is not None:
        raise Conflict(
            f"This user is already a member of {organisation.slug} (as {existing.role})."
        )
    membership = Membership(user_id=pk(user), organisation_id=pk(organisation), role=role.value)
    session.add(membership)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict(f"This user is already a member of {organisation.slug}.") from None
    return membership


def _membership(session: Session, user_id: int, organisation_id: int) -> Membership | None:
    return session.exec(
        select(Membership).where(
            Membership.user_id == user_id, Membership.organisation_id == organisation_id
        )
    ).first()


def role_in(session: Session, user: User, organisation: Organisation) -> Role | None:
    """The user's role in the organisation, None when not a member."""
    found = _membership(session, pk(user), pk(organisation))
    return Role(found.role) if found is not None else None


def require_role(session: Session, user: User, organisation: Organisation, needed: Role) -> Role:
    """The user's role when it is `needed` or higher; NotAMember / RoleTooLow otherwise.

    Every console service that reads or changes an organisation's data calls this first:
    routes check too, but the service is what must never act for the wrong person."""
    role = role_in(session, user, organisation)
    if role is None:
        raise NotAMember("You are not a member of this organisation.")
    if role < needed:
        raise RoleTooLow(
            f"This needs the {needed} role in {organisation.legal_name}; yours is {role}. "
            "Ask an owner of the organisation if you need it."
        )
    return role


@dataclass(frozen=True)
class OrgRole:
    organisation: Organisation
    role: Role


def memberships(session: Session, user: User) -> list[OrgRole]:
    """The user's organisations with their role, by organisation name."""
    rows = session.exec(
        select(Organisation, Membership)
        .join(Membership, col(Membership.organisation_id) == col(Organisation.id))
        .where(Membership.user_id == pk(user))
        .order_by(col(Organisation.legal_name))
    ).all()
    return [OrgRole(org, Role(m.role)) for org, m in rows]


def organisation_by_slug(session: Session, slug: str) -> Organisation:
    org = session.exec(select(Organisation).where(Organisation.slug == slug)).first()
    if org is None:
        raise NotFound(f"There is no organisation {slug!r}.")
    return org


def check_password(session: Session, email: str, password: str) -> User:
    """The user with this e-mail and password, or SignInFailed: the same answer, after the same
    work, for an unknown address, a wrong password and a user with no password yet. Reads
    only, so the slow hash check holds no write lock (`record_sign_in` writes after it)."""
    user = find_user(session, email)
    stored = user.password_hash if user is not None else None
    if not verify_password(stored, password) or user is None or stored is None:
        raise SignInFailed(SIGN_IN_FAILED)
    return user


def record_sign_in(
    session: Session, user_id: int, password: str, *, now: datetime | None = None
) -> User:
    """Note the sign-in time of a user `check_password` accepted, and upgrade a hash made with
    older parameters (the caller's session writes)."""
    user = session.get(User, user_id)
    if user is None or user.password_hash is None:  # deleted or reset meanwhile
        raise SignInFailed(SIGN_IN_FAILED)
    if needs_rehash(user.password_hash):
        user.password_hash = rehash(password)
    user.last_sign_in_at = now or datetime.now(UTC)
    session.add(user)
    session.flush()
    return user


def authenticate(
    session: Session, email: str, password: str, *, now: datetime | None = None
) -> User:
    """`check_password`, then `record_sign_in`, in one (writer) session."""
    user = check_password(session, email, password)
    return record_sign_in(session, pk(user), password, now=now)
