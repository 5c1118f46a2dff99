"""Micro-credentials through the API: every Annex I element, with controlled values as IRIs."""

from __future__ import annotations

import csv
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session

from catalogue.demo import SKILL_IRIS
from tests.support.catalogue import bearer, course_payload, micro_credential_payload, provider_token
from tests.support.reference import reference

COURSE = "thermal-management-of-battery-packs"
MC = "/api/v1/micro-credentials/thermal-management-basics"


def _with_course(client: TestClient, session: Session) -> str:
    token = provider_token(session, "thermo-academy")
    response = client.post("/api/v1/courses", json=course_payload(), headers=bearer(token))
    assert response.status_code == 201, response.text
    return token


def test_every_element_is_published_with_its_concept_iri(
    client: TestClient, session: Session, demo: dict
) -> None:
    token = _with_course(client, session)
    created = client.post(
        "/api/v1/micro-credentials", json=micro_credential_payload(COURSE), headers=bearer(token)
    )
    assert created.status_code == 201, created.text
    body = client.get(MC).json()
    assert body == created.json()
    assert body["awarding_body"]["slug"] == "thermo-academy"
    assert body["course"]["slug"] == COURSE
    assert body["country"]["iri"].endswith("/country/DEU")
    assert body["eqf_level"]["iri"] == "http://data.europa.eu/snb/eqf/5"
    assert body["credit_system"] == {
        "iri": "http://data.europa.eu/snb/education-credit/6fcec5c5af",
        "label": "European Credit Transfer System",
    }
    assert body["ects"] == 1 and body["workload_hours"] == 30
    assert body["learning_outcomes"][0]["text"].startswith("Compare air and liquid")
    assert {s["iri"] for s in body["learning_outcomes"][0]["skills"]} == {
        SKILL_IRIS["battery design"],
        SKILL_IRIS["energy storage systems"],
    }
    assert body["achievement_type"] == "MicroCredential"
    assert body["valid_for_months"] == 12
    assert body["languages"][0]["iri"].endswith("/language/ENG")

    # Each controlled value is the official concept: IRI and English label as the EU lists them.
    official = {
        row["concept_iri"]: row["pref_label_en"]
        for row in csv.DictReader(
            reference("elm", "vocabularies", "controlled-vocabularies.csv").open(encoding="utf-8")
        )
    }
    for field in (
        "country",
        "eqf_level",
        "credit_system",
        "assessment_type",
        "mode",
        "quality_assurance",
        "supervision",
        "isced_f",
    ):
        assert official[body[field]["iri"]] == body[field]["label"], field


def test_other_providers_cannot_touch_it(client: TestClient, session: Session, demo: dict) -> None:
    other = provider_token(session, "someone-else")
    bms = "/api/v1/micro-credentials/bms-engineer"
    before = client.get(bms).json()
    assert (
        client.post(
            "/api/v1/micro-credentials",
            json=micro_credential_payload("battery-management-systems-engineering"),
            headers=bearer(other),
        ).status_code
        == 403
    )
    assert client.patch(bms, json={"title": "x"}, headers=bearer(other)).status_code == 403
    assert client.delete(bms, headers=bearer(other)).status_code == 403
    assert client.patch(bms, json={"title": "x"}).status_code == 401
    assert client.get(bms).json() == before


def test_invalid_elements_are_refused(client: TestClient, session: Session, demo: dict) -> None:
    token = _with_course(client, session)
    cases: list[tuple[dict[str, Any], str | None]] = [
        ({"eqf_level": 9}, "eqf_level"),
        ({"eqf_level": 0}, "eqf_level"),
        ({"workload_hours": -1}, "workload_hours"),
        ({"ects": None, "workload_hours": None}, "workload_hours"),
        ({"assessment_type": "coin toss"}, "assessment_type"),
        (
            {"quality_assurance": "http://data.europa.eu/snb/accreditation/nope"},
            "quality_assurance",
        ),
        ({"supervision": "maybe"}, "supervision"),
        ({"learning_outcomes": []}, "learning_outcomes"),
        ({"valid_for_days": 30}, "valid_for_days"),
        ({"achievement_type": "Trophy"}, None),
        ({"stackable_towards": "no-such-credential"}, "stackable_towards"),
        ({"maximum_duration": "6 months"}, "maximum_duration"),
        ({"maximum_duration": "P"}, "maximum_duration"),
        ({"maximum_duration": "PT"}, "maximum_duration"),
        ({"maximum_duration": "P0D"}, "maximum_duration"),
        ({"maximum_duration": "P1.5M"}, "maximum_duration"),  # a fraction only in seconds
        ({"maximum_duration": "-P6M"}, "maximum_duration"),
        ({"maximum_duration": "P6M1Y"}, "maximum_duration"),  # out of order
        ({"quality_assurance_body": {"name": " "}}, "quality_assurance_body.name"),
        (
            {"quality_assurance_body": {"name": "QA", "homepage": "ftp://qa.example"}},
            "quality_assurance_body.homepage",
        ),
        (
            {"quality_assurance_body": {"name": "QA", "id": "not a uri"}},
            "quality_assurance_body.id",
        ),
        (
            {"quality_assurance_body": {"name": "QA", "country": "Atlantis"}},
            "quality_assurance_body.country",
        ),
    ]
    for change, field in cases:
        response = client.post(
            "/api/v1/micro-credentials",
            json=micro_credential_payload(COURSE, **change),
            headers=bearer(token),
        )
        assert response.status_code == 422, (change, response.text)
        if field:
            assert response.json()["error"]["details"]["field"] == field
    missing = micro_credential_payload(COURSE)
    del missing["assessment_type"]
    response = client.post("/api/v1/micro-credentials", json=missing, headers=bearer(token))
    assert response.status_code == 422
    assert client.get("/api/v1/micro-credentials", params={"course": COURSE}).json()["total"] == 0


