"""The user's sign-in security through real HTTP on both databases: an authenticator app
(TOTP, codes made by pyotp as the phone would) set up, asked for at sign-in, refused when
wrong or replayed, turned off; password reset by e-mail (the mail read from the file
backend's outbox); "sign out everywhere"."""

from __future__ import annotations

import email
import email.policy
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from html import unescape
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from accounts import password_links, second_factor
from accounts.models import AuditEvent, ConsoleSession, PasswordToken, User
from accounts.roles import Role
from keys.sealing import MasterKey
from skillshub.settings import Settings
from skillshub.web.app import create_app
from skillshub.web.console.auth import COOKIE
from tests.support.console import HTML, PASSWORD, ConsoleLogin, add_user, post_form, sign_in
from tests.support.mail_language import after_greeting, until_words
from tests.support.present import present
from tests.support.world import World, make_world

NEW_PASSWORD = "a brand new passphrase for me"


@pytest.fixture
def world(session: Session, master_key: str) -> World:
    return make_world(session, master_key)


def _browser(client: TestClient) -> TestClient:
    return TestClient(client.app, headers=HTML)


def _events(engine: Engine, action: str) -> list[AuditEvent]:
    with Session(engine) as fresh:
        return list(fresh.exec(select(AuditEvent).where(AuditEvent.action == action)).all())


def _user(engine: Engine, user_id: int | None) -> User:
    with Session(engine) as fresh:
        found = fresh.get(User, user_id)
        assert found is not None
        return found


def _live_sessions(engine: Engine, user_id: int | None) -> int:
    with Session(engine) as fresh:
        rows = fresh.exec(select(ConsoleSession).where(ConsoleSession.user_id == user_id)).all()
        return sum(1 for r in rows if r.revoked_at is None)


# --- the authenticator app ------------------------------------------------------------------


def _enrol(login: ConsoleLogin) -> pyotp.TOTP:
    """Set up an authenticator app through the pages: the secret read from the page, as a
    person types it (or a phone scans the QR code that holds the same URI)."""
    start = login.post("/console/security/totp/start")
    assert start.status_code == 303
    page = login.client.get("/console/security")
    assert page.status_code == 200 and "no-store" in page.headers["cache-control"]
    assert '<img class="qr" src="data:image/svg+xml;base64,' in page.text  # drawn server-side
    assert "<script" not in page.text
    secret = present(re.search(r'aria-label="Set-up key">([A-Z2-7 ]+)<', page.text)).group(1)
    uri = unescape(present(re.search(r"(otpauth://totp/[^<]+)</code>", page.text)).group(1))
    parsed = pyotp.parse_uri(uri)
    assert isinstance(parsed, pyotp.TOTP)
    assert parsed.secret == secret.replace(" ", "") and parsed.issuer == "Skills Hub"
    assert parsed.name == login.user.email and parsed.digits == 6 and parsed.interval == 30
    return pyotp.TOTP(secret.replace(" ", ""))


def _code(totp: pyotp.TOTP, steps_ahead: int = 0) -> str:
    return totp.at(time.time() + 30 * steps_ahead)


def _wrong(totp: pyotp.TOTP) -> str:
    valid = {_code(totp, k) for k in (-1, 0, 1)}
    return next(c for c in (f"{n:06d}" for n in range(1000)) if c not in valid)


def _password_step(client: TestClient, address: str) -> httpx.Response:
    answer = sign_in(client, address)
    assert answer.status_code == 303, answer.text
    return answer


