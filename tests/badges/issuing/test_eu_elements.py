"""Issue 18: the OB 3.0 credential carries the Council Recommendation's elements: EQF and
ISCED-F alignments, outcome statements, our pinned extension (context + JSON Schema, served
by the app, checked by our verifier), an image always, awardedDate, evidence with genre."""

from __future__ import annotations

import copy
import json
from typing import Any

import jsonschema
from fastapi.testclient import TestClient
from sqlmodel import Session

from badges.issuing import service as issuing
from catalogue import vocabularies
from catalogue.models import MicroCredential
from openbadges_schemas import eu_microcredential
from openbadges_schemas.loader import EU_MICROCREDENTIAL_V1, pinned_bytes
from tests.support.present import one
from tests.support.reference import reference
from tests.support.world import World


def _issue(client: TestClient, world: World, **fields: str) -> dict:
    body = {"micro_credential": world.mc.slug, "name": "Ada Lovelace", "email": "ada@example.org"}
    response = client.post(
        f"/api/v1/issuers/{world.issuer.slug}/credentials",
        json=body | fields,
        headers={"authorization": f"Bearer {world.token}"},
    )
    assert response.status_code == 201, response.text
    return response.json()["credential"]


def _official_errors(credential: dict) -> list[str]:
    path = reference("ob3", "schemas", "1edtech-gh-pages-2024-07", "achievementcredential.json")
    validator = jsonschema.Draft201909Validator(json.loads(path.read_text()))
    return [f"{e.json_path}: {e.message}" for e in validator.iter_errors(credential)]


def test_the_credential_carries_the_eu_elements(client: TestClient, world: World) -> None:
    credential = _issue(client, world, grade="B")
    achievement = credential["credentialSubject"]["achievement"]
    by_type: dict[str, list[dict[str, Any]]] = {}
    for alignment in achievement["alignment"]:
        by_type.setdefault(alignment["targetType"], []).append(alignment)

    (eqf,) = by_type["ext:EQFLevel"]
    assert eqf["targetUrl"] == "http://data.europa.eu/snb/eqf/5" and eqf["targetCode"] == "5"
    (isced,) = by_type["ext:ISCEDF"]
    assert isced["targetUrl"] == vocabularies.concept("isced-f", "0716").iri
    assert isced["targetCode"] == "0716"
    (outcome,) = by_type["ext:LearningOutcome"]
    assert outcome["targetName"] == "Maintain HV batteries"
    assert "Maintain HV batteries" in achievement["criteria"]["narrative"]
    assert by_type["ceasn:Competency"][0]["targetFramework"] == "ESCO"

    eu = achievement["euMicroCredential"]
    assert eu["type"] == "EUMicroCredential"
    assert (eu["ectsCredits"], eu["workloadHours"]) == (3, 75)
    assert eu["formOfParticipation"]["id"] == vocabularies.concept("mode", "online").iri
    assert eu["assessmentType"]["prefLabel"]  # the stored code, even outside the vocabulary
    assert eu["qualityAssurance"]["prefLabel"]
    assert "creditsAvailable" not in achievement  # OB 3.0 credit hours, not ECTS

    assert credential["awardedDate"] == credential["validFrom"]
    assert (
        achievement["image"]["id"] == f"http://testserver/micro-credentials/{world.mc.slug}/image"
    )
    (evidence,) = credential["evidence"]
    assert evidence["narrative"].endswith("result: B.") and evidence["genre"]

    assert EU_MICROCREDENTIAL_V1 in credential["@context"]
    assert [s["id"] for s in credential["credentialSchema"]] == [
        issuing.OB_SCHEMA_URL,
        eu_microcredential.SCHEMA_URL,
    ]
    assert eu_microcredential.problems(credential) == []
    assert _official_errors(credential) == []


def test_our_schema_catches_a_missing_element(client: TestClient, world: World) -> None:
    credential = _issue(client, world)
    broken = copy.deepcopy(credential)
    del broken["credentialSubject"]["achievement"]["euMicroCredential"]["assessmentType"]
    assert any("assessmentType" in p for p in eu_microcredential.problems(broken))
    worse = copy.deepcopy(credential)
    del worse["credentialSubject"]["achievement"]["image"]
    assert any("image" in p for p in eu_microcredential.problems(worse))


