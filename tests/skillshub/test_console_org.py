"""The organisation pages through real HTTP on both databases: members and invitations (the
mail read from the outbox), roles and the last-owner rule (also under parallel requests),
API tokens, issuer identity and key rotation, e-seal import; every route refuses a lower
role, and every form a forged post."""

from __future__ import annotations

import email
import email.policy
import logging
import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from functools import partial
from html import unescape
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from accounts import api_tokens, audit_log, identity, members
from accounts.audit import Actor
from accounts.models import AuditEvent, Invitation, Membership
from accounts.roles import NotAMember, Role, RoleTooLow
from badges.models import Issuer
from catalogue.base import pk
from keys import eseal
from keys.eseal_models import SealCertificate
from keys.models import ApiToken, IssuerKey
from keys.sealing import MasterKey
from skillshub.settings import Settings
from tests.skillshub.test_security_headers import _routes
from tests.support.console import HTML, PASSWORD, ConsoleLogin, add_user, post_form, sign_in
from tests.support.mail_language import after_greeting, until_words
from tests.support.present import one, present
from tests.support.world import World, make_world

P12_PASSWORD = "pkcs12 passphrase 9f3a"


@pytest.fixture
def world(session: Session, master_key: str) -> World:
    return make_world(session, master_key)


def _browser(client: TestClient) -> TestClient:
    return TestClient(client.app, headers=HTML)


def _events(engine: Engine, action: str | None = None) -> list[AuditEvent]:
    with Session(engine) as fresh:
        query = select(AuditEvent)
        if action:
            query = query.where(AuditEvent.action == action)
        return list(fresh.exec(query.order_by(col(AuditEvent.id))).all())


def _roles(engine: Engine, org_id: int | None) -> dict[int, str]:
    with Session(engine) as fresh:
        rows = fresh.exec(select(Membership).where(Membership.organisation_id == org_id)).all()
        return {r.user_id: r.role for r in rows}


def _outbox(settings: Settings) -> list[EmailMessage]:
    folder = settings.data_dir / "outbox"
    files = sorted(folder.glob("*.eml")) if folder.is_dir() else []
    return [email.message_from_bytes(f.read_bytes(), policy=email.policy.default) for f in files]


def _invite_link(message: EmailMessage) -> str:
    text = present(message.get_body(("plain",))).get_content()
    [link] = re.findall(r"http://testserver(/console/invite\?token=\S+)", text)
    return link


# --- every route refuses a lower role; every form a forged post -----------------------------

OWNER, VIEWER = Role.owner, Role.viewer
# (method, path, the lowest role that may use it). {slug}, {uid}, {iid}, {tid}, {issuer} are
# filled in by the test; a route of these pages missing here fails the coverage check.
ROUTES: list[tuple[str, str, Role]] = [
    ("GET", "/console/orgs/{slug}/organisation", VIEWER),
    ("POST", "/console/orgs/{slug}/organisation/members/invite", OWNER),
    ("POST", "/console/orgs/{slug}/organisation/invitations/{iid}/cancel", OWNER),
    ("POST", "/console/orgs/{slug}/organisation/members/{uid}/role", OWNER),
    ("GET", "/console/orgs/{slug}/organisation/members/{uid}/remove", OWNER),
    ("POST", "/console/orgs/{slug}/organisation/members/{uid}/remove", OWNER),
    ("GET", "/console/orgs/{slug}/organisation/tokens", OWNER),
    ("POST", "/console/orgs/{slug}/organisation/tokens", OWNER),
    ("GET", "/console/orgs/{slug}/organisation/tokens/{tid}/revoke", OWNER),
    ("POST", "/console/orgs/{slug}/organisation/tokens/{tid}/revoke", OWNER),
    ("GET", "/console/orgs/{slug}/organisation/identity", VIEWER),
    ("GET", "/console/orgs/{slug}/organisation/identity/{issuer}/rotate", OWNER),
    ("POST", "/console/orgs/{slug}/organisation/identity/{issuer}/rotate", OWNER),
    ("POST", "/console/orgs/{slug}/organisation/identity/{issuer}/sharing", OWNER),
    ("GET", "/console/orgs/{slug}/organisation/seal", VIEWER),
    ("POST", "/console/orgs/{slug}/organisation/seal", OWNER),
    ("GET", "/console/orgs/{slug}/audit", VIEWER),
    ("GET", "/console/orgs/{slug}/audit.csv", VIEWER),
]