def test_an_authenticator_app_is_set_up_and_then_asked_for_at_sign_in(
    console_as: Callable[..., ConsoleLogin],
    world: World,
    engine: Engine,
    client: TestClient,
    master_key: str,
) -> None:
    owner = console_as(world.org, Role.owner, via_form=True)
    totp = _enrol(owner)
    # Not in force before a first code confirms it: a password alone still signs in.
    assert _user(engine, owner.user.id).totp_enabled_at is None
    sealed = _user(engine, owner.user.id).totp_secret
    assert sealed is not None and totp.secret.encode() not in sealed  # sealed, not in clear
    assert second_factor.pending_secret(_user(engine, owner.user.id), MasterKey(master_key)) == (
        totp.secret
    )
    assert sign_in(_browser(client), owner.user.email).headers["location"] == "/console"

    wrong = owner.post("/console/security/totp/confirm", {"code": _wrong(totp)})
    assert wrong.status_code == 422 and "not right" in wrong.text
    assert 'aria-invalid="true"' in wrong.text
    on = owner.post("/console/security/totp/confirm", {"code": _code(totp)})
    assert on.status_code == 303 and on.headers["location"].endswith("notice=second_factor_on")
    assert _user(engine, owner.user.id).totp_enabled_at is not None
    assert len(_events(engine, "user.second_factor_on")) == 1
    assert "On</strong> since" in owner.client.get("/console/security").text
    assert "on</td>" in owner.client.get(f"/console/orgs/{world.org.slug}/organisation").text

    # Sign-in: the password leads to the code step, not into the console.
    browser = _browser(client)
    step = _password_step(browser, owner.user.email)
    assert step.headers["location"] == "/console/login/code?next=%2Fconsole"
    assert f"{COOKIE}=" not in step.headers["set-cookie"]  # no session yet: a pending step
    assert "shub_console_pending=" in step.headers["set-cookie"]
    assert "Path=/console/login" in step.headers["set-cookie"]
    assert browser.get("/console", follow_redirects=False).status_code == 303  # not yet
    pending = browser.get("/console/login/code")
    assert pending.status_code == 200 and 'autocomplete="one-time-code"' in pending.text
    refused = post_form(browser, "/console/login/code", {"code": _wrong(totp)})
    assert refused.status_code == 401 and "not right" in refused.text
    done = post_form(browser, "/console/login/code", {"code": _code(totp, 1), "next": "/console"})
    assert done.status_code == 303 and done.headers["location"] == "/console"
    assert f"{COOKIE}=" in done.headers["set-cookie"]
    assert browser.get("/console").status_code == 200
    [event] = [e for e in _events(engine, "user.sign_in") if e.details]
    assert event.details == {"second_factor": "authenticator app"}

    # The same code again, in a new sign-in within its window: refused (RFC 6238 5.2).
    again = _browser(client)
    _password_step(again, owner.user.email)
    replay = post_form(again, "/console/login/code", {"code": _code(totp, 1)})
    assert replay.status_code == 401 and "used already" in replay.text
    older = post_form(again, "/console/login/code", {"code": _code(totp)})  # an earlier step
    assert older.status_code == 401 and "used already" in older.text
    assert again.get("/console", follow_redirects=False).status_code == 303

    # The pending step opens nothing else, and without it the code page sends to sign-in.
    stranger = _browser(client)
    assert (
        stranger.get("/console/login/code", follow_redirects=False)
        .headers["location"]
        .endswith("notice=sign_in_again")
    )
    assert (
        post_form(stranger, "/console/login/code", {"code": _code(totp)}).headers["location"]
        == "/console/login?notice=sign_in_again"
    )


def test_the_code_step_expires_is_spent_once_and_wrong_codes_are_limited(
    settings: Settings, engine: Engine, session: Session, world: World, master_key: str
) -> None:
    tight = settings.model_copy(update={"rate_limit_sign_in_code": "3/minute"})
    user = add_user(session, world.org, Role.issuer)
    mk = MasterKey(master_key)
    secret = second_factor.begin_enrolment(session, user, mk)
    totp = pyotp.TOTP(secret)
    second_factor.confirm_enrolment(session, user, mk, totp.at(time.time() - 30))
    session.commit()
    with TestClient(create_app(tight, engine=engine), headers=HTML) as browser:
        _password_step(browser, user.email)
        for _ in range(3):
            assert (
                post_form(browser, "/console/login/code", {"code": _wrong(totp)}).status_code == 401
            )
        limited = post_form(browser, "/console/login/code", {"code": _code(totp)})
        assert limited.status_code == 429 and "Too many wrong codes" in limited.text
        assert int(limited.headers["retry-after"]) >= 1
    # An expired challenge: back to the password.
    with TestClient(create_app(settings, engine=engine), headers=HTML) as browser:
        _password_step(browser, user.email)
        with Session(engine) as fresh:
            for row in fresh.exec(select(second_factor.SignInChallenge)):
                row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
                fresh.add(row)
            fresh.commit()
        late = post_form(browser, "/console/login/code", {"code": _code(totp)})
        assert late.headers["location"] == "/console/login?notice=sign_in_again"
        assert "took too long" in browser.get(late.headers["location"]).text


