"""An organisation's members: the list, invitations by e-mail, role changes and removal.

Invariant: an organisation always keeps at least one owner (someone must be able to manage
members, tokens and keys). Every change of a membership locks the organisation's row first
(`SELECT … FOR UPDATE` on PostgreSQL; on SQLite a writer holds the database's write lock from
its first statement, see skillshub.sqlite_locking), then reads the roles afresh: two owners
demoting each other at the same moment are served one after the other, and the second is
refused. The acting owner's own role is checked again under the lock, so an owner demoted a
moment ago cannot act on what they no longer own.

Invitations are one-time links (random, SHA-256 stored, expiring) bound to an e-mail address
and a role: redeemed, they create the account (with the password chosen there) or, for an
address that has an account, add the role to it once its owner is signed in.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from accounts import audit
from accounts.audit import Actor
from accounts.models import Invitation, Membership, User
from accounts.passwords import check_new_password
from accounts.roles import Role
from accounts.sessions import hash_token
from accounts.users import add_member, create_user, find_user, normalize_email, require_role
from catalogue.base import pk
from catalogue.errors import Conflict, Forbidden, InvalidInput, NotFound
from catalogue.models import Organisation

INVITE_PATH = "/console/invite"
DEFAULT_INVITE_TTL = timedelta(hours=72)
_MAX_TOKEN_LENGTH = 100


class LastOwner(Conflict):
    code = "last_owner"


class InvitationInvalid(NotFound):
    code = "invitation_invalid"


class InvitationForSomeoneElse(Forbidden):
    code = "invitation_for_someone_else"


@dataclass(frozen=True)
class Member:
    user: User
    role: Role
    since: datetime

    @property
    def second_factor(self) -> bool:
        return self.user.totp_enabled_at is not None


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def _field(message: str, field: str) -> InvalidInput:
    return InvalidInput(message, details={"field": field})


# --- reading --------------------------------------------------------------------------------


def list_members(session: Session, user: User, organisation: Organisation) -> list[Member]:
    """The members, owners first, then by e-mail address (any member may read it)."""
    require_role(session, user, organisation, Role.viewer)
    rows = session.exec(
        select(User, Membership)
        .join(Membership, col(Membership.user_id) == col(User.id))
        .where(Membership.organisation_id == pk(organisation))
        .order_by(col(User.email))
    ).all()
    members = [Member(u, Role(m.role), m.created_at) for u, m in rows]
    return sorted(members, key=lambda m: -m.role.rank)


def open_invitations(
    session: Session, user: User, organisation: Organisation, *, now: datetime | None = None
) -> list[Invitation]:
    require_role(session, user, organisation, Role.owner)
    return list(
        session.exec(
            select(Invitation)
            .where(
                Invitation.organisation_id == pk(organisation),
                col(Invitation.used_at).is_(None),
                col(Invitation.cancelled_at).is_(None),
                Invitation.expires_at > _now(now),
            )
            .order_by(col(Invitation.created_at).desc())
        ).all()
    )


# --- the owner invariant ----------------------------------------------------------------------


def _lock(session: Session, organisation: Organisation) -> None:
    """Serialise membership changes of one organisation (see the module docstring)."""
    session.exec(
        select(Organisation.id).where(Organisation.id == pk(organisation)).with_for_update()
    ).one()


def _fresh_membership(session: Session, user_id: int, organisation_id: int) -> Membership | None:
    # populate_existing: re-read under the lock, not the copy loaded before it was taken.
    return session.exec(
        select(Membership)
        .where(Membership.user_id == user_id, Membership.organisation_id == organisation_id)
        .execution_options(populate_existing=True)
    ).first()


def _owners(session: Session, organisation_id: int) -> int:
    return session.exec(
        select(func.count())
        .select_from(Membership)
        .where(Membership.organisation_id == organisation_id, Membership.role == Role.owner.value)
    ).one()


def _locked_target(
    session: Session, user: User, organisation: Organisation, member_id: int
) -> Membership:
    """Lock, check the acting user is (still) an owner, and find the member's row."""
    _lock(session, organisation)
    mine = _fresh_membership(session, pk(user), pk(organisation))
    if mine is None or Role(mine.role) < Role.owner:
        require_role(session, user, organisation, Role.owner)  # raises, with the usual words
    target = _fresh_membership(session, member_id, pk(organisation))
    if target is None:
        raise NotFound("This person is not a member of the organisation.")
    return target


