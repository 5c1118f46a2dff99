"""Hub operators (issue 20): created by the CLI without an organisation, the only users who
see and use the hub's pages; the demo's alliance operator. Both databases."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlmodel import Session, select
from typer.testing import CliRunner

from accounts import sessions
from accounts.models import AuditEvent
from accounts.roles import Role
from accounts.users import authenticate, create_user, find_user, memberships
from catalogue.models import Organisation
from catalogue.organisations import create_organisation
from skillshub.cli import app
from skillshub.demo import DEMO_OPERATOR_EMAIL, DEMO_PASSWORD, load_demo
from skillshub.settings import Settings
from skillshub.web.console.auth import COOKIE
from tests.support.console import HTML, PASSWORD, post_form

runner = CliRunner()
OPERATOR = ["user", "create", "--email", "Op@Alliance.example", "--role", "operator"]


def _env(tmp_path: Path, db_url: str, master_key: str) -> dict[str, str]:
    return {
        "SKILLSHUB_DATA_DIR": str(tmp_path / "data"),
        "SKILLSHUB_DATABASE_URL": db_url,
        "SKILLSHUB_MASTER_KEY": master_key,
        "SKILLSHUB_BASE_URL": "http://testserver",
    }


def operator_client(client: TestClient, session: Session, email: str) -> TestClient:
    """A browser signed in as a new hub operator."""
    user = create_user(session, email)
    user.is_operator = True
    session.add(user)
    token, _ = sessions.start_session(session, user)
    session.commit()
    browser = TestClient(client.app, headers=HTML)
    browser.cookies.set(COOKIE, token)
    return browser


def test_cli_creates_an_operator_without_an_organisation(
    tmp_path: Path, db_url: str, master_key: str, session: Session, client: TestClient
) -> None:
    env = _env(tmp_path, db_url, master_key)
    made = runner.invoke(
        app,
        [*OPERATOR, "--password-stdin"],
        env=env,
        input=PASSWORD + "\n",
    )
    assert made.exit_code == 0, made.output
    assert "created user op@alliance.example: hub operator" in made.output
    user = authenticate(session, "op@alliance.example", PASSWORD)
    assert user.is_operator and memberships(session, user) == []
    [event] = session.exec(select(AuditEvent).where(AuditEvent.action == "operator.add")).all()
    assert event.organisation_id is None and event.actor_kind == "cli"
    session.rollback()  # end the read: the CLI writes to the same database

    again = runner.invoke(
        app, ["user", "create", "--email", "op@alliance.example", "--role", "operator"], env=env
    )
    assert again.exit_code == 1 and "operator already" in again.output
    with_org = runner.invoke(
        app,
        ["user", "create", "--org", "x", "--email", "o2@a.example", "--role", "operator"],
        env=env,
    )
    assert with_org.exit_code != 0 and "drop --org" in with_org.output
    without_org = runner.invoke(
        app, ["user", "create", "--email", "o3@a.example", "--role", "owner"], env=env
    )
    assert without_org.exit_code != 0 and "needs --org" in without_org.output
    session.rollback()
    assert find_user(session, "o2@a.example") is None and find_user(session, "o3@a.example") is None


def test_only_operators_see_and_use_the_hub(
    client: TestClient, session: Session, console_as
) -> None:
    org = create_organisation(session, legal_name="Volt Academy", country="DE", slug="volt")
    session.commit()
    owner = console_as(org, Role.owner)
    assert owner.client.get("/console/hub").status_code == 403
    assert 'href="/console/hub"' not in owner.client.get("/console").text
    refused = owner.post("/console/hub/organisations", {"legal_name": "Rogue", "country": "DE"})
    assert refused.status_code == 403
    assert session.exec(select(Organisation).where(Organisation.slug == "rogue")).first() is None

    browser = operator_client(client, session, "op@alliance.example")
    page = browser.get("/console/hub")
    assert page.status_code == 200 and "Volt Academy" in page.text
    assert 'href="/console/hub"' in browser.get("/console").text
    made = post_form(
        browser, "/console/hub/organisations", {"legal_name": "Amp Training", "country": "at"}
    )
    assert made.status_code == 303, made.text
    created = session.exec(select(Organisation).where(Organisation.slug == "amp-training")).one()
    assert created.country == "AT"
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "organisation.create")).one()
    assert event.organisation_id == created.id and event.actor_label == "op@alliance.example"
    bad = post_form(browser, "/console/hub/organisations", {"legal_name": "X", "country": "Deu"})
    assert bad.status_code == 422 and "ISO 3166-1" in bad.text


def test_the_demo_alliance_operates_the_hub(session: Session, settings: Settings) -> None:
    load_demo(session, settings)
    session.commit()
    assert load_demo(session, settings)["hub operators added"] == 0  # idempotent
    user = authenticate(session, DEMO_OPERATOR_EMAIL, DEMO_PASSWORD)
    assert user.is_operator
    [membership] = memberships(session, user)
    assert membership.organisation.slug == "skills-alliance" and membership.role == Role.owner