def test_one_code_signs_in_once_under_parallel_requests(
    client: TestClient, session: Session, world: World, master_key: str, engine: Engine
) -> None:
    user = add_user(session, world.org, Role.viewer)
    mk = MasterKey(master_key)
    totp = pyotp.TOTP(second_factor.begin_enrolment(session, user, mk))
    second_factor.confirm_enrolment(session, user, mk, totp.at(time.time() - 30))
    session.commit()
    browsers = [_browser(client) for _ in range(4)]
    for browser in browsers:
        _password_step(browser, user.email)
    code = _code(totp)
    barrier = threading.Barrier(len(browsers))

    def attempt(browser: TestClient) -> int:
        barrier.wait()
        return post_form(browser, "/console/login/code", {"code": code}).status_code

    with ThreadPoolExecutor(len(browsers)) as pool:
        answers = list(pool.map(attempt, browsers))
    assert sorted(answers) == [303, 401, 401, 401], answers
    assert _live_sessions(engine, user.id) == 1


def test_turning_the_app_off_needs_a_current_code_or_the_password(
    console_as: Callable[..., ConsoleLogin], world: World, engine: Engine
) -> None:
    login = console_as(world.org, Role.viewer, via_form=True)
    totp = _enrol(login)
    assert login.post("/console/security/totp/confirm", {"code": _code(totp)}).status_code == 303
    nothing = login.post("/console/security/totp/disable", {})
    assert nothing.status_code == 422 and "current code" in nothing.text
    bad_password = login.post("/console/security/totp/disable", {"password": "not it at all"})
    assert bad_password.status_code == 422 and "password is not right" in bad_password.text
    assert "not it at all" not in bad_password.text
    bad_code = login.post("/console/security/totp/disable", {"code": _wrong(totp)})
    assert bad_code.status_code == 422
    assert _user(engine, login.user.id).totp_enabled_at is not None
    off = login.post("/console/security/totp/disable", {"password": PASSWORD})
    assert off.status_code == 303 and off.headers["location"].endswith("second_factor_off")
    after = _user(engine, login.user.id)
    assert after.totp_enabled_at is None and after.totp_secret is None
    assert len(_events(engine, "user.second_factor_off")) == 1

    # With a code this time; and an unfinished set-up can be dropped without one.
    totp = _enrol(login)
    assert login.post("/console/security/totp/confirm", {"code": _code(totp)}).status_code == 303
    assert (
        login.post("/console/security/totp/disable", {"code": _code(totp, 1)})
        .headers["location"]
        .endswith("second_factor_off")
    )
    _enrol(login)
    assert login.post("/console/security/totp/cancel").status_code == 303
    assert _user(engine, login.user.id).totp_secret is None


def test_setting_up_twice_is_refused_and_forms_need_csrf(
    console_as: Callable[..., ConsoleLogin], world: World, engine: Engine
) -> None:
    login = console_as(world.org, Role.viewer)
    totp = _enrol(login)
    for path, data in [
        ("/console/security/totp/start", {}),
        ("/console/security/totp/confirm", {"code": _code(totp)}),
        ("/console/security/totp/cancel", {}),
        ("/console/security/totp/disable", {"code": _code(totp)}),
        ("/console/sessions/sign-out-everywhere", {}),
        ("/console/reset-password", {"email": login.user.email}),
        ("/console/reset-password/new", {"token": "x", "password": NEW_PASSWORD}),
        ("/console/login/code", {"code": _code(totp)}),
    ]:
        forged = login.client.post(path, data=data, follow_redirects=False)
        assert forged.status_code == 403, path
        cross = login.post(path, data, headers={**HTML, "origin": "https://evil.example"})
        assert cross.status_code == 403, path
    assert _user(engine, login.user.id).totp_enabled_at is None
    assert login.post("/console/security/totp/confirm", {"code": _code(totp)}).status_code == 303
    twice = login.post("/console/security/totp/start")
    assert twice.status_code == 409 and "set up already" in twice.text