def _keep_an_owner(session: Session, organisation: Organisation, target: Membership) -> None:
    if target.role == Role.owner.value and _owners(session, pk(organisation)) <= 1:
        raise LastOwner(
            f"{organisation.legal_name} needs at least one owner: make someone else an owner first."
        )


def change_role(
    session: Session,
    user: User,
    organisation: Organisation,
    member_id: int,
    role: Role | str,
    *,
    actor: Actor,
    address: str | None = None,
) -> Membership:
    """Give a member another role (owners only); the last owner cannot step down."""
    try:
        new_role = Role(role)
    except ValueError:
        raise _field("Choose owner, issuer or viewer.", "role") from None
    target = _locked_target(session, user, organisation, member_id)
    old_role = Role(target.role)
    if old_role == new_role:
        return target
    if new_role < Role.owner:
        _keep_an_owner(session, organisation, target)
    target.role = new_role.value
    session.add(target)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="member.role_change",
        organisation=organisation,
        subject_type="user",
        subject_id=member_id,
        details={"from": old_role.value, "to": new_role.value},
        address=address,
    )
    return target


def remove_member(
    session: Session,
    user: User,
    organisation: Organisation,
    member_id: int,
    *,
    actor: Actor,
    address: str | None = None,
) -> None:
    """End a member's role in the organisation (owners only; an owner may leave too), unless
    they are its last owner. Their account stays (it may belong to other organisations)."""
    target = _locked_target(session, user, organisation, member_id)
    _keep_an_owner(session, organisation, target)
    role = target.role
    session.delete(target)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="member.remove",
        organisation=organisation,
        subject_type="user",
        subject_id=member_id,
        details={"role": role},
        address=address,
    )


def member(session: Session, user: User, organisation: Organisation, member_id: int) -> Member:
    """One member (for the removal's confirmation page)."""
    for found in list_members(session, user, organisation):
        if found.user.id == member_id:
            return found
    raise NotFound("This person is not a member of the organisation.")


# --- invitations ------------------------------------------------------------------------------


def invite_url(base_url: str, token: str) -> str:
    return f"{base_url}{INVITE_PATH}?token={quote(token)}"


def invite(
    session: Session,
    user: User,
    organisation: Organisation,
    email: str,
    role: Role | str,
    *,
    actor: Actor,
    address: str | None = None,
    ttl: timedelta = DEFAULT_INVITE_TTL,
    now: datetime | None = None,
) -> tuple[Invitation, str]:
    """A new invitation (owners only): (the row, its token in clear, once). A new invitation
    for the same address replaces an open one."""
    require_role(session, user, organisation, Role.owner)
    try:
        address_to = normalize_email(email)
    except InvalidInput as exc:
        raise _field(exc.message, "email") from None
    try:
        new_role = Role(role)
    except ValueError:
        raise _field("Choose owner, issuer or viewer.", "role") from None
    existing = find_user(session, address_to)
    if existing is not None and _fresh_membership(session, pk(existing), pk(organisation)):
        raise Conflict(
            f"{address_to} is a member already. Change their role in the list instead.",
            details={"field": "email"},
        )
    now = _now(now)
    session.execute(
        update(Invitation)
        .where(
            col(Invitation.organisation_id) == pk(organisation),
            col(Invitation.email) == address_to,
            col(Invitation.used_at).is_(None),
            col(Invitation.cancelled_at).is_(None),
        )
        .values(cancelled_at=now)
    )
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        token_hash=hash_token(token),
        organisation_id=pk(organisation),
        email=address_to,
        role=new_role.value,
        invited_by_user_id=pk(user),
        created_at=now,
        expires_at=now + ttl,
    )
    session.add(invitation)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="member.invite",
        organisation=organisation,
        subject_type="invitation",
        subject_id=invitation.id,
        details={"email": address_to, "role": new_role.value},
        address=address,
    )
    return invitation, token