def _route_templates(app: FastAPI) -> set[tuple[str, str]]:
    found = set()
    for prefix, route in _routes(app.routes):
        path = prefix + route.path
        if path.startswith("/console/orgs/{slug}/") and (
            "/organisation" in path or "/audit" in path
        ):
            found |= {(m, path) for m in (route.methods or ()) if m != "HEAD"}
    return found


def _fill(path: str, world: World, user_id: int, token_id: int, invitation_id: int) -> str:
    return (
        path.replace("{slug}", world.org.slug)
        .replace("{uid}", str(user_id))
        .replace("{tid}", str(token_id))
        .replace("{iid}", str(invitation_id))
        .replace("{issuer}", world.issuer.slug)
    )


def test_every_route_refuses_a_lower_role_and_changes_nothing(
    console_as: Callable[..., ConsoleLogin],
    world: World,
    session: Session,
    engine: Engine,
    master_key: str,
    client: TestClient,
) -> None:
    assert isinstance(client.app, FastAPI)
    listed = {(m, p.replace("{uid}", "{user_id}")) for m, p, _ in ROUTES}
    listed = {
        (m, p.replace("{iid}", "{invitation_id}").replace("{tid}", "{token_id}")) for m, p in listed
    }
    listed = {(m, p.replace("{issuer}", "{issuer_slug}")) for m, p in listed}
    assert _route_templates(client.app) == listed, "a route of these pages is missing above"

    owner = console_as(world.org, Role.owner)
    invitation, _ = members.invite(
        session, owner.user, world.org, "new@example.org", Role.viewer, actor=Actor.system()
    )
    token_id = pk(present(session.exec(select(ApiToken)).first()))
    session.commit()
    other = make_world(session, master_key, slug="elsewhere")
    outsider = console_as(other.org, Role.owner)  # an owner, but of another organisation
    lower = {
        Role.owner: [console_as(world.org, Role.issuer), console_as(world.org, Role.viewer)],
        Role.viewer: [outsider],
    }
    before = len(_events(engine))
    for method, template, needed in ROUTES:
        path = _fill(template, world, pk(owner.user), token_id, pk(invitation))
        for login in lower[needed]:
            if method == "GET":
                answer = login.client.get(path, follow_redirects=False)
            else:
                answer = login.post(path, {"role": "viewer", "email": "x@example.org"})
            assert answer.status_code == 403, (method, path, login.role, answer.text[:200])
            expected = "needs the owner role" if login is not outsider else "not a member"
            assert expected in answer.text, (method, path)
    assert len(_events(engine)) == before  # a refused request writes nothing
    assert _roles(engine, world.org.id)[pk(owner.user)] == "owner"

    # Forged posts (no token, or from another site) are refused, even for the owner.
    for method, template, _ in ROUTES:
        if method != "POST":
            continue
        path = _fill(template, world, pk(owner.user), token_id, pk(invitation))
        assert owner.client.post(path, data={"role": "viewer"}).status_code == 403, path
        cross = owner.post(
            path, {"role": "viewer"}, headers={**HTML, "sec-fetch-site": "cross-site"}
        )
        assert cross.status_code == 403, path
    assert len(_events(engine)) == before