# --- sign out everywhere --------------------------------------------------------------------


def test_sign_out_everywhere_ends_every_session(
    console_as: Callable[..., ConsoleLogin], world: World, engine: Engine, client: TestClient
) -> None:
    laptop = console_as(world.org, Role.issuer, via_form=True)
    phone = _browser(client)
    sign_in(phone, laptop.user.email)
    listing = laptop.client.get("/console/sessions")
    assert 'action="/console/sessions/sign-out-everywhere"' in listing.text
    out = laptop.post("/console/sessions/sign-out-everywhere")
    assert out.status_code == 303
    assert out.headers["location"] == "/console/login?notice=signed_out_everywhere"
    assert f"{COOKIE}=" in out.headers["set-cookie"]  # this browser's cookie is dropped
    for browser in (laptop.client, phone):
        assert browser.get("/console", follow_redirects=False).status_code == 303
    assert _live_sessions(engine, laptop.user.id) == 0
    [event] = _events(engine, "session.revoke_all")
    assert event.details == {"sessions_ended": 2}


# --- password reset by e-mail ---------------------------------------------------------------


def _outbox(settings: Settings) -> list[EmailMessage]:
    folder = settings.data_dir / "outbox"
    files = sorted(folder.glob("*.eml")) if folder.is_dir() else []
    return [email.message_from_bytes(f.read_bytes(), policy=email.policy.default) for f in files]


def _reset_link(message: EmailMessage) -> str:
    text = present(message.get_body(("plain",))).get_content()
    [link] = re.findall(r"http://testserver(/console/reset-password/new\?token=\S+)", text)
    return link


def _ask_reset(client: TestClient, address: str) -> httpx.Response:
    browser = _browser(client)
    browser.get("/console/reset-password")
    return post_form(browser, "/console/reset-password", {"email": address})


