"""Issuer trust and own links through the real app and the CLI (SQLite and PostgreSQL): the
verify page and API, the skills gap (page, API, CLI), `skillshub verify` on the `make run`
BASE_URL (http://127.0.0.1:8000), English and German pages."""

from __future__ import annotations

import copy
import html
import json
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select
from typer.testing import CliRunner, Result

from badges import issuing
from badges.models import IssuedCredential
from badges.sharing.page import set_public
from catalogue.base import pk
from catalogue.models import CourseSkill, JobRole, JobRoleSkill, Skill
from skillshub.cli import app
from tests.support.own import Signer, credential
from tests.support.world import World, make_world

LEGAL_NAME = "VoltAcademy Batterietechnik GmbH"
MAKE_RUN = "http://127.0.0.1:8000"
runner = CliRunner()


@pytest.fixture
def hub(session: Session, master_key: str) -> World:
    world = make_world(session, master_key)
    world.org.legal_name = LEGAL_NAME
    session.add(world.org)
    # A job role needing the micro-credential's skill, for the gap.
    skill = session.exec(select(Skill).where(Skill.slug == "battery-voltacademy")).one()
    role = JobRole(
        iri="http://example.org/occupation/bms", slug="bms-engineer", title="BMS engineer"
    )
    session.add(role)
    session.flush()
    session.add(JobRoleSkill(job_role_id=pk(role), skill_id=pk(skill), level="practitioner"))
    session.add(CourseSkill(course_id=world.mc.course_id, skill_id=pk(skill), level="practitioner"))
    session.commit()
    return world


def _issue(session: Session, world: World, base_url: str, **recipient: Any) -> IssuedCredential:
    record = issuing.issue(
        session,
        world.master_key,
        issuer=world.issuer,
        micro_credential=world.mc,
        recipient=issuing.Recipient(name="Ada Lovelace", email="ada@example.org", **recipient),
        base_url=base_url,
    )
    set_public(session, record, True)
    session.commit()
    return record


def _look_alike(signed: str) -> dict[str, Any]:
    """The issue's copy: same name and achievement, another recipient, a fresh did:key."""
    copied = copy.deepcopy(json.loads(signed))
    copied.pop("proof")
    copied.pop("credentialStatus")
    signer = Signer.ed25519()
    copied["issuer"]["id"] = signer.did
    copied["issuer"]["name"] = LEGAL_NAME
    copied["credentialSubject"]["identifier"][1]["identityHash"] = "Mallory"
    return signer.data_integrity(copied)


def _stranger() -> dict[str, Any]:
    signer = Signer.ed25519()
    return signer.data_integrity(credential(signer.did))


def _verdict(html: str) -> str:
    found = re.search(r'<section class="status verdict[^"]*"[^>]*>(.*?)</section>', html, re.S)
    assert found, "no verdict on the page"
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split())


# --- the verify page and API ------------------------------------------------------------------


def test_own_badge_link_verifies_on_an_http_base_url(
    client: TestClient, session: Session, hub: World
) -> None:
    """The badge page's Verify button: /verify?url=<its own http address>."""
    record = _issue(session, hub, "http://testserver")
    badge_page = client.get(f"/credentials/{record.uuid}", headers={"accept": "text/html"})
    button = re.search(r'href="(/verify\?url=[^"]+)"', badge_page.text)
    assert button, "the badge page has a Verify button"
    page = client.get(button.group(1).replace("&amp;", "&"))
    assert page.status_code == 200, page.text
    said = _verdict(page.text)
    assert said.startswith("✔ Valid")
    assert f"Issued by {LEGAL_NAME}, a registered provider, to Ada Lovelace on" in said
    assert "It has not been revoked." in said
    api = client.post(
        "/api/v1/verify", json={"url": f"http://testserver/credentials/{record.uuid}"}
    )
    body = api.json()
    assert body["verdict"] == "valid"
    assert body["summary"]["issuer_trust"]["standing"] == "registered"
    assert body["summary"]["issuer_trust"]["legal_name"] == LEGAL_NAME
    trust = next(c for c in body["checks"] if c["id"] == "issuer_trust")
    assert trust["status"] == "ok"


def test_the_look_alike_is_refused_and_the_page_names_the_organisation(
    client: TestClient, session: Session, hub: World
) -> None:
    forged = _look_alike(_issue(session, hub, "http://testserver").signed)
    api = client.post("/api/v1/verify", json=forged).json()
    assert api["verdict"] == "invalid"
    assert api["summary"]["issuer_trust"] == {
        **api["summary"]["issuer_trust"],
        "standing": "impersonation",
        "legal_name": LEGAL_NAME,
    }
    page = client.post("/verify", data={"credential": json.dumps(forged)})
    said = _verdict(page.text)
    assert said.startswith("✘ Not valid")
    assert f"pretends to come from {LEGAL_NAME}" in said
    assert "did:" not in said
    # VC-API: refused, with the check named.
    vc_api = client.post("/credentials/verify", json={"verifiableCredential": forged})
    assert vc_api.status_code == 400
    assert any(
        e["check"] == "issuer_trust" and LEGAL_NAME in e["detail"] for e in vc_api.json()["errors"]
    )


