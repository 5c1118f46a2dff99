"""Search through the API: ranking, prefixes, filters, pagination, and the index kept in step."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from catalogue import search, skills
from catalogue.demo import COURSES, MICRO_CREDENTIALS, SKILL_IRIS, SKILLS
from catalogue.errors import InvalidInput
from tests.support.catalogue import bearer, course_payload, provider_token


def _search(client: TestClient, **params: Any) -> dict:
    response = client.get("/api/v1/search", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def _slugs(page: dict) -> list[str]:
    return [hit["slug"] for hit in page["items"]]


def test_title_matches_rank_above_body_matches(
    client: TestClient, session: Session, demo: dict
) -> None:
    token = provider_token(session, "recycling-school")
    for slug, title, description in (
        ("workshop-safety", "Workshop Safety", "Includes a short part on lithium recycling."),
        ("lithium-recycling", "Lithium Recycling", "Recovering metals."),
    ):
        payload = course_payload(slug=slug, title=title, description=description, skills=[])
        assert (
            client.post("/api/v1/courses", json=payload, headers=bearer(token)).status_code == 201
        )
    page = _search(client, q="lithium recycling")
    assert _slugs(page) == ["lithium-recycling", "workshop-safety"]
    assert page["items"][0]["score"] > page["items"][1]["score"]
    assert page["items"][0]["kind"] == "course" and page["items"][1]["summary"].startswith("Incl")


def test_words_match_as_prefixes_and_all_must_match(client: TestClient, demo: dict) -> None:
    found = _search(client, q="batt managem", kind="skill")
    assert _slugs(found) == ["battery-management-systems"]
    assert _search(client, q="battery zebra")["total"] == 0
    assert _search(client, q="   ")["total"] == len(SKILLS) + 3 + len(COURSES) + len(
        MICRO_CREDENTIALS
    )


def test_filters(client: TestClient, demo: dict) -> None:
    eqf4 = _search(client, kind="course", eqf_level=4)
    assert set(_slugs(eqf4)) == {
        "high-voltage-safety-for-ev-technicians",
        "ev-battery-pack-assembly-and-testing",
    }
    online = _search(client, mode="online")
    assert set(_slugs(online)) == {
        "battery-management-systems-engineering",
        "engineering-project-management-for-e-mobility",
        "bms-engineer",
        "e-mobility-project-manager",
    }
    portuguese = _search(client, language="pt")
    assert {h["kind"] for h in portuguese["items"]} == {"course", "micro_credential"}
    assert portuguese["total"] == 4
    assert _search(client, language="POR")["total"] == 4  # the EU authority code works too
    assert _search(client, country="NL")["total"] == 4
    assert _search(client, provider="escola-mobilidade", kind="micro_credential")["total"] == 2
    bms = _search(client, skill=SKILL_IRIS["battery management systems"])
    assert {(h["kind"], h["slug"]) for h in bms["items"]} == {
        ("skill", "battery-management-systems"),
        ("course", "battery-management-systems-engineering"),
        ("micro_credential", "bms-engineer"),
        ("job_role", "battery-system-engineer"),
        ("job_role", "automotive-battery-technician"),
    }
    both = _search(client, q="engineer", skill="battery-management-systems", kind="job_role")
    assert _slugs(both) == ["battery-system-engineer"]


def test_bad_filters_are_4xx(client: TestClient, demo: dict) -> None:
    for params in (
        {"eqf_level": 9},
        {"mode": "telepathic"},
        {"kind": "planet"},
        {"provider": "nobody"},
        {"skill": "http://data.europa.eu/esco/skill/nope"},
        {"language": "xx"},
        {"per_page": 1000},
        {"page": 0},
    ):
        response = client.get("/api/v1/search", params=params)
        assert response.status_code == 422, params


def test_pagination_walks_every_entry_once(client: TestClient, demo: dict) -> None:
    seen: list[str] = []
    first = _search(client, kind="skill", per_page=15)
    assert first["total"] == len(SKILLS)
    assert first["pages"] == -(-len(SKILLS) // 15)
    for page in range(1, first["pages"] + 1):
        items = _search(client, kind="skill", per_page=15, page=page)["items"]
        assert len(items) == min(15, len(SKILLS) - 15 * (page - 1))
        seen += [h["slug"] for h in items]
    assert len(seen) == len(set(seen)) == len(SKILLS)
    beyond = _search(client, kind="skill", per_page=15, page=99)
    assert beyond["items"] == [] and beyond["total"] == len(SKILLS)


def test_a_page_past_any_database_integer_is_4xx(
    client: TestClient, session: Session, demo: dict
) -> None:
    """An offset too large for SQL was a 500 (found by schemathesis); every list refuses it."""
    lists = ("search", "skills", "job-roles", "courses", "micro-credentials")
    for name in lists:
        huge = client.get(f"/api/v1/{name}", params={"page": 10**25})
        assert huge.status_code == 422, (name, huge.text)
        assert huge.json()["error"]["code"] == "invalid_input"
        last = client.get(f"/api/v1/{name}", params={"page": search.MAX_PAGE, "per_page": 100})
        assert last.status_code == 200, (name, last.text)
        assert last.json()["items"] == []
    assert client.get("/search", params={"page": 10**25}).status_code == 422
    # The services refuse it too, whoever calls them.
    with pytest.raises(InvalidInput) as refused:
        skills.list_skills(session, page=search.MAX_PAGE + 1)
    assert refused.value.details == {"field": "page"}


def test_index_follows_writes(client: TestClient, session: Session, demo: dict) -> None:
    token = provider_token(session, "emobility-institute")
    slug = "high-voltage-safety-for-ev-technicians"
    assert slug in _slugs(_search(client, q="technicians", kind="course"))
    patched = client.patch(
        f"/api/v1/courses/{slug}",
        json={"title": "Insulated Tools Masterclass"},
        headers=bearer(token),
    )
    assert patched.status_code == 200
    assert slug in _slugs(_search(client, q="masterclass"))
    assert slug not in _slugs(_search(client, q="technicians", kind="course"))
    assert client.delete(f"/api/v1/courses/{slug}", headers=bearer(token)).status_code == 204
    assert _search(client, q="masterclass")["total"] == 0
    assert "hv-safety-certificate" not in _slugs(_search(client, q="certificate"))