def cancel_invitation(
    session: Session,
    user: User,
    organisation: Organisation,
    invitation_id: int,
    *,
    actor: Actor,
    address: str | None = None,
    now: datetime | None = None,
) -> Invitation:
    require_role(session, user, organisation, Role.owner)
    invitation = session.get(Invitation, invitation_id)
    if invitation is None or invitation.organisation_id != pk(organisation):
        raise NotFound("There is no such invitation.")
    if invitation.used_at is None and invitation.cancelled_at is None:
        invitation.cancelled_at = _now(now)
        session.add(invitation)
        session.flush()
        audit.record(
            session,
            actor=actor,
            action="member.invite_cancel",
            organisation=organisation,
            subject_type="invitation",
            subject_id=invitation_id,
            details={"email": invitation.email},
            address=address,
        )
    return invitation


@dataclass(frozen=True)
class OpenInvitation:
    invitation: Invitation
    organisation: Organisation
    account: User | None  # the existing account of the address, if any

    @property
    def role(self) -> Role:
        return Role(self.invitation.role)


def check_invitation(
    session: Session, token: str | None, *, now: datetime | None = None
) -> OpenInvitation:
    """The invitation a link opens; InvitationInvalid (saying why) otherwise."""
    row = None
    if token and len(token) <= _MAX_TOKEN_LENGTH:
        row = session.exec(
            select(Invitation).where(Invitation.token_hash == hash_token(token))
        ).first()
    organisation = session.get(Organisation, row.organisation_id) if row else None
    ask = "Ask an owner of the organisation for a new invitation."
    if row is None or organisation is None:
        raise InvitationInvalid(f"This invitation link is not valid. {ask}")
    if row.used_at is not None:
        raise InvitationInvalid(
            f"This invitation was accepted already: sign in with your password. {ask}"
        )
    if row.cancelled_at is not None:
        raise InvitationInvalid(f"This invitation was withdrawn or replaced by a newer one. {ask}")
    if row.expires_at <= _now(now):
        raise InvitationInvalid(f"This invitation has expired. {ask}")
    return OpenInvitation(row, organisation, find_user(session, row.email))


def _spend(session: Session, invitation: Invitation, now: datetime) -> None:
    spent = session.execute(
        update(Invitation)
        .where(
            col(Invitation.id) == pk(invitation),
            col(Invitation.used_at).is_(None),
            col(Invitation.cancelled_at).is_(None),
            col(Invitation.expires_at) > now,
        )
        .values(used_at=now)
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        raise InvitationInvalid("This invitation was accepted already.")


def accept_invitation(
    session: Session,
    token: str | None,
    *,
    signed_in: User | None = None,
    password: str | None = None,
    name: str | None = None,
    address: str | None = None,
    now: datetime | None = None,
) -> User:
    """Redeem an invitation: the address's account gets the role (it must be the one signed
    in), or a new account is made with `password`. Returns the member."""
    now = _now(now)
    opened = check_invitation(session, token, now=now)
    invitation, organisation = opened.invitation, opened.organisation
    if opened.account is not None:
        if signed_in is None or signed_in.id != opened.account.id:
            raise InvitationForSomeoneElse(
                "This invitation is for another account: sign in as "
                f"{audit.mask_email(invitation.email)} to accept it."
            )
        user = opened.account
    else:
        check_new_password(password or "")
        user = create_user(session, invitation.email, password=password, name=name or None)
    _spend(session, invitation, now)
    _lock(session, organisation)  # joins count towards the owners the invariant reads
    if _fresh_membership(session, pk(user), pk(organisation)) is not None:
        raise Conflict(f"You are a member of {organisation.legal_name} already.")
    add_member(session, user, organisation, Role(invitation.role))
    audit.record(
        session,
        actor=Actor.for_user(user),
        action="member.join",
        organisation=organisation,
        subject_type="user",
        subject_id=user.id,
        details={"role": invitation.role, "new_account": opened.account is None},
        address=address,
        now=now,
    )
    return user