def test_an_unknown_issuer_is_authentic_but_unvouched(client: TestClient, hub: World) -> None:
    page = client.post("/verify", data={"credential": json.dumps(_stranger())})
    said = _verdict(page.text)
    assert said.startswith("! Authentic, but the issuer is not known to us")
    assert "“Volt Academy” is what the issuer says about itself" in said


def test_the_report_reads_plainly_and_folds_the_details(
    client: TestClient, session: Session, hub: World
) -> None:
    record = _issue(session, hub, "http://testserver")
    page = client.get("/verify", params={"url": f"http://testserver/credentials/{record.uuid}"})
    html = page.text
    before_details = html.split('<details class="technical"', 1)[0]
    main = before_details.split('<main id="main"', 1)[1]
    shown = " ".join(re.sub(r"<[^>]+>", " ", main).split())  # the text a reader sees
    for technical in ("did:key", "index", "emailAddress", "T00:", "Z ", record.uuid):
        assert technical not in shown, technical
    assert f"Issued by {LEGAL_NAME}" in shown
    # What it proves: the micro-credential's EU elements and the skill's level.
    assert "75 hours" in html and "3 ECTS credits" in html
    assert "EQF level" in html and "level: practitioner" in html
    # Print-friendly: the stylesheet hides the navigation and the form when printing.
    css = client.get("/static/style.css").text + client.get("/static/verify.css").text
    assert "@media print" in css and ".site-header" in css


def test_revocation_reason_and_date_on_the_page(
    client: TestClient, session: Session, hub: World
) -> None:
    from badges import status

    record = _issue(session, hub, "http://testserver")
    status.change_status(
        session,
        hub.master_key,
        credential_uuid=record.uuid,
        action="revoke",
        organisation_id=hub.org.id,
        actor="test",
        base_url="http://testserver",
        reason="issued in error",
    )
    session.commit()
    page = client.get("/verify", params={"url": f"http://testserver/credentials/{record.uuid}"})
    said = _verdict(page.text)
    assert re.search(r"revoked by its issuer on \d{1,2} \w+ \d{4}\.", said), said
    assert "Reason given: issued in error." in said


def test_an_expired_badge_says_since_when(client: TestClient, hub: World) -> None:
    signer = Signer.ed25519()
    expired = signer.data_integrity(credential(signer.did, valid_until="2025-06-01T00:00:00Z"))
    said = _verdict(client.post("/verify", data={"credential": json.dumps(expired)}).text)
    assert "This badge expired on 1 June 2025." in said


# --- languages --------------------------------------------------------------------------------


def test_german_from_accept_language_and_the_switch(
    client: TestClient, session: Session, hub: World
) -> None:
    hub.mc.assessment_type, hub.mc.quality_assurance = (
        "oral-examination",
        "program-quality-assurance",
    )
    session.add(hub.mc)
    record = _issue(session, hub, "http://testserver")
    url = f"http://testserver/credentials/{record.uuid}"
    german = client.get(
        "/verify", params={"url": url}, headers={"accept-language": "de-DE,de;q=0.9,en;q=0.5"}
    )
    assert '<html lang="de">' in german.text
    said = _verdict(german.text)
    assert said.startswith("✔ Gültig")
    assert f"Ausgestellt von {LEGAL_NAME}, einem registrierten Anbieter" in said
    assert re.search(r"am \d{1,2}\. \w+ \d{4}\.", said), said
    assert german.headers["vary"].endswith("Accept-Language")
    # The micro-credential's facts from our catalogue: its vocabulary labels in German too.
    facts = re.search(r'<dl class="facts" id="micro-credential">(.*?)</dl>', german.text, re.S)
    assert facts and "Prüfungsform</dt><dd>mündliche Prüfung</dd>" in facts.group(1)
    assert "<dd>Qualitätssicherung des Programms</dd>" in facts.group(1)
    assert '<dd id="kind">Open-Badges-3.0-Nachweis (VC Data Model 2.0)</dd>' in german.text
    # The switch: ?lang=en wins over the header and is remembered.
    english = client.get(
        "/verify", params={"url": url, "lang": "en"}, headers={"accept-language": "de"}
    )
    assert _verdict(english.text).startswith("✔ Valid")
    assert "shub_lang=en" in english.headers["set-cookie"]
    again = client.get("/verify", headers={"accept-language": "de"})
    assert '<html lang="en">' in again.text
    client.cookies.clear()
    switched = client.get("/verify", params={"lang": "de"})
    assert "Badge prüfen" in switched.text
    assert 'href="/verify?lang=en"' in switched.text


# --- the skills gap: only trusted issuers' badges count ----------------------------------------


