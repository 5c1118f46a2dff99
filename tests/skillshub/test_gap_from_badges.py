"""POST /api/v1/gap: the skills a learner proves with valid badges close their gap."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from badges import issuing
from badges.models import Issuer
from catalogue.demo import load_demo_catalogue
from catalogue.models import Course, JobRole, MicroCredential
from skillshub.demo import load_demo
from skillshub.settings import Settings
from tests.support.present import one, present


def _demo_badge(session: Session, settings: Settings, slug: str) -> dict:
    from keys.store import ensure_master_key

    master_key = ensure_master_key(session, settings.resolved_master_key())
    mc = session.exec(select(MicroCredential).where(MicroCredential.slug == slug)).one()
    course = one(session, Course, mc.course_id)
    issuer = present(
        session.exec(select(Issuer).where(Issuer.organisation_id == course.organisation_id)).first()
    )
    record = issuing.issue(
        session,
        master_key,
        issuer=issuer,
        micro_credential=mc,
        recipient=issuing.Recipient("Ada", "ada@example.org"),
        base_url=settings.base_url,
    )
    session.commit()
    return json.loads(record.signed)


def test_valid_badges_close_the_gap_and_tampered_ones_do_not(
    client: TestClient, session: Session, settings: Settings
) -> None:
    load_demo(session, settings)
    session.commit()
    role = present(session.exec(select(JobRole).order_by(col(JobRole.id))).first())
    before = client.get("/api/v1/gap", params={"job_role": role.slug}).json()
    missing_before = {m["iri"] for m in before["missing"]}
    badge = _demo_badge(session, settings, "bms-engineer")
    # The skill alignments: EQF, ISCED-F and outcome statements are aligned too, not skills.
    proven = {
        a["targetUrl"]
        for a in badge["credentialSubject"]["achievement"]["alignment"]
        if a["targetType"] == "ceasn:Competency"
    }
    assert proven & missing_before, "the demo badge should prove a skill this role needs"

    response = client.post("/api/v1/gap", json={"job_role": role.slug, "credentials": [badge]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["credentials"][0]["verdict"] == "valid"
    assert set(body["proven_skills"]) == proven
    missing_after = {m["iri"] for m in body["gap"]["missing"]}
    assert missing_after == missing_before - proven

    tampered = json.loads(json.dumps(badge))
    tampered["credentialSubject"]["achievement"]["name"] = "Forged"
    response = client.post("/api/v1/gap", json={"job_role": role.slug, "credentials": [tampered]})
    body = response.json()
    assert body["credentials"][0]["verdict"] == "invalid"
    assert body["proven_skills"] == []
    assert {m["iri"] for m in body["gap"]["missing"]} == missing_before


def test_too_many_or_unreadable_credentials(client: TestClient, session: Session) -> None:
    load_demo_catalogue(session)
    session.commit()
    role = present(session.exec(select(JobRole).order_by(col(JobRole.id))).first())
    many = client.post("/api/v1/gap", json={"job_role": role.slug, "credentials": ["x"] * 21})
    assert many.status_code == 422
    garbage = client.post(
        "/api/v1/gap", json={"job_role": role.slug, "credentials": ["not.a.jwt"]}
    ).json()
    assert garbage["credentials"][0]["verdict"] in ("unreadable", "invalid")
    assert garbage["proven_skills"] == []
