"""Skills gap and training path on the demo catalogue: missing skills and a greedy set cover."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session

from catalogue.demo import COURSES, JOB_ROLES, SKILL_IRIS
from catalogue.gap import gap
from tests.support.catalogue import bearer, course_payload, provider_token

ENGINEER = next(r for r in JOB_ROLES if r.title == "battery system engineer")


def _taught(course_slug: str) -> set[str]:
    return {
        SKILL_IRIS[label]
        for _p, f, taught in COURSES
        if f["slug"] == course_slug
        for label, _ in taught
    }


def test_gap_for_a_newcomer(client: TestClient, demo: dict) -> None:
    result = client.get("/api/v1/gap", params={"job_role": "battery-system-engineer"}).json()
    required = len(ENGINEER.essential) + len(ENGINEER.optional)
    assert result["required"] == len(result["missing"]) == required
    essentials = [m["essential"] for m in result["missing"]]
    assert essentials == sorted(essentials, reverse=True)  # essential first
    assert [m["level"] for m in result["missing"][:3]] == ["expert"] * 3
    assert [step["course"]["slug"] for step in result["path"]] == [
        "engineering-project-management-for-e-mobility",  # closes 8
        "battery-management-systems-engineering",  # closes 6
        "vehicle-electrical-systems-and-diagnostics",  # closes 3
        "high-voltage-safety-for-ev-technicians",  # closes 2 in 40 h
        "ev-battery-pack-assembly-and-testing",  # closes 2 in 80 h
        "battery-cell-chemistry-and-design",  # closes 2 in 150 h
    ]
    assert [len(step["closes"]) for step in result["path"]] == [8, 6, 3, 2, 2, 2]
    for step in result["path"]:
        assert {s["iri"] for s in step["closes"]} <= _taught(step["course"]["slug"])
        assert step["closes_share"] == round(len(step["closes"]) / required, 4)
    assert result["path"][1]["micro_credentials"] == [
        {"slug": "bms-engineer", "title": "Battery Management Systems Engineer"}
    ]
    closed = {s["iri"] for step in result["path"] for s in step["closes"]}
    uncovered = {s["iri"] for s in result["uncovered"]}
    assert closed | uncovered == {m["iri"] for m in result["missing"]}
    assert not closed & uncovered
    assert {s["label"] for s in result["uncovered"]} == {
        "computer science",
        "engineering principles",
        "mechanical engineering",
        "communicate with customers",
    }


def test_skills_held_shrink_the_gap(client: TestClient, demo: dict) -> None:
    have = [
        SKILL_IRIS["battery chemistry"],
        SKILL_IRIS["battery design"],
        SKILL_IRIS["troubleshoot"],
    ]
    result = client.get(
        "/api/v1/gap", params={"job_role": "battery-system-engineer", "have": have}
    ).json()
    assert {s["iri"] for s in result["have"]} == set(have)
    assert not {m["iri"] for m in result["missing"]} & set(have)
    path = [step["course"]["slug"] for step in result["path"]]
    assert "battery-cell-chemistry-and-design" not in path
    # pack assembly now closes only "perform product testing", after the safety course
    assert path[-1] == "ev-battery-pack-assembly-and-testing"


def test_a_course_below_the_required_level_does_not_close_it(
    client: TestClient, session: Session, demo: dict
) -> None:
    token = provider_token(session, "quick-courses")
    payload = course_payload(
        slug="bms-in-a-day",
        title="BMS in a Day",
        workload_hours=8,
        ects=None,
        skills=[{"iri": SKILL_IRIS["battery management systems"], "level": "practitioner"}],
    )
    assert client.post("/api/v1/courses", json=payload, headers=bearer(token)).status_code == 201
    result = client.get("/api/v1/gap", params={"job_role": "battery-system-engineer"}).json()
    assert "bms-in-a-day" not in [step["course"]["slug"] for step in result["path"]]
    role = client.get("/api/v1/job-roles/battery-system-engineer").json()
    listed = {c["slug"]: c["teaches"] for c in role["courses"]}
    assert listed["bms-in-a-day"][0]["level"] == "practitioner"


def test_gap_by_iri_and_with_badge_skills(session: Session, demo: dict) -> None:
    iri = f"http://data.europa.eu/esco/occupation/{ENGINEER.uuid}"
    proven = [SKILL_IRIS[label] for label in ENGINEER.essential]  # as a badge layer would pass
    result = gap(session, iri, proven)
    assert [m.essential for m in result.missing] == [False] * len(ENGINEER.optional)
    assert result.job_role.slug == "battery-system-engineer"


def test_held_skills_by_slug_count_like_iris(session: Session, demo: dict) -> None:
    by_iri = gap(session, "battery-system-engineer", [SKILL_IRIS["battery chemistry"]])
    [held] = by_iri.have
    by_slug = gap(session, "battery-system-engineer", [held.slug])
    assert [s.iri for s in by_slug.have] == [held.iri]
    assert by_slug.missing == by_iri.missing
    unknown = gap(session, "battery-system-engineer", ["no-such-skill"])
    assert unknown.have == []


def test_unknown_job_role(client: TestClient, demo: dict) -> None:
    response = client.get("/api/v1/gap", params={"job_role": "astronaut"})
    assert response.status_code == 404
    assert client.get("/api/v1/gap").status_code == 422