def test_gap_counts_only_trusted_issuers(client: TestClient, session: Session, hub: World) -> None:
    genuine = json.loads(_issue(session, hub, "http://testserver").signed)
    stranger = _stranger()
    forged = _look_alike(json.dumps(genuine))
    body = client.post(
        "/api/v1/gap",
        json={"job_role": "bms-engineer", "credentials": [genuine, stranger, forged]},
    ).json()
    [ours, unknown, fake] = body["credentials"]
    assert ours["counted"] and ours["issuer"] == LEGAL_NAME and ours["issuer_trust"] == "registered"
    assert not unknown["counted"] and unknown["verdict"] == "valid"
    assert unknown["reason"] == "not counted: issuer unknown"
    assert not fake["counted"] and fake["verdict"] == "invalid"
    assert body["proven_skills"] == ours["skills"] and len(ours["skills"]) == 1
    assert body["gap"]["missing"] == []
    only_stranger = client.post(
        "/api/v1/gap", json={"job_role": "bms-engineer", "credentials": [stranger]}
    ).json()
    assert only_stranger["proven_skills"] == [] and len(only_stranger["gap"]["missing"]) == 1


def test_the_verify_page_sends_a_badge_to_the_gap_page(
    client: TestClient, session: Session, hub: World
) -> None:
    genuine = _issue(session, hub, "http://testserver").signed
    page = client.post("/verify", data={"credential": genuine})
    form = re.search(r'<form action="/gap" method="post">(.*?)</form>', page.text, re.S)
    assert form, "the verify page offers the gap"
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form.group(1)))
    badge = html.unescape(fields["badge"])
    assert json.loads(badge)["id"] == json.loads(genuine)["id"]
    token = fields["csrf_token"]
    step1 = client.post("/gap", data={"badge": badge, "csrf_token": token})
    assert step1.status_code == 200, step1.text
    assert "counted: 1 skill" in step1.text
    result = client.post(
        "/gap",
        data={
            "badge": [badge, json.dumps(_stranger())],
            "job_role": "bms-engineer",
            "show": "1",
            "csrf_token": token,
        },
    )
    assert result.status_code == 200
    assert "You have every skill this role needs." in result.text
    assert "not counted: issuer unknown" in result.text
    refused = client.post("/gap", data={"badge": badge})  # no CSRF token
    assert refused.status_code == 403


# --- the CLI on `make run`'s BASE_URL -----------------------------------------------------------


@pytest.fixture
def env(tmp_path: Path, db_url: str, master_key: str) -> dict[str, str]:
    return {
        "SKILLSHUB_DATABASE_URL": db_url,
        "SKILLSHUB_MASTER_KEY": master_key,
        "SKILLSHUB_DATA_DIR": str(tmp_path / "data"),
        "SKILLSHUB_BASE_URL": MAKE_RUN,
    }


def _said(result: Result) -> str:
    return " ".join(result.output.split())


def test_cli_verifies_own_links_and_refuses_the_look_alike(
    session: Session, hub: World, env: dict[str, str], tmp_path: Path
) -> None:
    record = _issue(session, hub, MAKE_RUN)
    own = runner.invoke(app, ["verify", f"{MAKE_RUN}/credentials/{record.uuid}"], env=env)
    assert own.exit_code == 0, own.output
    assert _said(own).startswith(f"VALID: Valid. Issued by {LEGAL_NAME}, a registered provider")
    png = runner.invoke(app, ["verify", f"{MAKE_RUN}/credentials/{record.uuid}/badge.png"], env=env)
    assert png.exit_code == 0, png.output
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(_look_alike(record.signed)))
    refused = runner.invoke(app, ["verify", str(forged)], env=env)
    assert refused.exit_code == 1, refused.output
    assert f"pretends to come from {LEGAL_NAME}" in _said(refused)
    assert "issuer_trust" in refused.output
    # Other hosts keep the strict rules: plain http elsewhere is refused (exit 2).
    other = runner.invoke(app, ["verify", "http://localhost:9/credentials/x"], env=env)
    assert other.exit_code == 2 and "only https URLs are fetched" in _said(other)


def test_cli_gap_counts_only_trusted_badges(
    session: Session, hub: World, env: dict[str, str], tmp_path: Path
) -> None:
    record = _issue(session, hub, MAKE_RUN)
    stranger = tmp_path / "stranger.json"
    stranger.write_text(json.dumps(_stranger()))
    result = runner.invoke(
        app,
        [
            "catalogue",
            "gap",
            "bms-engineer",
            "--badge",
            f"{MAKE_RUN}/credentials/{record.uuid}",
            "--badge",
            str(stranger),
        ],
        env=env,
    )
    assert result.exit_code == 0, result.output
    said = _said(result)
    assert f"({LEGAL_NAME}): counted: 1 skill(s)" in said
    assert "(Volt Academy): not counted: issuer unknown" in said
    assert "1 of 1 skills held, 0 missing" in said
    unknown_only = runner.invoke(
        app, ["catalogue", "gap", "bms-engineer", "--badge", str(stranger), "--json"], env=env
    )
    body = json.loads(unknown_only.stdout)
    assert body["proven_skills"] == [] and body["credentials"][0]["counted"] is False
