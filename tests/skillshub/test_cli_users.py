"""`skillshub user create` (password on standard input, or a one-time link) and the demo's
console owners, on both databases."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from accounts.models import AuditEvent
from accounts.users import authenticate, memberships
from catalogue.organisations import get_organisation
from skillshub.cli import app
from skillshub.demo import DEMO_PASSWORD, demo_owner_emails, load_demo
from skillshub.settings import Settings
from tests.support.console import HTML, PASSWORD, post_form, sign_in
from tests.support.present import present

runner = CliRunner()


def _env(tmp_path: Path, db_url: str, master_key: str) -> dict[str, str]:
    return {
        "SKILLSHUB_DATA_DIR": str(tmp_path / "data"),
        "SKILLSHUB_DATABASE_URL": db_url,
        "SKILLSHUB_MASTER_KEY": master_key,
        "SKILLSHUB_BASE_URL": "http://testserver",
    }


def _create(env: dict[str, str], *args: str, stdin: str | None = None):
    return runner.invoke(app, ["user", "create", "--org", "volt", *args], env=env, input=stdin)


def test_user_create_with_a_password_from_stdin(
    tmp_path: Path, db_url: str, master_key: str, client: TestClient, engine: Engine
) -> None:
    env = _env(tmp_path, db_url, master_key)
    assert runner.invoke(app, ["org", "create", "Volt", "--country", "DE"], env=env).exit_code == 0
    made = _create(
        env,
        "--email",
        "Ada@Example.org",
        "--role",
        "issuer",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert made.exit_code == 0, made.output
    assert "created user ada@example.org: issuer of volt" in made.output
    assert "set-password" not in made.output and PASSWORD not in made.output
    assert sign_in(TestClient(client.app, headers=HTML), "ada@example.org").status_code == 303

    twice = _create(
        env,
        "--email",
        "ada@example.org",
        "--role",
        "viewer",
        "--password-stdin",
        stdin="another password\n",
    )
    assert twice.exit_code == 1 and "keeps their password" in twice.output
    short = _create(
        env, "--email", "bo@example.org", "--role", "viewer", "--password-stdin", stdin="short\n"
    )
    assert short.exit_code == 1 and "at least 12 characters" in short.output
    empty = _create(
        env, "--email", "bo@example.org", "--role", "viewer", "--password-stdin", stdin=""
    )
    assert empty.exit_code == 1 and "no password" in empty.output
    assert _create(env, "--email", "bo@example.org", "--role", "boss").exit_code == 2
    unknown = runner.invoke(
        app,
        ["user", "create", "--org", "nope", "--email", "bo@example.org", "--role", "viewer"],
        env=env,
    )
    assert unknown.exit_code == 1 and "no organisation" in unknown.output
    with Session(engine) as fresh:
        events = fresh.exec(select(AuditEvent).order_by(col(AuditEvent.id))).all()
        assert [(e.action, e.actor_kind) for e in events] == [
            ("user.create", "cli"),
            ("member.add", "cli"),
            ("user.sign_in", "user"),
        ]
        assert events[1].details == {"role": "issuer"}
        assert present(events[1].command).startswith(
            "skillshub user create --org volt --email A…@Example.org"
        )


def test_user_create_without_a_password_prints_a_one_time_link(
    tmp_path: Path, db_url: str, master_key: str, client: TestClient, session: Session
) -> None:
    env = _env(tmp_path, db_url, master_key)
    assert runner.invoke(app, ["org", "create", "Volt", "--country", "DE"], env=env).exit_code == 0
    made = _create(env, "--email", "bo@example.org", "--role", "viewer")
    assert made.exit_code == 0, made.output
    link = made.stdout.strip().splitlines()[-1]
    assert link.startswith("http://testserver/console/set-password?token=")
    assert "works once, for 72 hours" in made.output

    browser = TestClient(client.app, headers=HTML)
    assert sign_in(browser, "bo@example.org").status_code == 401  # no password yet
    url = urlsplit(link)
    token = url.query.removeprefix("token=")
    assert browser.get(f"{url.path}?{url.query}").status_code == 200
    done = post_form(
        browser,
        "/console/set-password",
        {"token": token, "password": PASSWORD, "password_confirm": PASSWORD},
    )
    assert done.status_code == 303 and browser.get("/console").status_code == 200
    assert browser.get(f"{url.path}?{url.query}").status_code == 404  # spent

    # An existing user joins another organisation; without a password they get a fresh link.
    assert runner.invoke(app, ["org", "create", "Amp", "--country", "DE"], env=env).exit_code == 0
    joined = runner.invoke(
        app,
        ["user", "create", "--org", "amp", "--email", "BO@example.org", "--role", "owner"],
        env=env,
    )
    assert joined.exit_code == 0 and "existing user bo@example.org: owner of amp" in joined.output
    assert "set-password" not in joined.output  # the password is set already
    user = authenticate(session, "bo@example.org", PASSWORD)
    assert [(m.organisation.slug, m.role) for m in memberships(session, user)] == [
        ("amp", "owner"),
        ("volt", "viewer"),
    ]


def test_the_demo_has_an_owner_per_provider(session: Session, settings: Settings) -> None:
    load_demo(session, settings)
    session.commit()
    assert load_demo(session, settings)["console owners added"] == 0  # idempotent
    for address in demo_owner_emails():
        owner = authenticate(session, address, DEMO_PASSWORD)
        [membership] = memberships(session, owner)
        assert membership.role == "owner"
        assert address == f"owner@{membership.organisation.slug}.example"
        assert get_organisation(session, membership.organisation.slug)