def test_the_services_check_the_role_too(session: Session, world: World, master_key: str) -> None:
    issuer = add_user(session, world.org, Role.issuer)
    stranger = add_user(session, make_world(session, master_key, slug="other").org, Role.owner)
    actor = Actor.for_user(issuer)
    mk = MasterKey(master_key)
    calls: list[Callable[[], object]] = [
        lambda: members.invite(session, issuer, world.org, "a@example.org", "viewer", actor=actor),
        lambda: members.change_role(session, issuer, world.org, pk(issuer), "owner", actor=actor),
        lambda: members.remove_member(session, issuer, world.org, pk(issuer), actor=actor),
        lambda: api_tokens.list_tokens(session, issuer, world.org),
        lambda: api_tokens.create_token(session, issuer, world.org, "x", None, actor=actor),
        lambda: identity.rotate_keys(
            session, mk, issuer, world.org, world.issuer.slug, actor=actor
        ),
        lambda: identity.set_sharing_default(
            session, issuer, world.org, world.issuer.slug, True, actor=actor
        ),
        lambda: identity.import_seal(session, mk, issuer, world.org, b"x", "pw", actor=actor),
    ]
    for call in calls:
        with pytest.raises(RoleTooLow):
            call()
    for call in [
        lambda: members.list_members(session, stranger, world.org),
        lambda: identity.identities(session, stranger, world.org),
        lambda: audit_log.page_for(session, stranger, world.org, audit_log.AuditFilter()),
    ]:
        with pytest.raises(NotAMember):
            call()


# --- members and invitations ----------------------------------------------------------------


def test_an_invitation_creates_the_account_with_its_role(
    console_as: Callable[..., ConsoleLogin],
    world: World,
    settings: Settings,
    engine: Engine,
    client: TestClient,
) -> None:
    owner = console_as(world.org, Role.owner)
    page = owner.client.get(f"/console/orgs/{world.org.slug}/organisation")
    assert (
        page.status_code == 200 and owner.user.email in page.text and "Invite a member" in page.text
    )
    base = f"/console/orgs/{world.org.slug}/organisation"
    bad = owner.post(f"{base}/members/invite", {"email": "not an address", "role": "issuer"})
    assert bad.status_code == 422 and 'id="email-error"' in bad.text
    assert 'value="not an address"' in bad.text  # what was typed is kept
    bad_role = owner.post(f"{base}/members/invite", {"email": "new@example.org", "role": "boss"})
    assert bad_role.status_code == 422 and 'id="role-error"' in bad_role.text
    member = owner.post(f"{base}/members/invite", {"email": owner.user.email, "role": "viewer"})
    assert member.status_code == 409 and "member already" in member.text
    assert _outbox(settings) == [] and _events(engine, "member.invite") == []

    sent = owner.post(f"{base}/members/invite", {"email": "New@Example.org", "role": "issuer"})
    assert sent.status_code == 303 and sent.headers["location"].endswith("notice=invited")
    [message] = _outbox(settings)
    assert message["To"] == "new@example.org" and world.org.legal_name in message["Subject"]
    link = _invite_link(message)
    assert "new@example.org as issuer" in owner.client.get(base).text  # open invitations
    [invited] = _events(engine, "member.invite")
    assert invited.actor_user_id == owner.user.id and invited.details["email"] == "n…@example.org"

    newcomer = _browser(client)
    form = newcomer.get(link)
    assert form.status_code == 200 and form.headers["referrer-policy"] == "no-referrer"
    assert "Create my account and join" in form.text and "as <strong>issuer</strong>" in form.text
    token = parse_qs(urlsplit(link).query)["token"][0]
    weak = post_form(
        newcomer,
        "/console/invite",
        {"token": token, "password": "short", "password_confirm": "short"},
    )
    assert weak.status_code == 422 and "at least 12" in weak.text
    joined = post_form(
        newcomer,
        "/console/invite",
        {"token": token, "name": "Nina", "password": PASSWORD, "password_confirm": PASSWORD},
    )
    assert joined.status_code == 303 and joined.headers["location"] == "/console?notice=joined"
    assert newcomer.get(f"/console/orgs/{world.org.slug}/organisation").status_code == 200
    assert "Nina" in owner.client.get(base).text
    assert sorted(_roles(engine, world.org.id).values()) == ["issuer", "owner"]
    [join] = _events(engine, "member.join")
    assert join.details == {"role": "issuer", "new_account": True}
    assert sign_in(_browser(client), "new@example.org").status_code == 303
    again = _browser(client).get(link)
    assert again.status_code == 404 and "accepted already" in again.text


