"""Catalogue JSON export and import through the API: round trip, conflicts, all or nothing."""

from __future__ import annotations

import copy

from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.support.catalogue import bearer, provider_token


def _counts(client: TestClient) -> tuple[int, int]:
    return (
        client.get("/api/v1/courses").json()["total"],
        client.get("/api/v1/micro-credentials").json()["total"],
    )


def test_export_and_reimport(client: TestClient, session: Session, demo: dict) -> None:
    token = provider_token(session, "emobility-institute")
    assert client.get("/api/v1/catalogue/export").status_code == 401
    document = client.get("/api/v1/catalogue/export", headers=bearer(token)).json()
    assert document["format"] == "skillshub-catalogue" and document["version"] == 1
    assert document["organisation"]["slug"] == "emobility-institute"
    assert [len(c["micro_credentials"]) for c in document["courses"]] == [1, 1]
    before = {
        slug: client.get(f"/api/v1/micro-credentials/{slug}").json()
        for slug in ("hv-safety-certificate", "battery-pack-assembler")
    }
    summary = client.post("/api/v1/catalogue/import", json=document, headers=bearer(token))
    assert summary.status_code == 200, summary.text
    assert summary.json() == {
        "courses_created": 0,
        "courses_updated": 2,
        "micro_credentials_created": 0,
        "micro_credentials_updated": 2,
    }
    for slug, view in before.items():
        after = client.get(f"/api/v1/micro-credentials/{slug}").json()
        assert {k: v for k, v in after.items() if k != "updated_at"} == {
            k: v for k, v in view.items() if k != "updated_at"
        }


def test_import_is_all_or_nothing(client: TestClient, session: Session, demo: dict) -> None:
    owner = provider_token(session, "emobility-institute")
    document = client.get("/api/v1/catalogue/export", headers=bearer(owner)).json()
    other = provider_token(session, "newcomer", country="FR")
    counts = _counts(client)

    clash = client.post("/api/v1/catalogue/import", json=document, headers=bearer(other))
    assert clash.status_code == 409
    assert _counts(client) == counts

    renamed = copy.deepcopy(document)
    for course in renamed["courses"]:
        course["slug"] = "fr-" + course["slug"]
        for mc in course["micro_credentials"]:
            mc["slug"] = "fr-" + mc["slug"]
    renamed["courses"][1]["micro_credentials"][0]["eqf_level"] = 9
    bad = client.post("/api/v1/catalogue/import", json=renamed, headers=bearer(other))
    assert bad.status_code == 422 and bad.json()["error"]["details"]["field"] == "eqf_level"
    assert _counts(client) == counts

    renamed["courses"][1]["micro_credentials"][0]["eqf_level"] = 4
    good = client.post("/api/v1/catalogue/import", json=renamed, headers=bearer(other))
    assert good.status_code == 200, good.text
    assert _counts(client) == (counts[0] + 2, counts[1] + 2)
    copy_view = client.get(f"/api/v1/courses/{renamed['courses'][0]['slug']}").json()
    assert copy_view["provider"]["slug"] == "newcomer"

    wrong = client.post(
        "/api/v1/catalogue/import", json={"format": "other", "courses": []}, headers=bearer(other)
    )
    assert wrong.status_code == 422
    malformed = client.post(
        "/api/v1/catalogue/import", json={"courses": [{"title": 3}]}, headers=bearer(other)
    )
    assert malformed.status_code == 422
