"""The audit log on both databases: the console page (filters, keyset pages, who sees client
addresses), its CSV export (spreadsheet-formula safe), `GET /api/v1/audit`, and the events the
API and the CLI write in the same transaction as their change (a failed change, none)."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from accounts import audit
from accounts.audit import Actor
from accounts.models import AuditEvent
from accounts.roles import Role
from catalogue.demo import load_demo_catalogue
from keys.models import ApiToken
from skillshub.cli import app
from tests.support.catalogue import bearer, course_payload, micro_credential_payload
from tests.support.console import ConsoleLogin
from tests.support.world import World, make_world

runner = CliRunner()
DAY = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def world(session: Session, master_key: str) -> World:
    return make_world(session, master_key)


def _events(engine: Engine, action: str | None = None) -> list[AuditEvent]:
    with Session(engine) as fresh:
        query = select(AuditEvent)
        if action:
            query = query.where(AuditEvent.action == action)
        return list(fresh.exec(query.order_by(col(AuditEvent.id))).all())


def _seed(session: Session, world: World, count: int, *, start: datetime = DAY) -> None:
    """`count` events a minute apart, alternating actors and actions, newest last."""
    people = [
        Actor(audit.ActorKind.user, "ada@example.org"),
        Actor(audit.ActorKind.cli, "deploy"),
        Actor.for_token("shub_ab", "LMS"),
    ]
    actions = ["credential.revoke", "member.invite", "token.create"]
    for n in range(count):
        audit.record(
            session,
            actor=people[n % 3],
            action=actions[n % 3],
            organisation=world.org,
            subject_type="thing",
            subject_id=n,
            details={"n": n},
            address="198.51.100.7",
            now=start + timedelta(minutes=n),
        )
    session.commit()


def _subject_ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'thing <code class="wrap-anywhere">(\d+)</code>', html)]


def _next(html: str) -> str | None:
    found = re.search(r'<a href="([^"]+)" rel="next">', html)
    return unescape(found.group(1)) if found else None


def test_the_log_pages_by_keyset_and_stays_stable_while_events_arrive(
    console_as: Callable[..., ConsoleLogin], world: World, session: Session
) -> None:
    _seed(session, world, 120)
    viewer = console_as(world.org, Role.viewer)
    path = f"/console/orgs/{world.org.slug}/audit"
    first = viewer.client.get(path)
    assert first.status_code == 200 and "no-store" in first.headers["cache-control"]
    seen = _subject_ids(first.text)
    assert seen == list(range(119, 69, -1))  # newest first, 50 a page
    # New events meanwhile do not shift the next page.
    _seed(session, world, 3, start=DAY + timedelta(days=1))
    second = viewer.client.get(_next(first.text) or "")
    seen += _subject_ids(second.text)
    third = viewer.client.get(_next(second.text) or "")
    seen += _subject_ids(third.text)
    assert seen == list(range(119, -1, -1))  # every event once, none skipped
    assert _next(third.text) is None and "Newest events" in third.text
    damaged = viewer.client.get(f"{path}?cursor=not-a-cursor")
    assert damaged.status_code == 422 and "page link is damaged" in damaged.text


def test_filters_by_action_actor_and_dates(
    console_as: Callable[..., ConsoleLogin], world: World, session: Session
) -> None:
    _seed(session, world, 9)  # 12:00 .. 12:08 on 10 March
    _seed(session, world, 3, start=DAY + timedelta(days=2))  # 12 March
    viewer = console_as(world.org, Role.viewer)
    path = f"/console/orgs/{world.org.slug}/audit"

    def ids(**params: str) -> list[int]:
        page = viewer.client.get(path, params=params)
        assert page.status_code == 200, page.text
        return _subject_ids(page.text)

    assert ids(action="member.invite") == [1, 7, 4, 1]
    assert ids(action="member.") == [1, 7, 4, 1]  # a group: every member.* action
    assert ids(action="token.create", since="2026-03-12") == [2]
    assert ids(actor="ADA@") == [0, 6, 3, 0]
    assert ids(actor="lms", until="2026-03-10") == [8, 5, 2]
    assert ids(since="2026-03-11", until="2026-03-11") == []
    assert ids(actor="%") == []  # a LIKE wildcard is a plain character here
    bad = viewer.client.get(path, params={"since": "2026-13-01"})
    assert bad.status_code == 422 and 'id="since-error"' in bad.text
    assert 'value="2026-13-01"' in bad.text  # what was typed is kept
    backwards = viewer.client.get(path, params={"since": "2026-03-12", "until": "2026-03-10"})
    assert backwards.status_code == 422 and "start date is after the end date" in backwards.text


def test_only_owners_see_client_addresses(
    console_as: Callable[..., ConsoleLogin], world: World, session: Session
) -> None:
    _seed(session, world, 2)
    path = f"/console/orgs/{world.org.slug}/audit"
    assert "198.51.100.7" not in console_as(world.org, Role.viewer).client.get(path).text
    assert "198.51.100.7" not in console_as(world.org, Role.issuer).client.get(path).text
    assert "198.51.100.7" in console_as(world.org, Role.owner).client.get(path).text
    viewer_csv = console_as(world.org, Role.viewer).client.get(f"{path}.csv")
    assert "198.51.100.7" not in viewer_csv.text


def _csv(text: str) -> list[list[str]]:
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_the_csv_export_follows_the_filters_and_never_runs_a_formula(
    console_as: Callable[..., ConsoleLogin], world: World, session: Session
) -> None:
    _seed(session, world, 6)
    hostile = '=HYPERLINK("https://evil.example","click")'
    audit.record(
        session,
        actor=Actor(audit.ActorKind.token, "+cmd|' /C calc'!A0"),
        action="course.update",
        organisation=world.org,
        subject_type="course",
        subject_id="-2+3",
        details={"title": hostile},
        now=DAY + timedelta(hours=1),
    )
    session.commit()
    owner = console_as(world.org, Role.owner)
    export = owner.client.get(f"/console/orgs/{world.org.slug}/audit.csv")
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    assert "attachment" in export.headers["content-disposition"]
    rows = _csv(export.text)
    assert rows[0][:4] == ["time (UTC)", "actor kind", "actor", "action"] and len(rows) == 8
    newest = rows[1]
    assert newest[2] == "'+cmd|' /C calc'!A0" and newest[6] == "'-2+3"
    assert json.loads(newest[7]) == {"title": hostile}  # inside JSON: starts with "{"
    assert (rows[2][4] == "invited a member" and rows[3][4] == "revoked a badge") or rows[3][4]
    for row in rows[1:]:
        assert not any(cell.startswith(("=", "+", "-", "@")) for cell in row), row
    assert rows[2][8] == "198.51.100.7"  # owners get the address
    filtered = _csv(
        owner.client.get(
            f"/console/orgs/{world.org.slug}/audit.csv", params={"action": "member.invite"}
        ).text
    )
    assert [r[6] for r in filtered[1:]] == ["4", "1"]
    bad = owner.client.get(f"/console/orgs/{world.org.slug}/audit.csv", params={"until": "x"})
    assert bad.status_code == 422


# --- the API ----------------------------------------------------------------------------------


def test_the_audit_api_filters_and_pages_with_a_cursor(
    client: TestClient, world: World, session: Session, master_key: str
) -> None:
    _seed(session, world, 7)
    other = make_world(session, master_key, slug="elsewhere")
    _seed(session, other, 2)
    assert client.get("/api/v1/audit").status_code == 401
    seen: list[str] = []
    params: dict[str, str | int] = {"limit": 3}
    while True:
        page = client.get("/api/v1/audit", params=params, headers=bearer(world.token))
        assert page.status_code == 200, page.text
        body = page.json()
        seen += [e["subject_id"] for e in body["events"]]
        if body["next_cursor"] is None:
            break
        params = {"limit": 3, "cursor": body["next_cursor"]}
    assert seen == [str(n) for n in range(6, -1, -1)]  # its own organisation's only
    first = client.get("/api/v1/audit", params={"limit": 1}, headers=bearer(world.token)).json()
    event = first["events"][0]
    assert event["actor"] == "ada@example.org" and event["address"] == "198.51.100.7"
    assert event["action"] == "credential.revoke" and event["details"] == {"n": 6}
    only = client.get(
        "/api/v1/audit",
        params={"action": "token.", "actor": "lms", "since": "2026-03-10", "until": "2026-03-10"},
        headers=bearer(world.token),
    ).json()
    assert [e["subject_id"] for e in only["events"]] == ["5", "2"]
    for bad in ({"cursor": "%%%"}, {"limit": 0}, {"limit": 201}, {"since": "yesterday"}):
        refused = client.get("/api/v1/audit", params=bad, headers=bearer(world.token))
        assert refused.status_code == 422, bad


def test_api_catalogue_writes_record_the_token_and_failures_record_nothing(
    client: TestClient, world: World, session: Session, engine: Engine
) -> None:
    load_demo_catalogue(session)
    session.commit()
    auth = bearer(world.token)
    invalid = client.post("/api/v1/courses", json=course_payload(ects=-1), headers=auth)
    assert invalid.status_code == 422
    assert _events(engine) == []
    created = client.post("/api/v1/courses", json=course_payload(), headers=auth)
    assert created.status_code == 201, created.text
    slug = created.json()["slug"]
    [event] = _events(engine, "course.create")
    prefix = world.token[:11]
    assert event.actor_kind == "token" and event.actor_label == f"API token {prefix}… (default)"
    assert (event.organisation_id, event.subject_id) == (world.org.id, slug)
    assert event.address == "testclient"
    assert (
        client.patch(f"/api/v1/courses/{slug}", json={"ects": 2}, headers=auth).status_code == 200
    )
    assert _events(engine, "course.update")[0].details == {"fields": ["ects"]}
    assert (
        client.put(f"/api/v1/courses/{slug}", json=course_payload(), headers=auth).status_code
        == 200
    )
    assert len(_events(engine, "course.update")) == 2
    mc = client.post("/api/v1/micro-credentials", json=micro_credential_payload(slug), headers=auth)
    assert mc.status_code == 201, mc.text
    mc_slug = mc.json()["slug"]
    assert _events(engine, "micro_credential.create")[0].subject_id == mc_slug
    broken = client.patch(
        f"/api/v1/micro-credentials/{mc_slug}", json={"eqf_level": 99}, headers=auth
    )
    assert broken.status_code == 422 and _events(engine, "micro_credential.update") == []
    assert (
        client.patch(
            f"/api/v1/micro-credentials/{mc_slug}", json={"ects": 2}, headers=auth
        ).status_code
        == 200
    )
    assert len(_events(engine, "micro_credential.update")) == 1
    assert client.delete(f"/api/v1/micro-credentials/{mc_slug}", headers=auth).status_code == 204
    assert client.delete(f"/api/v1/courses/{slug}", headers=auth).status_code == 204
    assert [e.action for e in _events(engine)][-2:] == [
        "micro_credential.delete",
        "course.delete",
    ]
    # Revoking a token through the API: recorded once, as the calling token.
    with Session(engine) as fresh:
        token_id = fresh.exec(select(ApiToken)).one().id
    assert client.delete(f"/api/v1/tokens/{token_id}", headers=auth).status_code == 200
    [revoked] = _events(engine, "token.revoke")
    assert revoked.actor_kind == "token" and revoked.subject_id == str(token_id)


# --- the CLI ----------------------------------------------------------------------------------


def _env(tmp_path: Path, db_url: str, master_key: str) -> dict[str, str]:
    return {
        "SKILLSHUB_DATA_DIR": str(tmp_path / "data"),
        "SKILLSHUB_DATABASE_URL": db_url,
        "SKILLSHUB_MASTER_KEY": master_key,
        "SKILLSHUB_BASE_URL": "http://testserver",
    }


def test_cli_changes_record_the_command_line(
    tmp_path: Path, db_url: str, master_key: str, session: Session, engine: Engine
) -> None:
    web = make_world(session, master_key, slug="webacademy", public_https=True)
    plain = make_world(session, master_key, slug="keys")
    env = _env(tmp_path, db_url, master_key)

    made = runner.invoke(
        app,
        ["token", "create", "--org", web.org.slug, "--name", "nightly", "--expires-days", "7"],
        env=env,
    )
    assert made.exit_code == 0, made.output
    secret = made.stdout.strip().splitlines()[-1]
    [created] = _events(engine, "token.create")
    assert created.actor_kind == "cli" and created.organisation_id == web.org.id
    assert created.command == (
        f"skillshub token create --org {web.org.slug} --name nightly --expires-days 7"
    )
    assert secret not in json.dumps(created.details) and secret not in (created.command or "")

    token_id = created.subject_id or ""
    assert runner.invoke(app, ["token", "revoke", token_id], env=env).exit_code == 0
    [revoked] = _events(engine, "token.revoke")
    assert revoked.command == f"skillshub token revoke {token_id}"
    assert revoked.organisation_id == web.org.id

    rotated = runner.invoke(app, ["issuer", "rotate-key", web.issuer.slug], env=env)
    assert rotated.exit_code == 0, rotated.output
    [rotation] = _events(engine, "issuer.rotate_key")
    assert rotation.command == f"skillshub issuer rotate-key {web.issuer.slug}"
    assert rotation.actor_kind == "cli" and len(rotation.details["keys"]) == 2

    # A change that fails leaves no event.
    refused = runner.invoke(app, ["issuer", "rotate-key", plain.issuer.slug], env=env)
    assert refused.exit_code == 1 and "did:key" in refused.output
    assert len(_events(engine, "issuer.rotate_key")) == 1
    missing = runner.invoke(app, ["token", "revoke", "99999"], env=env)
    assert missing.exit_code == 1 and len(_events(engine, "token.revoke")) == 1


def test_cli_catalogue_import_is_recorded(
    tmp_path: Path, db_url: str, master_key: str, engine: Engine, world: World, session: Session
) -> None:
    load_demo_catalogue(session)  # the skills the course names
    session.commit()
    env = _env(tmp_path, db_url, master_key)
    document = tmp_path / "catalogue.json"
    document.write_text(
        json.dumps({"format": "skillshub-catalogue", "courses": [course_payload()]})
    )
    argv = ["catalogue", "import", str(document), "--org", world.org.slug]
    done = runner.invoke(app, argv, env=env)
    assert done.exit_code == 0, done.output
    [event] = _events(engine, "catalogue.import")
    assert event.command == f"skillshub catalogue import {document} --org {world.org.slug}"
    assert event.details["courses_created"] == 1 and event.organisation_id == world.org.id
    document.write_text(
        json.dumps({"format": "skillshub-catalogue", "courses": [course_payload(ects=-1)]})
    )
    assert runner.invoke(app, argv, env=env).exit_code == 1
    assert len(_events(engine, "catalogue.import")) == 1


def test_cli_seal_import_is_recorded_and_a_wrong_password_records_nothing(
    tmp_path: Path, db_url: str, master_key: str, engine: Engine, world: World
) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12

    from keys import eseal

    cert, key = eseal.generate_test_seal(world.org)
    p12 = tmp_path / "seal.p12"
    p12.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"seal", key, cert, None, serialization.BestAvailableEncryption(b"right one")
        )
    )
    argv = ["seal", "import", "--org", world.org.slug, "--pkcs12", str(p12)]
    argv += ["--password-env", "SEAL_PW"]
    env = _env(tmp_path, db_url, master_key)
    wrong = runner.invoke(app, argv, env={**env, "SEAL_PW": "wrong one"})
    assert wrong.exit_code == 1 and "wrong password" in wrong.output
    assert _events(engine, "seal.import") == []
    done = runner.invoke(app, argv, env={**env, "SEAL_PW": "right one"})
    assert done.exit_code == 0, done.output
    [event] = _events(engine, "seal.import")
    assert event.command == f"skillshub seal import --org {world.org.slug} --pkcs12 {p12} " + (
        "--password-env SEAL_PW"
    )
    assert "right one" not in json.dumps(event.details) + (event.command or "")