@pytest.mark.parametrize(
    ("accept", "language", "subject", "invited", "ignore"),
    [
        (
            None,
            "en",
            "Join {org} on Skills Hub",
            "{inviter} invited you to the Skills Hub console of {org}, with the issuer role. "
            "Accept here; the link works once, until {until}:",
            "If you do not know why you got this, ignore it",
        ),
        (
            "de",
            "de",
            "Einladung zu {org} auf Skills Hub",
            "{inviter} hat Sie in die Skills-Hub-Konsole von {org} eingeladen, mit der Rolle "
            "„Aussteller“. Nehmen Sie die Einladung hier an; der Link gilt einmal, bis zum "
            "{until}:",
            "Wenn Sie nicht wissen, warum Sie diese E-Mail erhalten, ignorieren Sie sie",
        ),
    ],
    ids=["en", "de"],
)
def test_the_invitation_speaks_the_language_of_the_owners_page(
    console_as: Callable[..., ConsoleLogin],
    world: World,
    settings: Settings,
    engine: Engine,
    accept: str | None,
    language: str,
    subject: str,
    invited: str,
    ignore: str,
) -> None:
    owner = console_as(world.org, Role.owner)
    headers = HTML | ({"accept-language": accept} if accept else {})
    base = f"/console/orgs/{world.org.slug}/organisation"
    sent = owner.post(
        f"{base}/members/invite", {"email": "kim@example.org", "role": "issuer"}, headers=headers
    )
    assert sent.status_code == 303, sent.text
    [message] = _outbox(settings)
    org = world.org.legal_name
    assert message["Subject"] == subject.format(org=org)
    assert message["Content-Language"] == language
    with Session(engine) as fresh:
        [row] = fresh.exec(select(Invitation)).all()
    words = invited.format(
        inviter=owner.user.name or owner.user.email,
        org=org,
        until=until_words(row.expires_at, language),
    )
    text, html = after_greeting(message, language)
    assert text.startswith(words + "\n\nhttp://testserver/console/invite?token=")
    assert ignore in text and ignore in html and unescape(html).count(words) == 1
    assert _invite_link(message).startswith("/console/invite?token=")


def test_an_invitation_attaches_an_existing_account_once_it_signs_in(
    console_as: Callable[..., ConsoleLogin],
    world: World,
    settings: Settings,
    engine: Engine,
    session: Session,
    client: TestClient,
    master_key: str,
) -> None:
    owner = console_as(world.org, Role.owner)
    other = make_world(session, master_key, slug="elsewhere")
    existing = add_user(session, other.org, Role.issuer, email="ada@example.org")
    base = f"/console/orgs/{world.org.slug}/organisation"
    owner.post(f"{base}/members/invite", {"email": "ada@example.org", "role": "viewer"})
    link = _invite_link(_outbox(settings)[0])
    token = parse_qs(urlsplit(link).query)["token"][0]

    anonymous = _browser(client)
    page = anonymous.get(link)
    assert "Sign in to accept" in page.text and "password_confirm" not in page.text
    refused = post_form(anonymous, "/console/invite", {"token": token})
    assert refused.status_code == 403 and "sign in as a…@example.org" in refused.text
    wrong = console_as(world.org, Role.viewer)
    assert "but this invitation is for ada@example.org" in wrong.client.get(link).text
    assert post_form(wrong.client, "/console/invite", {"token": token}).status_code == 403
    assert pk(existing) not in _roles(engine, world.org.id)

    ada = _browser(client)
    login_link = unescape(
        present(re.search(r'href="(/console/login\?next=[^"]+)"', page.text)).group(1)
    )
    assert parse_qs(urlsplit(login_link).query)["next"] == [f"/console/invite?token={token}"]
    assert ada.get(login_link).status_code == 200
    signed = post_form(
        ada,
        "/console/login",
        {
            "email": "ada@example.org",
            "password": PASSWORD,
            "next": f"/console/invite?token={token}",
        },
    )
    assert signed.headers["location"] == f"/console/invite?token={token}"
    assert "Join " in ada.get(signed.headers["location"]).text
    accepted = post_form(ada, "/console/invite", {"token": token})
    assert accepted.status_code == 303 and accepted.headers["location"] == "/console?notice=joined"
    assert _roles(engine, world.org.id)[pk(existing)] == "viewer"
    assert _roles(engine, other.org.id)[pk(existing)] == "issuer"  # the other role stays
    [join] = _events(engine, "member.join")
    assert join.details == {"role": "viewer", "new_account": False}


