"""The console's foundation through real HTTP on both databases: sign-in and its cookie,
refusals that never tell whether an address exists, rate limits, CSRF, sessions that end,
role checks on a route, the set-password link and the dashboard's figures."""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.responses import HTMLResponse
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from accounts import password_links
from accounts.models import AuditEvent, ConsoleSession
from accounts.roles import Role
from badges.models import IssuedCredential
from catalogue.base import pk
from keys import eseal
from keys.eseal_models import SealCertificate
from skillshub.settings import Settings
from skillshub.web import csrf
from skillshub.web.app import create_app
from skillshub.web.console.auth import COOKIE, SECURE_COOKIE, IssuerDep
from tests.support.console import HTML, PASSWORD, ConsoleLogin, add_user, post_form, sign_in
from tests.support.present import present
from tests.support.world import World, make_world

WRONG = "E-mail or password is wrong"


@pytest.fixture
def world(session: Session, master_key: str) -> World:
    return make_world(session, master_key)


def _browser(client: TestClient) -> TestClient:
    return TestClient(client.app, headers=HTML)


def _events(engine: Engine, action: str) -> list[AuditEvent]:
    with Session(engine) as fresh:
        return list(fresh.exec(select(AuditEvent).where(AuditEvent.action == action)).all())


def test_sign_in_sets_a_strict_cookie_and_leads_to_the_console(
    client: TestClient, session: Session, world: World, engine: Engine
) -> None:
    user = add_user(session, world.org, Role.issuer, email="ada@example.org")
    browser = _browser(client)
    anonymous = browser.get("/console", follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/console/login?next=%2Fconsole"
    assert client.get("/console", headers={"accept": "application/json"}).status_code == 401

    form = browser.get("/console/login")
    assert form.status_code == 200 and "no-store" in form.headers["cache-control"]
    for field in ('name="email"', 'name="password"', f'name="{csrf.FIELD}"'):
        assert field in form.text
    assert 'href="#main"' in form.text and '<main id="main"' in form.text

    signed_in = post_form(
        browser, "/console/login", {"email": "ADA@example.org ", "password": PASSWORD}
    )
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/console"
    cookie = signed_in.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=") and "HttpOnly" in cookie
    assert "Path=/console" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    assert "Secure" not in cookie
    page = browser.get("/console")
    assert page.status_code == 200 and "ada@example.org" in page.text
    assert world.org.legal_name in page.text and "Sign out" in page.text
    assert "ada@example.org signed in</li>" in page.text  # recent activity, in plain words

    [event] = _events(engine, "user.sign_in")
    assert (event.organisation_id, event.actor_user_id) == (world.org.id, user.id)
    assert event.address == "testclient"
    with Session(engine) as fresh:
        row = fresh.exec(select(ConsoleSession)).one()
        assert row.token_hash != browser.cookies.get(COOKIE)  # only its hash is kept


def test_wrong_password_and_unknown_address_get_the_same_answer(
    client: TestClient, session: Session, world: World
) -> None:
    add_user(session, world.org, Role.issuer, email="ada@example.org")
    add_user(session, world.org, Role.issuer, email="new@example.org", password=None)
    answers = []
    for address, password in [
        ("ada@example.org", "not the password"),
        ("nobody@example.org", PASSWORD),
        ("new@example.org", PASSWORD),  # no password set yet
    ]:
        browser = _browser(client)
        refused = sign_in(browser, address, password)
        assert refused.status_code == 401, refused.text
        assert "set-cookie" not in refused.headers or COOKIE not in refused.headers["set-cookie"]
        assert f'value="{address}"' in refused.text  # what was typed is kept
        assert password not in refused.text.split('name="password"')[1]  # the password is not
        answers.append(re.sub(r'value="[^"]*"', "", refused.text))
        assert WRONG in refused.text
        assert browser.get("/console", follow_redirects=False).status_code == 303
    assert len(set(answers)) == 1  # byte for byte the same page, the typed address aside
    assert WRONG in sign_in(_browser(client), "", "").text


def test_sign_in_needs_the_forms_token_and_our_origin(
    client: TestClient, session: Session, world: World
) -> None:
    user = add_user(session, world.org, Role.owner)
    browser = _browser(client)
    browser.get("/console/login")
    fields = {"email": user.email, "password": PASSWORD}
    forged = [
        browser.post("/console/login", data=fields, follow_redirects=False),
        browser.post(
            "/console/login",
            data={**fields, **_csrf(browser)},
            headers={"origin": "https://evil.example"},
            follow_redirects=False,
        ),
        browser.post(
            "/console/login",
            data={**fields, **_csrf(browser)},
            headers={"sec-fetch-site": "cross-site"},
            follow_redirects=False,
        ),
    ]
    for refused in forged:
        assert refused.status_code == 403
        assert COOKIE not in refused.headers.get("set-cookie", "")
    signed_in = sign_in(browser, user.email)
    assert signed_in.status_code == 303
    # Sign-out is a form too: a forged one changes nothing.
    assert browser.post("/console/logout", follow_redirects=False).status_code == 403
    assert browser.get("/console").status_code == 200


def _csrf(client: TestClient) -> dict[str, str]:
    from tests.support.csrf import csrf_fields

    return csrf_fields(client)


def test_failed_sign_ins_are_limited_per_email_and_per_address(
    settings: Settings, engine: Engine, session: Session, world: World
) -> None:
    tight = settings.model_copy(
        update={"rate_limit_sign_in": "6/minute", "rate_limit_sign_in_email": "2/minute"}
    )
    user = add_user(session, world.org, Role.issuer)
    app = create_app(tight, engine=engine)
    with TestClient(app, headers=HTML, client=("198.51.100.7", 1)) as here:
        for _ in range(2):
            assert sign_in(here, "nobody@example.org", "guess guess guess").status_code == 401
        limited = sign_in(here, "NOBODY@example.org", "guess guess guess")
        assert limited.status_code == 429 and "Too many failed sign-ins" in limited.text
        assert int(limited.headers["retry-after"]) >= 1
        for _ in range(2):
            assert sign_in(here, user.email, "wrong wrong wrong").status_code == 401
        # Spent for this e-mail: even the right password waits, from any address.
        assert sign_in(here, user.email, PASSWORD).status_code == 429
        elsewhere = TestClient(app, headers=HTML, client=("203.0.113.9", 1))
        assert sign_in(elsewhere, user.email, PASSWORD).status_code == 429
        # Six attempts from this address: the seventh is refused before anything is checked.
        assert sign_in(here, "other@example.org", "x").status_code == 429
        assert sign_in(elsewhere, "other@example.org", "x").status_code == 401


def test_https_sites_mark_the_cookie_secure(
    settings: Settings, engine: Engine, session: Session, world: World
) -> None:
    https = settings.model_copy(update={"base_url": "https://badges.example"})
    user = add_user(session, world.org, Role.viewer)
    app = create_app(https, engine=engine)
    with TestClient(app, base_url="https://badges.example", headers=HTML) as browser:
        browser.get("/console/login")
        browser.cookies.set(csrf.SECURE_COOKIE, "A" * 43)
        token = csrf.token_for(app.state.master_key, "A" * 43)
        signed_in = browser.post(
            "/console/login",
            data={"email": user.email, "password": PASSWORD, csrf.FIELD: token},
            follow_redirects=False,
        )
        assert signed_in.status_code == 303, signed_in.text
        cookie = signed_in.headers["set-cookie"]
        assert cookie.startswith(f"{SECURE_COOKIE}=") and "Secure" in cookie
        assert "HttpOnly" in cookie and "Path=/console" in cookie
        assert browser.get("/console").status_code == 200


def test_sign_out_and_revoked_sessions_sign_the_browser_out(
    console_as: Callable[..., ConsoleLogin], world: World, engine: Engine, client: TestClient
) -> None:
    laptop = console_as(world.org, Role.owner, via_form=True)
    phone = TestClient(client.app, headers=HTML)
    assert sign_in(phone, laptop.user.email).status_code == 303
    listing = laptop.client.get("/console/sessions")
    assert listing.status_code == 200 and listing.text.count("/revoke") == 2
    with Session(engine) as fresh:
        ids = [pk(s) for s in fresh.exec(select(ConsoleSession).order_by(col(ConsoleSession.id)))]
    ended = laptop.post(f"/console/sessions/{ids[1]}/revoke")
    assert ended.headers["location"] == "/console/sessions?notice=session_revoked"
    assert "That session was ended" in laptop.client.get(ended.headers["location"]).text
    assert phone.get("/console", follow_redirects=False).status_code == 303
    assert laptop.client.get("/console").status_code == 200
    assert laptop.post(f"/console/sessions/{ids[1] + 100}/revoke").status_code == 404

    cookie = laptop.client.cookies.get(COOKIE)
    out = laptop.post("/console/logout")
    assert out.status_code == 303 and out.headers["location"] == "/console/login?notice=signed_out"
    assert f'{COOKIE}=""' in out.headers["set-cookie"] and "Max-Age=0" in out.headers["set-cookie"]
    replay = TestClient(client.app, headers=HTML)
    replay.cookies.set(COOKIE, cookie)  # the old cookie, kept by someone: dead server-side
    assert replay.get("/console", follow_redirects=False).status_code == 303
    assert [e.actor_user_id for e in _events(engine, "user.sign_out")] == [laptop.user.id]


def test_an_expired_session_asks_to_sign_in_again(
    console_as: Callable[..., ConsoleLogin], world: World, engine: Engine
) -> None:
    login = console_as(world.org, Role.viewer)
    with Session(engine) as fresh:
        row = fresh.exec(select(ConsoleSession)).one()
        row.last_seen_at = datetime.now(UTC) - timedelta(minutes=5)
        fresh.add(row)
        fresh.commit()
    assert login.client.get("/console/sessions").status_code == 200
    with Session(engine) as fresh:
        row = fresh.exec(select(ConsoleSession)).one()
        assert datetime.now(UTC) - row.last_seen_at < timedelta(minutes=1)  # a page view counts
        row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
        fresh.add(row)
        fresh.commit()
    again = login.client.get("/console/sessions?x=1", follow_redirects=False)
    assert again.status_code == 303
    assert again.headers["location"] == "/console/login?next=%2Fconsole%2Fsessions%3Fx%3D1"
    page = login.client.get(again.headers["location"])
    assert 'name="next" value="/console/sessions?x=1"' in page.text


def test_after_sign_in_only_console_paths_are_followed(
    client: TestClient, session: Session, world: World
) -> None:
    user = add_user(session, world.org, Role.viewer)
    for given, followed in [
        ("/console/sessions", "/console/sessions"),
        ("//evil.example/console", "/console"),
        ("https://evil.example/console", "/console"),
        ("/console\\@evil.example", "/console"),
        ("/verify", "/console"),
    ]:
        browser = _browser(client)
        browser.get("/console/login")
        answer = post_form(
            browser, "/console/login", {"email": user.email, "password": PASSWORD, "next": given}
        )
        assert answer.headers["location"] == followed, given


def test_a_lower_role_is_refused_by_the_route(
    settings: Settings, engine: Engine, session: Session, world: World, master_key: str
) -> None:
    app = create_app(settings, engine=engine)

    @app.get("/console/orgs/{slug}/issue-test", response_class=HTMLResponse)
    def issue_test(access: IssuerDep) -> str:
        return f"{access.organisation.slug} {access.role}"

    with TestClient(app, headers=HTML) as client:
        for role, status in [(Role.viewer, 403), (Role.issuer, 200), (Role.owner, 200)]:
            browser = TestClient(app, headers=HTML)
            assert sign_in(browser, add_user(session, world.org, role).email).status_code == 303
            answer = browser.get(f"/console/orgs/{world.org.slug}/issue-test")
            assert answer.status_code == status, role
            if status == 403:
                assert "needs the issuer role" in answer.text
        other = make_world(session, master_key, slug="otherorg")
        owner = TestClient(app, headers=HTML)
        assert sign_in(owner, add_user(session, world.org, Role.owner).email).status_code == 303
        assert owner.get(f"/console/orgs/{other.org.slug}/issue-test").status_code == 403
        assert owner.get("/console/orgs/nope/issue-test").status_code == 404
        anonymous = client.get(f"/console/orgs/{world.org.slug}/issue-test", follow_redirects=False)
        assert anonymous.status_code == 303


def test_the_set_password_link_works_once(
    client: TestClient, session: Session, world: World, engine: Engine
) -> None:
    user = add_user(session, world.org, Role.issuer, password=None)
    token = password_links.issue_link(session, user)
    session.commit()
    browser = _browser(client)
    url = f"/console/set-password?token={token}"
    page = browser.get(url)
    assert page.status_code == 200 and user.email in page.text
    assert page.headers["referrer-policy"] == "no-referrer"
    form = {"token": token, "password": PASSWORD, "password_confirm": PASSWORD + "x"}
    different = post_form(browser, "/console/set-password", form)
    assert different.status_code == 422 and "not the same" in different.text
    short = {"token": token, "password": "short", "password_confirm": "short"}
    weak = post_form(browser, "/console/set-password", short)
    assert weak.status_code == 422 and "at least 12 characters" in weak.text
    assert (
        post_form(
            browser, "/console/set-password", {**form}, headers={"origin": "https://evil.example"}
        ).status_code
        == 403
    )

    done = post_form(browser, "/console/set-password", {**form, "password_confirm": PASSWORD})
    assert done.status_code == 303 and done.headers["location"] == "/console?notice=password_set"
    assert COOKIE in done.headers["set-cookie"]
    assert "Your password is set" in browser.get(done.headers["location"]).text
    again = post_form(
        _browser(client), "/console/set-password", {**form, "password_confirm": PASSWORD}
    )
    assert again.status_code == 404 and "used already" in again.text
    assert _browser(client).get(url).status_code == 404
    assert sign_in(_browser(client), user.email).status_code == 303
    assert len(_events(engine, "user.password_set")) == 1


def _claim(client: TestClient, settings: Settings, uuid: str) -> None:
    for mail in (settings.data_dir / "outbox").glob("*.eml"):
        message = email.message_from_bytes(mail.read_bytes(), policy=email.policy.default)
        text = present(message.get_body(("plain",))).get_content()
        for link in re.findall(r"https?://[^/\s]+(/credentials/\S+/claim\?token=\S+)", text):
            if uuid in link:
                learner = TestClient(client.app, headers=HTML)
                learner.get(link)
                token = parse_qs(urlsplit(link).query)["token"][0]
                claimed = post_form(learner, urlsplit(link).path, {"token": token})
                assert claimed.status_code == 303, claimed.text
                return
    raise AssertionError(f"no claim e-mail for {uuid}")


def test_the_dashboard_counts_this_months_credentials(
    client: TestClient,
    console_as: Callable[..., ConsoleLogin],
    world: World,
    settings: Settings,
    engine: Engine,
) -> None:
    api = {"authorization": f"Bearer {world.token}"}
    issued = []
    for n in range(4):
        answer = client.post(
            f"/api/v1/issuers/{world.issuer.slug}/credentials",
            json={"micro_credential": world.mc.slug, "name": f"L{n}", "email": f"l{n}@example.org"},
            headers=api,
        )
        assert answer.status_code == 201, answer.text
        issued.append(answer.json()["id"])
    revoked = client.post(
        f"/api/v1/credentials/{issued[1]}/revoke", json={"reason": "x"}, headers=api
    )
    assert revoked.status_code == 200
    _claim(client, settings, issued[2])
    with Session(engine) as fresh:  # one issued last month: not this month's
        old = fresh.exec(select(IssuedCredential).where(IssuedCredential.uuid == issued[3])).one()
        old.created_at = datetime.now(UTC).replace(day=1) - timedelta(days=3)
        fresh.add(old)
        fresh.commit()

    viewer = console_as(world.org, Role.viewer)
    page = viewer.client.get("/console")
    assert page.status_code == 200
    figures = dict(re.findall(r'data-figure="(\w+)">(\d+)<', page.text))
    assert figures == {"issued": "3", "claimed": "1", "revoked": "1"}
    assert "No issuing job is running" in page.text


def test_the_dashboard_warns_before_the_e_seal_certificate_ends(
    console_as: Callable[..., ConsoleLogin], world: World, session: Session
) -> None:
    eseal.ensure_demo_seals(session, world.master_key)
    seal = session.exec(
        select(SealCertificate).where(SealCertificate.organisation_id == world.org.id)
    ).one()
    owner = console_as(world.org, Role.owner)
    assert f'id="seal-ending-{world.org.slug}"' not in owner.client.get("/console").text

    seal.not_after = datetime.now(UTC) + timedelta(days=12)
    session.add(seal)
    session.commit()
    page = owner.client.get("/console").text
    notice = page.split(f'id="seal-ending-{world.org.slug}"')[1].split("</p>")[0]
    assert "order its successor" in notice and "/organisation/seal" in notice
    assert f"{seal.not_after.day} {seal.not_after:%B %Y}" in notice  # "5 December 2026"

    seal.not_after = datetime.now(UTC) - timedelta(days=1)
    session.add(seal)
    session.commit()
    viewer = console_as(world.org, Role.viewer)
    notice = viewer.client.get("/console").text.split(f'id="seal-ending-{world.org.slug}"')[1]
    notice = notice.split("</p>")[0]
    assert "cannot be sealed" in notice and "/organisation/seal" not in notice  # owners import