def test_the_maximum_duration_is_in_the_extension_and_signed(
    client: TestClient, world: World, session: Session
) -> None:
    mc = one(session, MicroCredential, world.mc.id)
    mc.maximum_duration = "P6M"
    session.add(mc)
    session.commit()
    credential = _issue(client, world)
    eu = credential["credentialSubject"]["achievement"]["euMicroCredential"]
    assert eu["maximumDuration"] == "P6M"
    assert eu_microcredential.problems(credential) == [] and _official_errors(credential) == []
    # The term is in the pinned context (ELM's IRI, typed xsd:duration): the proof covers it.
    body = client.post("/api/v1/verify", json=credential).json()
    assert body["verdict"] == "valid", body["checks"]
    context = json.loads(pinned_bytes(EU_MICROCREDENTIAL_V1))["@context"]
    assert (
        context["maximumDuration"]["@id"] == "http://data.europa.eu/snb/model/elm/maximumDuration"
    )
    tampered = copy.deepcopy(credential)
    tampered["credentialSubject"]["achievement"]["euMicroCredential"]["maximumDuration"] = "P7M"
    assert client.post("/api/v1/verify", json=tampered).json()["verdict"] != "valid"
    broken = copy.deepcopy(credential)
    broken["credentialSubject"]["achievement"]["euMicroCredential"]["maximumDuration"] = "6 months"
    assert any("6 months" in p for p in eu_microcredential.problems(broken))


def test_the_quality_assurance_body_is_in_the_extension_and_signed(
    client: TestClient, world: World, session: Session
) -> None:
    mc = one(session, MicroCredential, world.mc.id)
    mc.quality_assurance_body_name = "Example Quality Agency"
    mc.quality_assurance_body_homepage = "https://quality.example"
    mc.quality_assurance_body_uri = "urn:example:qa:1"
    session.add(mc)
    session.commit()
    credential = _issue(client, world)
    body = credential["credentialSubject"]["achievement"]["euMicroCredential"][
        "qualityAssuranceBody"
    ]
    assert body == {
        "id": "urn:example:qa:1",
        "type": ["Profile"],
        "name": "Example Quality Agency",
        "url": "https://quality.example",
        "address": {"type": ["Address"], "addressCountryCode": world.mc.country},
    }
    assert eu_microcredential.problems(credential) == [] and _official_errors(credential) == []
    verdict = client.post("/api/v1/verify", json=credential).json()
    assert verdict["verdict"] == "valid", verdict["checks"]
    tampered = copy.deepcopy(credential)
    tampered["credentialSubject"]["achievement"]["euMicroCredential"]["qualityAssuranceBody"][
        "name"
    ] = "Another Agency"
    assert client.post("/api/v1/verify", json=tampered).json()["verdict"] != "valid"
    nameless = copy.deepcopy(credential)
    del nameless["credentialSubject"]["achievement"]["euMicroCredential"]["qualityAssuranceBody"][
        "name"
    ]
    assert any("name" in p for p in eu_microcredential.problems(nameless))


def test_our_verifier_checks_the_eu_schema(client: TestClient, world: World) -> None:
    credential = _issue(client, world)
    body = client.post("/api/v1/verify", json=credential).json()
    assert body["verdict"] == "valid", body["checks"]
    checks = {c["id"]: c["status"] for c in body["checks"]}
    assert checks["eu_schema"] == "ok" and "credential_schema" not in checks


def test_the_app_serves_the_pinned_context_and_schema(client: TestClient) -> None:
    context = client.get(eu_microcredential.CONTEXT_PATH)
    assert context.status_code == 200 and context.content == pinned_bytes(EU_MICROCREDENTIAL_V1)
    assert context.headers["content-type"].startswith("application/ld+json")
    schema = client.get(eu_microcredential.SCHEMA_PATH)
    assert schema.status_code == 200 and schema.content == eu_microcredential.schema_bytes()
    assert json.loads(schema.content)["$id"] == eu_microcredential.SCHEMA_URL


def test_without_an_upload_the_image_is_the_drawn_default(
    client: TestClient, world: World, session: Session
) -> None:
    mc = session.get(MicroCredential, world.mc.id)
    assert mc is not None and mc.badge_image_url is None
    credential = _issue(client, world)
    url = credential["credentialSubject"]["achievement"]["image"]["id"]
    response = client.get(url.removeprefix("http://testserver"))
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    assert response.content.startswith(b"\x89PNG")
    again = client.get(url, headers={"if-none-match": response.headers["etag"]})
    assert again.status_code == 304