def test_invitations_can_be_withdrawn_replaced_and_expire(
    console_as: Callable[..., ConsoleLogin],
    world: World,
    settings: Settings,
    engine: Engine,
    client: TestClient,
) -> None:
    owner = console_as(world.org, Role.owner)
    base = f"/console/orgs/{world.org.slug}/organisation"
    for role in ("viewer", "issuer"):
        owner.post(f"{base}/members/invite", {"email": "kim@example.org", "role": role})
    first, second = (_invite_link(m) for m in _outbox(settings))
    replaced = _browser(client).get(first)
    assert replaced.status_code == 404 and "replaced by a newer one" in replaced.text
    with Session(engine) as fresh:
        live = fresh.exec(select(Invitation).where(Invitation.cancelled_at == None)).one()  # noqa: E711
    withdrawn = owner.post(f"{base}/invitations/{live.id}/cancel")
    assert withdrawn.headers["location"].endswith("notice=invitation_cancelled")
    assert "withdrawn" in _browser(client).get(second).text
    assert len(_events(engine, "member.invite_cancel")) == 1

    owner.post(f"{base}/members/invite", {"email": "lou@example.org", "role": "viewer"})
    third = _invite_link(_outbox(settings)[-1])
    with Session(engine) as fresh:
        row = fresh.exec(select(Invitation).where(Invitation.email == "lou@example.org")).one()
        assert row.expires_at - row.created_at == timedelta(
            hours=settings.console_password_link_hours
        )
        row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
        fresh.add(row)
        fresh.commit()
    assert "expired" in _browser(client).get(third).text
    assert "not valid" in _browser(client).get("/console/invite?token=forged").text


def test_roles_change_members_leave_and_the_last_owner_stays(
    console_as: Callable[..., ConsoleLogin], world: World, engine: Engine
) -> None:
    owner = console_as(world.org, Role.owner)
    issuer = console_as(world.org, Role.issuer)
    base = f"/console/orgs/{world.org.slug}/organisation"
    alone = owner.post(f"{base}/members/{pk(owner.user)}/role", {"role": "viewer"})
    assert alone.status_code == 409 and "needs at least one owner" in alone.text
    leave = owner.post(f"{base}/members/{pk(owner.user)}/remove")
    assert leave.status_code == 409
    assert _roles(engine, world.org.id)[pk(owner.user)] == "owner"
    assert _events(engine, "member.role_change") == []

    promoted = owner.post(f"{base}/members/{pk(issuer.user)}/role", {"role": "owner"})
    assert promoted.headers["location"].endswith("notice=role_changed")
    [change] = _events(engine, "member.role_change")
    assert change.details == {"from": "issuer", "to": "owner"}
    assert change.subject_id == str(issuer.user.id)
    # Now the first owner may step down, and the second may remove them.
    assert (
        owner.post(f"{base}/members/{pk(owner.user)}/role", {"role": "viewer"}).status_code == 303
    )
    assert owner.client.get(f"{base}/tokens").status_code == 403  # a viewer now, at once
    confirm = issuer.client.get(f"{base}/members/{pk(owner.user)}/remove")
    assert confirm.status_code == 200 and "Remove the member" in confirm.text
    removed = issuer.post(f"{base}/members/{pk(owner.user)}/remove")
    assert removed.headers["location"].endswith("notice=member_removed")
    assert owner.client.get(base).status_code == 403  # not a member any more
    assert pk(owner.user) not in _roles(engine, world.org.id)
    [gone] = _events(engine, "member.remove")
    assert gone.details == {"role": "viewer"} and gone.actor_user_id == issuer.user.id
    missing = issuer.post(f"{base}/members/{pk(owner.user)}/role", {"role": "owner"})
    assert missing.status_code == 404
    last = issuer.post(f"{base}/members/{pk(issuer.user)}/remove")
    assert last.status_code == 409