def test_password_reset_by_e_mail_link(
    client: TestClient, session: Session, world: World, settings: Settings, engine: Engine
) -> None:
    user = add_user(session, world.org, Role.issuer, email="ada@example.org")
    old = _browser(client)
    assert sign_in(old, user.email).status_code == 303
    assert 'href="/console/reset-password"' in _browser(client).get("/console/login").text

    known = _ask_reset(client, "ADA@example.org")
    unknown = _ask_reset(client, "nobody@example.org")
    assert known.status_code == unknown.status_code == 200
    # The same page, whether or not the address has a user (the typed address aside).
    assert known.text.replace("ADA@example.org", "X") == unknown.text.replace(
        "nobody@example.org", "X"
    )
    [message] = _outbox(settings)  # one mail, to the known address only
    assert message["To"] == "ada@example.org"
    assert message["Subject"] == "Reset your Skills Hub console password"
    link = _reset_link(message)
    assert "works once" in present(message.get_body(("html",))).get_content()
    [requested] = _events(engine, "user.password_reset_request")
    assert requested.organisation_id == world.org.id and "ada@" not in str(requested.details)

    browser = _browser(client)
    form = browser.get(link)
    assert form.status_code == 200 and form.headers["referrer-policy"] == "no-referrer"
    assert 'action="/console/reset-password/new"' in form.text
    token = parse_qs(urlsplit(link).query)["token"][0]
    mismatch = post_form(
        browser,
        "/console/reset-password/new",
        {"token": token, "password": NEW_PASSWORD, "password_confirm": "other"},
    )
    assert mismatch.status_code == 422 and "not the same" in mismatch.text
    weak = post_form(
        browser,
        "/console/reset-password/new",
        {"token": token, "password": "short", "password_confirm": "short"},
    )
    assert weak.status_code == 422
    done = post_form(
        browser,
        "/console/reset-password/new",
        {"token": token, "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
    )
    assert done.status_code == 303 and done.headers["location"] == "/console?notice=password_reset"
    assert "new password is set" in browser.get(done.headers["location"]).text
    # Every other session ended; the old password no longer works, the new one does.
    assert old.get("/console", follow_redirects=False).status_code == 303
    assert _live_sessions(engine, user.id) == 1
    assert sign_in(_browser(client), user.email, PASSWORD).status_code == 401
    assert sign_in(_browser(client), user.email, NEW_PASSWORD).status_code == 303
    [reset] = _events(engine, "user.password_reset")
    assert reset.details == {"sessions_ended": 1}
    # Single use: the link is spent.
    spent = _browser(client).get(link)
    assert spent.status_code == 404 and "used already" in spent.text
    assert "/console/reset-password" in spent.text


@pytest.mark.parametrize(
    ("accept", "language", "subject", "opening", "ignore"),
    [
        (
            None,
            "en",
            "Reset your Skills Hub console password",
            "Someone (we hope you) asked to reset the password",
            "If you did not ask for this, ignore this e-mail",
        ),
        (
            "de-DE,de;q=0.9,en;q=0.5",
            "de",
            "Passwort für die Skills-Hub-Konsole zurücksetzen",
            "Jemand (hoffentlich Sie) hat darum gebeten, das Passwort",
            "Wenn Sie das nicht angefordert haben, ignorieren Sie diese E-Mail",
        ),
        ("fr", "en", "Reset your Skills Hub console password", "Someone (we hope", "If you"),
    ],
    ids=["en", "de", "fr-is-en"],
)
def test_the_reset_email_speaks_the_language_of_the_page_that_asked(
    client: TestClient,
    session: Session,
    world: World,
    settings: Settings,
    engine: Engine,
    accept: str | None,
    language: str,
    subject: str,
    opening: str,
    ignore: str,
) -> None:
    user = add_user(session, world.org, Role.issuer, email="ada@example.org")
    browser = TestClient(client.app, headers=HTML | ({"accept-language": accept} if accept else {}))
    browser.get("/console/reset-password")
    assert post_form(browser, "/console/reset-password", {"email": user.email}).status_code == 200
    [message] = _outbox(settings)
    assert message["Subject"] == subject and message["Content-Language"] == language
    with Session(engine) as fresh:
        [row] = fresh.exec(select(PasswordToken).where(PasswordToken.user_id == user.id)).all()
    until = until_words(row.expires_at, language)
    text, html = after_greeting(message, language)
    assert text.startswith(opening) and f"{until}:\n\nhttp://testserver/console/" in text
    assert f"{until}:</p>" in html and ignore in text and ignore in html
    assert _reset_link(message).startswith("/console/reset-password/new?token=")


def test_reset_links_expire_are_replaced_and_never_set_other_purposes(
    client: TestClient, session: Session, world: World, settings: Settings, engine: Engine
) -> None:
    user = add_user(session, world.org, Role.viewer)
    _ask_reset(client, user.email)
    _ask_reset(client, user.email)
    first, second = (_reset_link(m) for m in _outbox(settings))
    gone = _browser(client).get(first)
    assert gone.status_code == 404 and "expired" in gone.text  # replaced by the second
    with Session(engine) as fresh:
        rows = fresh.exec(select(PasswordToken).order_by(col(PasswordToken.id))).all()
        assert [r.purpose for r in rows] == [password_links.RESET] * 2
        assert rows[1].expires_at - rows[1].created_at == timedelta(minutes=60)
        for row in rows:
            row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
            fresh.add(row)
        fresh.commit()
    assert _browser(client).get(second).status_code == 404
    # A reset token does not open the set-password page, nor the reverse.
    token = password_links.issue_link(session, user)
    session.commit()
    assert _browser(client).get(f"/console/reset-password/new?token={token}").status_code == 404
    bad = _ask_reset(client, "not an address")
    assert bad.status_code == 422 and "not an e-mail address" in bad.text


def test_reset_requests_are_limited_per_address_and_per_e_mail(
    settings: Settings, engine: Engine, session: Session, world: World
) -> None:
    tight = settings.model_copy(
        update={
            "rate_limit_password_reset": "4/minute",
            "rate_limit_password_reset_email": "2/hour",
        }
    )
    user = add_user(session, world.org, Role.viewer)
    app = create_app(tight, engine=engine)
    with TestClient(app, headers=HTML, client=("198.51.100.7", 1)) as here:
        answers = [_ask_reset(here, user.email) for _ in range(3)]
        # The third asks past the e-mail's budget: the same answer, no third mail.
        assert [a.status_code for a in answers] == [200, 200, 200]
        assert answers[2].text == answers[0].text
        assert len(_outbox(settings)) == 2
        assert _ask_reset(here, "other@example.org").status_code == 200
        limited = _ask_reset(here, "other@example.org")
        assert limited.status_code == 429


def test_after_a_reset_a_second_factor_is_still_asked_for(
    client: TestClient, session: Session, world: World, settings: Settings, master_key: str
) -> None:
    user = add_user(session, world.org, Role.owner)
    mk = MasterKey(master_key)
    totp = pyotp.TOTP(second_factor.begin_enrolment(session, user, mk))
    second_factor.confirm_enrolment(session, user, mk, totp.at(time.time() - 30))
    session.commit()
    _ask_reset(client, user.email)
    link = _reset_link(_outbox(settings)[0])
    browser = _browser(client)
    browser.get(link)
    token = parse_qs(urlsplit(link).query)["token"][0]
    done = post_form(
        browser,
        "/console/reset-password/new",
        {"token": token, "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
    )
    assert done.status_code == 303 and done.headers["location"].startswith("/console/login/code")
    assert browser.get("/console", follow_redirects=False).status_code == 303
    signed = post_form(
        browser,
        "/console/login/code",
        {"code": _code(totp), "next": "/console?notice=password_reset"},
    )
    assert signed.headers["location"] == "/console?notice=password_reset"
    assert browser.get("/console").status_code == 200


def test_no_secret_reaches_the_log(
    settings: Settings,
    engine: Engine,
    session: Session,
    world: World,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """With the console mail backend the mail is logged as one redacted line: neither the
    link nor the address is in the log."""
    logged = settings.model_copy(update={"email_backend": "console"})
    user = add_user(session, world.org, Role.viewer, email="grace@example.org")
    with (
        TestClient(create_app(logged, engine=engine), headers=HTML) as browser,
        caplog.at_level("DEBUG"),
    ):
        browser.get("/console/reset-password")
        assert (
            post_form(browser, "/console/reset-password", {"email": user.email}).status_code == 200
        )
    assert "Reset your Skills Hub console password" in caplog.text  # the mail went out
    assert "g…@example.org" in caplog.text
    assert user.email not in caplog.text and "token=" not in caplog.text
    with Session(engine) as fresh:
        assert fresh.exec(select(PasswordToken)).one().purpose == password_links.RESET


def test_the_operator_turns_off_a_lost_authenticator_app(
    tmp_path: Path,
    db_url: str,
    master_key: str,
    session: Session,
    world: World,
    engine: Engine,
    client: TestClient,
) -> None:
    from typer.testing import CliRunner

    from skillshub.cli import app

    user = add_user(session, world.org, Role.issuer, email="lost@example.org")
    mk = MasterKey(master_key)
    totp = pyotp.TOTP(second_factor.begin_enrolment(session, user, mk))
    second_factor.confirm_enrolment(session, user, mk, totp.at(time.time() - 30))
    session.commit()
    signed = _browser(client)
    _password_step(signed, user.email)
    post_form(signed, "/console/login/code", {"code": _code(totp)})
    env = {
        "SKILLSHUB_DATA_DIR": str(tmp_path / "data"),
        "SKILLSHUB_DATABASE_URL": db_url,
        "SKILLSHUB_MASTER_KEY": master_key,
    }
    runner = CliRunner()
    done = runner.invoke(app, ["user", "disable-2fa", "--email", "LOST@example.org"], env=env)
    assert done.exit_code == 0, done.output
    assert "turned off for lost@example.org; 1 session(s) ended" in done.output
    assert _user(engine, user.id).totp_secret is None
    assert signed.get("/console", follow_redirects=False).status_code == 303
    assert sign_in(_browser(client), user.email).headers["location"] == "/console"
    [event] = _events(engine, "user.second_factor_off")
    assert event.command == "skillshub user disable-2fa --email L…@example.org"  # as typed
    again = runner.invoke(app, ["user", "disable-2fa", "--email", "lost@example.org"], env=env)
    assert again.exit_code == 1 and "no authenticator app" in again.output
    nobody = runner.invoke(app, ["user", "disable-2fa", "--email", "who@example.org"], env=env)
    assert nobody.exit_code == 1 and len(_events(engine, "user.second_factor_off")) == 1
