"""Courses through the API: public reads, token-scoped writes, validation that changes nothing."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session

from catalogue.demo import SKILL_IRIS
from tests.support.catalogue import bearer, course_payload, provider_token


def test_create_read_update_patch_delete(client: TestClient, session: Session, demo: dict) -> None:
    token = provider_token(session, "thermo-academy")
    created = client.post("/api/v1/courses", json=course_payload(), headers=bearer(token))
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["provider"]["slug"] == "thermo-academy"
    assert body["country"] == {
        "iri": "http://publications.europa.eu/resource/authority/country/DEU",
        "label": "Germany",
    }
    assert body["mode"]["iri"] == "http://data.europa.eu/snb/learning-assessment/920fbb3cbe"
    assert body["eqf_level"] == {"iri": "http://data.europa.eu/snb/eqf/5", "label": "Level 5"}
    assert [lang["iri"].rsplit("/", 1)[1] for lang in body["languages"]] == ["ENG", "DEU"]
    assert body["isced_f"]["iri"] == "http://data.europa.eu/snb/isced-f/0713"
    assert body["price"] == {"amount": "199.00", "currency": "EUR"}
    assert {s["iri"]: s["level"] for s in body["skills"]} == {
        SKILL_IRIS["battery design"]: "practitioner",
        SKILL_IRIS["energy storage systems"]: "awareness",
    }

    public = client.get("/api/v1/courses/thermal-management-of-battery-packs")
    assert public.status_code == 200 and public.json()["title"] == body["title"]
    listed = client.get("/api/v1/courses", params={"provider": "thermo-academy"}).json()
    assert listed["total"] == 1 and listed["items"][0]["slug"] == body["slug"]

    replaced = client.put(
        "/api/v1/courses/thermal-management-of-battery-packs",
        json=course_payload(title="Battery Thermal Management", skills=[]),
        headers=bearer(token),
    )
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["title"] == "Battery Thermal Management"
    assert replaced.json()["skills"] == []

    patched = client.patch(
        "/api/v1/courses/thermal-management-of-battery-packs",
        json={"eqf_level": 6, "mode": "blended"},
        headers=bearer(token),
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["eqf_level"]["label"] == "Level 6"
    assert patched.json()["mode"]["label"] == "Blended"
    assert patched.json()["title"] == "Battery Thermal Management"

    gone = client.delete(
        "/api/v1/courses/thermal-management-of-battery-packs", headers=bearer(token)
    )
    assert gone.status_code == 204
    assert client.get("/api/v1/courses/thermal-management-of-battery-packs").status_code == 404


def test_writes_need_a_token_of_the_owner(client: TestClient, session: Session, demo: dict) -> None:
    assert client.post("/api/v1/courses", json=course_payload()).status_code == 401
    other = provider_token(session, "someone-else")
    slug = "battery-cell-chemistry-and-design"
    before = client.get(f"/api/v1/courses/{slug}").json()
    for response in (
        client.put(
            f"/api/v1/courses/{slug}", json=course_payload(slug=slug), headers=bearer(other)
        ),
        client.patch(f"/api/v1/courses/{slug}", json={"title": "Mine"}, headers=bearer(other)),
        client.delete(f"/api/v1/courses/{slug}", headers=bearer(other)),
    ):
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "forbidden"
    assert client.get(f"/api/v1/courses/{slug}").json() == before
    missing = client.delete("/api/v1/courses/nope", headers=bearer(other))
    assert missing.status_code == 404


def test_bad_input_is_refused_and_changes_nothing(
    client: TestClient, session: Session, demo: dict
) -> None:
    token = provider_token(session, "voltacademy")
    slug = "battery-cell-chemistry-and-design"
    before = client.get(f"/api/v1/courses/{slug}").json()
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"eqf_level": 9}, 422, "eqf_level"),
        ({"workload_hours": -5}, 422, "workload_hours"),
        ({"ects": -1}, 422, "ects"),
        ({"mode": "telepathic"}, 422, "mode"),
        ({"isced_f": "0717"}, 422, "isced_f"),
        ({"languages": ["en", "xx"]}, 422, "languages"),
        ({"skills": [{"iri": "http://data.europa.eu/esco/skill/nope"}]}, 422, "skills"),
        ({"slug": "battery-management-systems-engineering"}, 409, "slug"),
        ({"url": "javascript:alert(1)"}, 422, "url"),
        # Past the cents column on PostgreSQL, past any SQL integer: both were a 500.
        ({"price": {"amount": 30_000_000, "currency": "EUR"}}, 422, "price"),
        ({"price": {"amount": "5.8e288", "currency": "EUR"}}, 422, "price"),
    ]
    for change, status, field in cases:
        response = client.put(
            f"/api/v1/courses/{slug}",
            json=course_payload(**{"slug": slug, **change}),
            headers=bearer(token),
        )
        assert response.status_code == status, (change, response.text)
        error = response.json()["error"]
        assert error["details"]["field"] == field, error
        assert client.get(f"/api/v1/courses/{slug}").json() == before

    created = client.post("/api/v1/courses", json=course_payload(slug=slug), headers=bearer(token))
    assert created.status_code == 409
    assert client.get("/api/v1/courses", params={"provider": "voltacademy"}).json()["total"] == 2


def test_eqf_nine_message_is_clear(client: TestClient, session: Session, demo: dict) -> None:
    token = provider_token(session, "thermo-academy")
    response = client.post(
        "/api/v1/courses", json=course_payload(eqf_level=9), headers=bearer(token)
    )
    assert response.status_code == 422
    assert "1 to 8" in response.json()["error"]["message"]
    assert client.get("/api/v1/courses/thermal-management-of-battery-packs").status_code == 404


def test_slug_made_from_title_when_missing(
    client: TestClient, session: Session, demo: dict
) -> None:
    token = provider_token(session, "thermo-academy")
    first = client.post(
        "/api/v1/courses",
        json=course_payload(slug=None, title="Battery Cell Chemistry and Design"),
        headers=bearer(token),
    )
    assert first.status_code == 201
    assert first.json()["slug"] == "battery-cell-chemistry-and-design-2"


def test_deleting_a_course_deletes_its_micro_credentials(
    client: TestClient, session: Session, demo: dict
) -> None:
    token = provider_token(session, "voltacademy")
    slug = "battery-management-systems-engineering"
    assert client.delete(f"/api/v1/courses/{slug}", headers=bearer(token)).status_code == 204
    assert client.get("/api/v1/micro-credentials/bms-engineer").status_code == 404
    stacked = client.get("/api/v1/micro-credentials/battery-cell-specialist").json()
    assert stacked["stackable_towards"] is None
    hits = client.get("/api/v1/search", params={"q": "management systems engineer"}).json()
    assert "bms-engineer" not in {h["slug"] for h in hits["items"]}