def _together(calls: list[Callable[[], httpx.Response]]) -> list[httpx.Response]:
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], httpx.Response]) -> httpx.Response:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def test_the_last_owner_stays_under_parallel_requests(
    console_as: Callable[..., ConsoleLogin], world: World, engine: Engine
) -> None:
    """Five owners step down at once, then two owners demote each other, then two remove each
    other: every time exactly one owner is left (the others are refused with 409)."""
    base = f"/console/orgs/{world.org.slug}/organisation"
    owners = [console_as(world.org, Role.owner) for _ in range(5)]
    answers = _together(
        [partial(o.post, f"{base}/members/{pk(o.user)}/role", {"role": "issuer"}) for o in owners]
    )
    assert sorted(a.status_code for a in answers) == [303, 303, 303, 303, 409]
    assert list(_roles(engine, world.org.id).values()).count("owner") == 1

    for action in ("role", "remove"):
        pair = [console_as(world.org, Role.owner) for _ in range(2)]
        for user_id, role in _roles(engine, world.org.id).items():  # only the pair stays owner
            if role == "owner" and user_id not in {pk(p.user) for p in pair}:
                pair[0].post(f"{base}/members/{user_id}/role", {"role": "issuer"})
        assert list(_roles(engine, world.org.id).values()).count("owner") == 2
        a, b = pair
        answers = _together(
            [
                partial(x.post, f"{base}/members/{pk(y.user)}/{action}", {"role": "viewer"})
                for x, y in ((a, b), (b, a))
            ]
        )
        codes = sorted(x.status_code for x in answers)
        # The loser is refused as the last owner's keeper (409) or, demoted/removed a moment
        # before, for no longer being an owner (403).
        assert codes[0] == 303 and codes[1] in (403, 409), [x.text[:200] for x in answers]
        assert list(_roles(engine, world.org.id).values()).count("owner") == 1


# --- API tokens -------------------------------------------------------------------------------


def test_api_tokens_are_shown_once_listed_with_last_use_and_revoked(
    console_as: Callable[..., ConsoleLogin], world: World, engine: Engine, client: TestClient
) -> None:
    owner = console_as(world.org, Role.owner)
    path = f"/console/orgs/{world.org.slug}/organisation/tokens"
    assert "API tokens" in owner.client.get(path).text
    empty = owner.post(path, {"name": "  ", "expires_days": "30"})
    assert empty.status_code == 422 and 'id="name-error"' in empty.text
    bad = owner.post(path, {"name": "LMS", "expires_days": "0"})
    assert bad.status_code == 422 and 'id="expires-error"' in bad.text
    with Session(engine) as fresh:
        assert len(fresh.exec(select(ApiToken)).all()) == 1  # the world's own; nothing added

    made = owner.post(path, {"name": "Moodle export", "expires_days": "30"})
    assert made.status_code == 201 and "no-store" in made.headers["cache-control"]
    secret = present(re.search(r'id="new-token"[^>]*value="(shub_[^"]+)"', made.text)).group(1)
    used = client.get("/api/v1/organisations/me", headers={"authorization": f"Bearer {secret}"})
    assert used.status_code == 200 and used.json()["slug"] == world.org.slug
    listing = owner.client.get(path)
    assert secret not in listing.text and secret[:11] in listing.text  # the prefix only
    row = listing.text.split("Moodle export")[1].split("</tr>")[0]
    assert "UTC" in row and "never" not in row.split("</td>")[5]  # last used: just now
    with Session(engine) as fresh:
        record = fresh.exec(select(ApiToken).where(ApiToken.name == "Moodle export")).one()
        assert record.expires_at is not None
        assert record.expires_at - record.created_at == timedelta(days=30)
    [created] = _events(engine, "token.create")
    assert created.details["name"] == "Moodle export" and secret not in str(created.details)

    confirm = owner.client.get(f"{path}/{record.id}/revoke")
    assert confirm.status_code == 200 and "cannot be undone" in confirm.text
    revoked = owner.post(f"{path}/{record.id}/revoke")
    assert revoked.headers["location"].endswith("notice=token_revoked")
    refused = client.get("/api/v1/organisations/me", headers={"authorization": f"Bearer {secret}"})
    assert refused.status_code == 401
    assert "revoked" in owner.client.get(path).text
    owner.post(f"{path}/{record.id}/revoke")  # again: nothing changes, nothing recorded
    assert len(_events(engine, "token.revoke")) == 1
    never = owner.post(path, {"name": "CI", "expires_days": "never"})
    assert never.status_code == 201 and "works until revoked" in never.text