def test_codes_or_iris_are_accepted(client: TestClient, session: Session, demo: dict) -> None:
    token = _with_course(client, session)
    payload = micro_credential_payload(
        COURSE,
        mode="http://data.europa.eu/snb/learning-assessment/e92d221e4d",
        languages=["http://publications.europa.eu/resource/authority/language/DEU"],
        country="http://publications.europa.eu/resource/authority/country/AUT",
    )
    body = client.post("/api/v1/micro-credentials", json=payload, headers=bearer(token)).json()
    assert body["mode"]["label"] == "Blended"
    assert body["languages"] == [
        {"iri": "http://publications.europa.eu/resource/authority/language/DEU", "label": "German"}
    ]
    assert body["country"]["label"] == "Austria"


def test_stacking_and_its_loops(client: TestClient, session: Session, demo: dict) -> None:
    token = provider_token(session, "voltacademy")
    stacked = client.get("/api/v1/micro-credentials/battery-cell-specialist").json()
    assert stacked["stackable_towards"]["slug"] == "bms-engineer"
    loop = client.patch(
        "/api/v1/micro-credentials/bms-engineer",
        json={"stackable_towards": "battery-cell-specialist"},
        headers=bearer(token),
    )
    assert loop.status_code == 422 and "loop" in loop.json()["error"]["message"]


def test_stacking_towards_another_providers_credential_is_refused(
    client: TestClient, session: Session, demo: dict
) -> None:
    """Stacking towards another provider's micro-credential would need its consent."""
    token = provider_token(session, "escola-mobilidade")
    url = "/api/v1/micro-credentials/ev-electrical-diagnostics"
    refused = client.patch(url, json={"stackable_towards": "bms-engineer"}, headers=bearer(token))
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert (
        error["message"].startswith("stackable_towards:")
        and "another provider" in (error["message"])
    )
    assert error["details"]["field"] == "stackable_towards"
    assert [e["field"] for e in error["details"]["errors"]] == ["stackable_towards"]
    assert client.get(url).json()["stackable_towards"] is None
    # The same organisation's own micro-credential is fine.
    volt = provider_token(session, "voltacademy")
    own = client.patch(
        "/api/v1/micro-credentials/battery-cell-specialist",
        json={"stackable_towards": "bms-engineer"},
        headers=bearer(volt),
    )
    assert own.status_code == 200, own.text


def test_patch_keeps_other_elements(client: TestClient, session: Session, demo: dict) -> None:
    token = provider_token(session, "escola-mobilidade")
    url = "/api/v1/micro-credentials/ev-electrical-diagnostics"
    before = client.get(url).json()
    patched = client.patch(
        url, json={"eqf_level": 4, "valid_for_months": None}, headers=bearer(token)
    ).json()
    assert patched["eqf_level"]["label"] == "Level 4"
    assert patched["valid_for_months"] is None
    unchanged = {"eqf_level", "valid_for_months", "updated_at"}
    assert {k: v for k, v in patched.items() if k not in unchanged} == {
        k: v for k, v in before.items() if k not in unchanged
    }


def test_maximum_duration_is_an_xsd_duration(
    client: TestClient, session: Session, demo: dict
) -> None:
    token = _with_course(client, session)
    created = client.post(
        "/api/v1/micro-credentials",
        json=micro_credential_payload(COURSE, maximum_duration=" p6m "),
        headers=bearer(token),
    )
    assert created.status_code == 201, created.text
    assert created.json()["maximum_duration"] == "P6M"
    for given, stored in (
        ("P6W", "P42D"),
        ("P1Y2M10DT2H30M", "P1Y2M10DT2H30M"),
        ("PT0.5S", "PT0.5S"),
        (None, None),
    ):
        patched = client.patch(MC, json={"maximum_duration": given}, headers=bearer(token))
        assert patched.status_code == 200, patched.text
        assert patched.json()["maximum_duration"] == stored


def test_the_quality_assurance_body(client: TestClient, session: Session, demo: dict) -> None:
    token = _with_course(client, session)
    body = {
        "name": "Akkreditierungsagentur Beispiel",
        "homepage": "https://qa.example",
        "id": "https://www.eqar.eu/register/agencies/agency/?id=999",
    }
    created = client.post(
        "/api/v1/micro-credentials",
        json=micro_credential_payload(COURSE, quality_assurance_body=body),
        headers=bearer(token),
    )
    assert created.status_code == 201, created.text
    stored = created.json()["quality_assurance_body"]
    assert stored == {  # the country: the micro-credential's when not given
        "name": body["name"],
        "country": created.json()["country"],
        "homepage": body["homepage"],
        "id": body["id"],
    }
    moved = client.patch(
        MC,
        json={"quality_assurance_body": {"name": "NVAO", "country": "NL"}},
        headers=bearer(token),
    ).json()["quality_assurance_body"]
    assert (moved["name"], moved["country"]["iri"][-3:], moved["homepage"]) == ("NVAO", "NLD", None)
    cleared = client.patch(MC, json={"quality_assurance_body": None}, headers=bearer(token))
    assert cleared.json()["quality_assurance_body"] is None


def test_vocabularies_are_published(client: TestClient) -> None:
    modes = client.get("/api/v1/vocabularies/mode").json()
    assert modes["iri"] == "http://data.europa.eu/snb/learning-assessment/25831c2"
    assert {
        "code": "online",
        "iri": "http://data.europa.eu/snb/learning-assessment/920fbb3cbe",
        "label": "Online",
    } in modes["concepts"]
    assert client.get("/api/v1/vocabularies/nope").status_code == 404
    assert set(client.get("/api/v1/vocabularies").json()) >= {"eqf", "isced-f", "assessment"}
