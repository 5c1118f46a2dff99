"""accounts services on both databases: Argon2id hashing, sign-in that never tells whether an
address exists, roles enforced in the service, sessions, one-time password links, the audit
log written in the change's own transaction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from accounts import audit, password_links, passwords, sessions, users
from accounts.audit import Actor
from accounts.models import AuditEvent, User
from accounts.roles import NotAMember, Role, RoleTooLow
from accounts.sessions import SignInRequired
from accounts.users import SignInFailed
from catalogue.base import pk
from catalogue.errors import Conflict, Forbidden, InvalidInput, NotFound
from catalogue.organisations import create_organisation
from skillshub.db import session_scope
from tests.support.console import PASSWORD, add_user
from tests.support.present import one, present
from tests.support.world import World, make_world


@pytest.fixture
def world(session: Session, master_key: str) -> World:
    return make_world(session, master_key)


@pytest.mark.usefixtures("production_password_hashing")
def test_passwords_are_argon2id_with_rfc_9106_parameters() -> None:
    stored = passwords.hash_password(PASSWORD)
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert passwords.verify_password(stored, PASSWORD)
    assert not passwords.verify_password(stored, PASSWORD + "!")
    assert not passwords.verify_password(None, PASSWORD)  # no hash: the same work, and no
    assert not passwords.verify_password("not a hash", PASSWORD)
    assert passwords.hash_password(PASSWORD) != stored  # salted
    for weak in ("", "short", "x" * (passwords.MIN_LENGTH - 1), "x" * 1025):
        with pytest.raises(passwords.WeakPassword):
            passwords.hash_password(weak)


@pytest.mark.usefixtures("production_password_hashing")
def test_a_hash_with_older_parameters_is_upgraded_at_sign_in(
    session: Session, world: World
) -> None:
    user = add_user(session, world.org, Role.viewer)
    user.password_hash = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    session.add(user)
    session.commit()
    assert passwords.needs_rehash(user.password_hash)
    signed_in = users.authenticate(session, user.email.upper(), PASSWORD)
    session.commit()
    assert signed_in.id == user.id and signed_in.last_sign_in_at is not None
    assert present(signed_in.password_hash).startswith("$argon2id$v=19$m=65536,t=3,p=4$")


def test_emails_are_unique_whatever_their_case(session: Session, world: World) -> None:
    user = users.create_user(session, "  Ada.Lovelace@Example.ORG ")
    session.commit()
    assert user.email == "ada.lovelace@example.org" and user.password_hash is None
    with pytest.raises(Conflict):
        users.create_user(session, "ADA.LOVELACE@example.org")
    with pytest.raises(InvalidInput):
        users.create_user(session, "not an address")
    session.rollback()
    assert session.exec(select(func.count()).select_from(User)).one() == 1


def test_sign_in_never_tells_whether_an_address_exists(
    session: Session, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    known = add_user(session, world.org, Role.issuer, email="ada@example.org")
    pending = add_user(session, world.org, Role.issuer, password=None)
    assert users.authenticate(session, "ADA@example.org", PASSWORD).id == known.id

    checked: list[str | None] = []
    real = users.verify_password

    def counting(stored: str | None, password: str) -> bool:
        checked.append(stored)
        return real(stored, password)

    monkeypatch.setattr(users, "verify_password", counting)
    answers = []
    for email, password in [
        ("ada@example.org", "wrong password!!"),
        ("nobody@example.org", PASSWORD),
        ("not an address", PASSWORD),
        (pending.email, PASSWORD),
        (pending.email, ""),
    ]:
        with pytest.raises(SignInFailed) as failed:
            users.authenticate(session, email, password)
        answers.append((failed.value.code, failed.value.message))
    assert set(answers) == {("sign_in_failed", "E-mail or password is wrong")}
    assert len(checked) == 5  # a hash was checked every time, known address or not


def test_roles_are_ordered_and_compare_only_with_roles() -> None:
    assert Role.owner > Role.issuer > Role.viewer
    assert Role.issuer >= Role.issuer and Role.viewer <= Role.owner
    assert sorted([Role.owner, Role.viewer, Role.issuer]) == [Role.viewer, Role.issuer, Role.owner]
    with pytest.raises(TypeError):
        assert Role.viewer < "owner"


def test_roles_are_enforced_in_the_service(session: Session, world: World) -> None:
    other = create_organisation(session, legal_name="Other GmbH", country="DE", slug="other")
    viewer = add_user(session, world.org, Role.viewer, password=None)
    issuer = add_user(session, world.org, Role.issuer, password=None)
    owner = add_user(session, world.org, Role.owner, password=None)

    with pytest.raises(RoleTooLow) as refused:
        users.require_role(session, viewer, world.org, Role.issuer)
    assert isinstance(refused.value, Forbidden)
    assert "issuer role" in refused.value.message and "yours is viewer" in refused.value.message
    assert users.require_role(session, viewer, world.org, Role.viewer) is Role.viewer
    assert users.require_role(session, issuer, world.org, Role.issuer) is Role.issuer
    with pytest.raises(RoleTooLow):
        users.require_role(session, issuer, world.org, Role.owner)
    assert users.require_role(session, owner, world.org, Role.issuer) is Role.owner
    with pytest.raises(NotAMember):
        users.require_role(session, owner, other, Role.viewer)

    with pytest.raises(Conflict):
        users.add_member(session, owner, world.org, Role.viewer)
    session.rollback()
    users.add_member(session, owner, other, Role.viewer)
    session.commit()
    assert [(m.organisation.slug, m.role) for m in users.memberships(session, owner)] == [
        ("other", Role.viewer),
        (world.org.slug, Role.owner),
    ]


def test_sessions_end_by_sign_out_revocation_and_expiry(session: Session, world: World) -> None:
    user = add_user(session, world.org, Role.viewer, password=None)
    stranger = add_user(session, world.org, Role.viewer, password=None)
    now = datetime.now(UTC)
    first, row = sessions.start_session(session, user, user_agent="Firefox", address="192.0.2.1")
    second, _ = sessions.start_session(session, user, ttl=timedelta(hours=1))
    third, third_row = sessions.start_session(session, user)
    session.commit()
    assert row.token_hash != first and len(row.token_hash) == 64  # only the hash is stored
    assert sessions.session_for_token(session, first)[1].id == user.id
    assert len(sessions.list_sessions(session, user)) == 3

    with pytest.raises(SignInRequired):  # past its expiry
        sessions.session_for_token(session, second, now=now + timedelta(hours=2))
    sessions.end_session(session, first)
    with pytest.raises(NotFound):  # another user's session does not exist for this one
        sessions.revoke_session(session, stranger, pk(third_row))
    sessions.revoke_session(session, user, pk(third_row))
    session.commit()
    for token in (first, third, "", None, "x" * 500, "made-up"):
        with pytest.raises(SignInRequired):
            sessions.session_for_token(session, token)
    assert [s.expires_at > now for s in sessions.list_sessions(session, user)] == [True]
    assert sessions.revoke_all_sessions(session, user) == 1


def test_a_password_link_works_once_and_expires(session: Session, world: World) -> None:
    user = add_user(session, world.org, Role.issuer, password=None)
    now = datetime.now(UTC)
    old = password_links.issue_link(session, user, now=now)
    token = password_links.issue_link(session, user, now=now)  # the newer one replaces it
    session.commit()
    with pytest.raises(password_links.PasswordLinkInvalid, match="expired"):
        password_links.check_link(session, old)
    assert password_links.check_link(session, token).id == user.id
    with pytest.raises(password_links.PasswordLinkInvalid, match="expired"):
        password_links.check_link(session, token, now=now + timedelta(hours=73))

    with pytest.raises(passwords.WeakPassword):  # a weak password spends nothing
        password_links.redeem_link(session, token, "short")
    password_links.redeem_link(session, token, PASSWORD)
    session.commit()
    assert users.authenticate(session, user.email, PASSWORD).id == user.id
    with pytest.raises(password_links.PasswordLinkInvalid, match="used already"):
        password_links.redeem_link(session, token, "another good password")
    with pytest.raises(password_links.PasswordLinkInvalid, match="not valid"):
        password_links.check_link(session, "made-up")
    assert password_links.link_url("https://hub.example", token) == (
        f"https://hub.example/console/set-password?token={token}"
    )


def _events(engine: Engine) -> list[AuditEvent]:
    with Session(engine) as fresh:
        return list(fresh.exec(select(AuditEvent)).all())


def test_audit_events_share_the_transaction_of_their_change(
    engine: Engine, session: Session, world: World
) -> None:
    user = add_user(session, world.org, Role.owner, password=None)
    org_id, user_id = world.org.id, user.id
    with pytest.raises(Conflict), session_scope(engine) as db:
        member = one(db, User, user_id)
        audit.record(
            db,
            actor=Actor.cli(),
            action="member.add",
            organisation=org_id,
            subject_type="user",
            subject_id=user_id,
            details={"role": "viewer"},
        )
        users.add_member(db, member, users.organisation_by_slug(db, world.org.slug), Role.viewer)
    assert _events(engine) == []  # the change failed: no event either
    with session_scope(engine) as db:
        audit.record(
            db,
            actor=Actor.for_user(one(db, User, user_id)),
            action="credential.revoke",
            organisation=org_id,
            subject_type="credential",
            subject_id="urn:uuid:1",
            details={"recipient": "Ada <ada.lovelace@example.org>", "rows": [{"to": "b@x.io"}]},
            address="192.0.2.1",
        )
    [event] = _events(engine)
    assert event.actor_kind == "user" and event.actor_user_id == user_id
    assert event.details == {"recipient": "Ada <a…@example.org>", "rows": [{"to": "b…@x.io"}]}
    with pytest.raises(ValueError, match="secrets"):
        audit.record(session, actor=Actor.system(), action="x", details={"password": "p"})
    assert audit.command_line(["user", "create", "--email", "ada@example.org"]) == (
        "skillshub user create --email a…@example.org"
    )