def test_another_organisations_token_cannot_be_revoked(
    console_as: Callable[..., ConsoleLogin], world: World, session: Session, master_key: str
) -> None:
    other = make_world(session, master_key, slug="elsewhere")
    theirs = session.exec(select(ApiToken).where(ApiToken.organisation_id == other.org.id)).one()
    owner = console_as(world.org, Role.owner)
    path = f"/console/orgs/{world.org.slug}/organisation/tokens/{theirs.id}/revoke"
    assert owner.client.get(path).status_code == 404
    assert owner.post(path).status_code == 404
    session.refresh(theirs)
    assert theirs.revoked_at is None


# --- issuer identity --------------------------------------------------------------------------


def test_issuer_keys_are_listed_and_rotated_by_an_owner(
    console_as: Callable[..., ConsoleLogin], session: Session, master_key: str, engine: Engine
) -> None:
    web = make_world(session, master_key, slug="webacademy", public_https=True)
    viewer = console_as(web.org, Role.viewer)
    base = f"/console/orgs/{web.org.slug}/organisation/identity"
    page = viewer.client.get(base)
    assert page.status_code == 200 and web.issuer.did in page.text
    assert "Rotate the keys" not in page.text  # not for a viewer
    with Session(engine) as fresh:
        old = fresh.exec(select(IssuerKey).where(IssuerKey.issuer_id == web.issuer.id)).all()
    assert {k.algorithm for k in old} == {"Ed25519", "P-256"}
    owner = console_as(web.org, Role.owner)
    assert "Rotate the keys" in owner.client.get(base).text
    assert "new keys" in owner.client.get(f"{base}/{web.issuer.slug}/rotate").text
    rotated = owner.post(f"{base}/{web.issuer.slug}/rotate")
    assert rotated.headers["location"].endswith("notice=key_rotated")
    with Session(engine) as fresh:
        keys = fresh.exec(select(IssuerKey).where(IssuerKey.issuer_id == web.issuer.id)).all()
    assert len(keys) == 4 and sum(k.active for k in keys) == 2
    assert all(k.retired_at is not None for k in keys if k.id in {o.id for o in old})
    page = owner.client.get(base)
    assert page.text.count("retired") == 2 and page.text.count("in use") == 2
    [event] = _events(engine, "issuer.rotate_key")
    assert event.subject_id == web.issuer.slug and len(event.details["keys"]) == 2
    assert event.actor_user_id == owner.user.id and event.address == "testclient"


def test_a_did_key_issuer_cannot_rotate_and_nothing_is_recorded(
    console_as: Callable[..., ConsoleLogin], world: World, engine: Engine
) -> None:
    owner = console_as(world.org, Role.owner)
    base = f"/console/orgs/{world.org.slug}/organisation/identity"
    assert "Rotate the keys" not in owner.client.get(base).text
    with Session(engine) as fresh:
        before = [(k.id, k.active) for k in fresh.exec(select(IssuerKey)).all()]
    refused = owner.post(f"{base}/{world.issuer.slug}/rotate")
    assert refused.status_code == 409 and "did:key" in refused.text
    with Session(engine) as fresh:
        assert [(k.id, k.active) for k in fresh.exec(select(IssuerKey)).all()] == before
    assert _events(engine, "issuer.rotate_key") == []
    assert owner.post(f"{base}/nobody/rotate").status_code == 404


def test_the_sharing_default_is_set_per_issuer(
    console_as: Callable[..., ConsoleLogin], world: World, engine: Engine
) -> None:
    owner = console_as(world.org, Role.owner)
    base = f"/console/orgs/{world.org.slug}/organisation/identity"
    assert "start <strong>private</strong>" in owner.client.get(base).text
    saved = owner.post(f"{base}/{world.issuer.slug}/sharing", {"public_by_default": "1"})
    assert saved.headers["location"].endswith("notice=sharing_saved")
    with Session(engine) as fresh:
        assert one(fresh, Issuer, world.issuer.id).public_by_default is True
    assert "start with a <strong>public</strong> page" in owner.client.get(base).text
    [event] = _events(engine, "issuer.sharing_default")
    assert event.details == {"public_by_default": True}


# --- e-seal certificate -----------------------------------------------------------------------


def _p12(world: World, *, days: int = 730, password: str | None = P12_PASSWORD) -> bytes:
    cert, key = eseal.generate_test_seal(world.org, days=days)
    encryption = (
        serialization.BestAvailableEncryption(password.encode())
        if password
        else serialization.NoEncryption()
    )
    return pkcs12.serialize_key_and_certificates(b"seal", key, cert, None, encryption)


def _upload(login: ConsoleLogin, path: str, data: bytes, password: str) -> httpx.Response:
    return login.post(
        path,
        {"password": password},
        files={"pkcs12": ("seal.p12", data, "application/x-pkcs12")},
    )


def _seals(engine: Engine) -> list[SealCertificate]:
    with Session(engine) as fresh:
        return list(fresh.exec(select(SealCertificate)).all())


def test_a_wrong_e_seal_password_is_a_field_message_and_writes_nothing(
    console_as: Callable[..., ConsoleLogin],
    world: World,
    engine: Engine,
    caplog: pytest.LogCaptureFixture,
) -> None:
    owner = console_as(world.org, Role.owner)
    path = f"/console/orgs/{world.org.slug}/organisation/seal"
    data = _p12(world)
    wrong_password = "the wrong one 7c1e"
    with caplog.at_level(logging.DEBUG):
        wrong = _upload(owner, path, data, wrong_password)
        not_p12 = _upload(owner, path, b"%PDF-1.7 not a certificate", P12_PASSWORD)
        nothing = owner.post(path, {"password": P12_PASSWORD})
    assert wrong.status_code == 422
    error = wrong.text.split('id="password-error">')[1].split("<")[0]
    assert "wrong password" in error
    assert (
        'id="password" name="password" type="password" autocomplete="off" aria-invalid="true"'
        in wrong.text
    )
    assert wrong_password not in wrong.text and P12_PASSWORD not in wrong.text
    assert (
        not_p12.status_code == 422
        and "not a PKCS#12 file" in not_p12.text.split('id="pkcs12-error">')[1]
    )
    assert nothing.status_code == 422 and "Choose the .p12" in nothing.text
    assert _seals(engine) == [] and _events(engine, "seal.import") == []
    assert wrong_password not in caplog.text and P12_PASSWORD not in caplog.text


def test_an_e_seal_certificate_is_imported_and_its_expiry_shown(
    console_as: Callable[..., ConsoleLogin],
    world: World,
    engine: Engine,
    caplog: pytest.LogCaptureFixture,
) -> None:
    owner = console_as(world.org, Role.owner)
    viewer = console_as(world.org, Role.viewer)
    path = f"/console/orgs/{world.org.slug}/organisation/seal"
    assert "No e-seal certificate yet" in viewer.client.get(path).text
    assert "Import a certificate" not in viewer.client.get(path).text
    with caplog.at_level(logging.DEBUG):
        imported = _upload(owner, path, _p12(world, days=20), P12_PASSWORD)
    assert imported.status_code == 303 and imported.headers["location"].endswith("seal_imported")
    [record] = _seals(engine)
    assert record.active and record.self_signed
    page = viewer.client.get(path)
    assert "Test certificate" in page.text and "Expires in 19 days" in page.text
    assert record.organisation_identifier in page.text
    [event] = _events(engine, "seal.import")
    assert event.subject_id == record.fingerprint and event.details["self_signed"] is True
    assert P12_PASSWORD not in str(event.details) and P12_PASSWORD not in caplog.text
    again = _upload(owner, path, _p12(world), P12_PASSWORD)
    assert again.status_code == 303 and len(_seals(engine)) == 2
    page = owner.client.get(path)
    assert "Earlier certificates" in page.text and "Expires in" not in page.text
