"""VC-API `POST /credentials/issue` through the real app (both databases): the VC Data Model
rules before signing, VC 1.1, the award rules, recording with status entries, and the
status and list tools on what it recorded."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from badges.models import IssuedCredential, StatusAllocation
from badges.proofs import eddsa_rdfc_2022, proofs_of
from keys.did import resolve_did_key
from openbadges_schemas.loader import BITSTRING_STATUS_LIST_V1, DATA_INTEGRITY_V2
from skillshub.cli import app
from skillshub.settings import Settings
from skillshub.web.app import create_app
from tests.support.world import World, make_world

BASE_URL = "http://testserver"
CREDENTIALS_V1 = "https://www.w3.org/2018/credentials/v1"
CREDENTIALS_V2 = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
VOCAB = {"@vocab": "https://skillshub.example/vocab#"}


@pytest.fixture
def world(session: Session, master_key: str) -> World:
    return make_world(session, master_key)


def _auth(world: World) -> dict[str, str]:
    return {"authorization": f"Bearer {world.token}"}


def plain_vc(issuer: str, **changes: Any) -> dict[str, Any]:
    credential: dict[str, Any] = {
        "@context": [CREDENTIALS_V2, VOCAB],
        "id": "urn:uuid:1e9c7f7a-2a4b-4c8d-9e0f-1a2b3c4d5e6f",
        "type": ["VerifiableCredential", "ExampleCredential"],
        "issuer": issuer,
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:learner", "name": "Ada", "skill": "welding"},
    }
    return credential | changes


def open_badge(issuer: str, achievement_id: str) -> dict[str, Any]:
    return {
        "@context": [CREDENTIALS_V2, OB_CONTEXT],
        "id": "urn:uuid:7b0d5c2e-3d0e-4a7e-9f5e-2f0a3c1b9d11",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": issuer, "type": ["Profile"], "name": "Volt"},
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "achievement": {
                "id": achievement_id,
                "type": ["Achievement"],
                "name": "Workshop",
                "description": "A workshop.",
                "criteria": {"narrative": "Attend."},
            },
        },
    }


def issue(client: TestClient, world: World, credential: Any, **options: Any) -> Any:
    body = {"credential": credential, "options": options}
    return client.post("/credentials/issue", json=body, headers=_auth(world))


def counts(engine: Engine) -> tuple[int, int]:
    with Session(engine) as fresh:
        credentials = fresh.exec(select(func.count()).select_from(IssuedCredential)).one()
        allocations = fresh.exec(select(func.count()).select_from(StatusAllocation)).one()
    return credentials, allocations


# --- the VC Data Model before signing -------------------------------------------------------


def _without(key: str) -> Any:
    return lambda c: {k: v for k, v in c.items() if k != key}


def _with(**changes: Any) -> Any:
    return lambda c: c | changes


NON_CONFORMING = {
    "context-without-base": (
        _with(**{"@context": [VOCAB]}),
        "VC DM 2.0 §4.3 Contexts",
        "/@context/0",
    ),
    "type-without-vc": (_with(type=["ExampleCredential"]), "VC DM 2.0 §4.5 Types", "/type"),
    "no-subject": (
        _without("credentialSubject"),
        "VC DM 2.0 §4.8 Credential Subject",
        "/credentialSubject",
    ),
    "empty-subject": (
        _with(credentialSubject={}),
        "VC DM 2.0 §4.8 Credential Subject",
        "/credentialSubject",
    ),
    "valid-from-not-a-datetimestamp": (
        _with(validFrom="Sat 25 Feb 2023 07:16:31 PM CST"),
        "VC DM 2.0 §4.9 Validity Period",
        "/validFrom",
    ),
    "valid-until-not-a-datetimestamp": (
        _with(validUntil="2027-01-01"),
        "VC DM 2.0 §4.9 Validity Period",
        "/validUntil",
    ),
    "valid-until-before-valid-from": (
        _with(validUntil="2025-12-31T23:59:59Z"),
        "VC DM 2.0 §4.9 Validity Period",
        "/validUntil",
    ),
    "status-without-type": (
        _with(credentialStatus={"id": "https://status.example/1#5"}),
        "VC DM 2.0 §4.10 Status",
        "/credentialStatus",
    ),
    "terms-of-use-without-type": (
        _with(termsOfUse=[{"id": "https://terms.example/1"}]),
        "VC DM 2.0 §5.5 Terms of Use",
        "/termsOfUse/0",
    ),
    "evidence-without-type": (
        _with(evidence=[{"id": "https://evidence.example/1"}]),
        "VC DM 2.0 §5.6 Evidence",
        "/evidence/0",
    ),
    "refresh-service-without-type": (
        _with(refreshService={"id": "https://refresh.example/1"}),
        "VC DM 2.0 §5.4 Refreshing",
        "/refreshService",
    ),
    "credential-schema-without-type": (
        _with(credentialSchema={"id": "https://schema.example/1.json"}),
        "VC DM 2.0 §4.11 Data Schemas",
        "/credentialSchema",
    ),
    "related-resource-without-digest": (
        _with(relatedResource=[{"id": CREDENTIALS_V2}]),
        "VC DM 2.0 §5.3 Integrity of Related Resources",
        "/relatedResource/0",
    ),
    "related-resource-bad-digest-sri": (
        _with(relatedResource=[{"id": CREDENTIALS_V2, "digestSRI": "sha384-tooShort"}]),
        "VC DM 2.0 §5.3 Integrity of Related Resources",
        "/relatedResource/0/digestSRI",
    ),
    "related-resource-bad-digest-multibase": (
        _with(relatedResource=[{"id": CREDENTIALS_V2, "digestMultibase": "uEiBZlVzt"}]),
        "VC DM 2.0 §5.3 Integrity of Related Resources",
        "/relatedResource/0/digestMultibase",
    ),
    "issuer-null": (_with(issuer=None), "VC DM 2.0 §4.7 Issuer", "/issuer"),
    "issuer-absent": (_without("issuer"), "VC DM 2.0 §4.7 Issuer", "/issuer"),
}


@pytest.mark.parametrize("case", NON_CONFORMING, ids=NON_CONFORMING)
def test_a_non_conforming_credential_is_400_naming_the_rule_and_nothing_is_signed(
    client: TestClient, world: World, engine: Engine, case: str
) -> None:
    change, rule, path = NON_CONFORMING[case]
    before = counts(engine)
    response = issue(client, world, change(plain_vc(world.issuer.did)))
    assert response.status_code == 400, response.text
    body = response.json()
    # RFC 9457 problem details (VC DM 2.0 §7.2) and our error object, side by side.
    assert body["status"] == 400
    assert body["type"].startswith("https://www.w3.org/TR/vc-data-model#")
    assert body["error"]["code"] == "non_conforming_credential"
    assert (rule, path) in [(e["rule"], e["path"]) for e in body["errors"]], body
    assert rule in body["detail"]
    assert counts(engine) == before  # no record, no status index taken


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"verifiableCredential": {}}, "the request must be a JSON object with a credential"),
        ({"credential": "text"}, "not a conforming credential: VC DM 2.0 §6 Syntaxes"),
        ({"credential": None, "options": {}}, "not a conforming credential"),
    ],
)
def test_a_request_without_a_credential_object_is_400(
    client: TestClient, world: World, body: Any, message: str
) -> None:
    response = client.post("/credentials/issue", json=body, headers=_auth(world))
    assert response.status_code == 400, response.text
    assert response.json()["error"]["message"].startswith(message)


def test_an_undefined_term_is_400_and_unauthenticated_is_401(
    client: TestClient, world: World
) -> None:
    bad = open_badge(world.issuer.did, "https://volt.example/a/1") | {"undefinedTerm": 1}
    response = issue(client, world, bad)
    assert response.status_code == 400 and "undefinedTerm" in response.json()["detail"]
    credential = open_badge(world.issuer.did, "https://volt.example/a/1")
    assert client.post("/credentials/issue", json={"credential": credential}).status_code == 401


# --- VC 1.1 ------------------------------------------------------------------------------------


def test_vc_1_1_is_signed_as_such_under_the_data_integrity_context(
    client: TestClient, world: World
) -> None:
    v1 = {k: v for k, v in plain_vc(world.issuer.did).items() if k != "validFrom"}
    v1 |= {"@context": [CREDENTIALS_V1, VOCAB], "issuanceDate": "2026-01-01T00:00:00Z"}
    response = issue(client, world, v1)
    assert response.status_code == 201, response.text
    signed = response.json()["verifiableCredential"]
    # The status list context (our entry's terms) and the DI context (the proof's) are added.
    assert signed["@context"] == [
        CREDENTIALS_V1,
        VOCAB,
        BITSTRING_STATUS_LIST_V1,
        DATA_INTEGRITY_V2,
    ]
    assert signed["issuanceDate"] == "2026-01-01T00:00:00Z" and "validFrom" not in signed
    assert signed["credentialStatus"]["type"] == "BitstringStatusListEntry"
    verified = client.post("/credentials/verify", json={"verifiableCredential": signed}).json()
    assert verified["verified"] is True, verified
    assert [w["check"] for w in verified["warnings"]] == ["format"]  # VC 1.1: legacy
    missing = {k: v for k, v in v1.items() if k != "issuanceDate"}
    refused = issue(client, world, missing)
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["rule"] == "VC DM 1.1 §4.6-4.7 Issuance Date and Expiration"


# --- the award rules ---------------------------------------------------------------------------


def test_another_organisations_micro_credential_is_403(
    client: TestClient, world: World, session: Session, master_key: str, engine: Engine
) -> None:
    """Organisation A's token cannot sign B's micro-credential under A's issuer, as the
    issuing API refuses; A's own micro-credential is fine and is linked to the record."""
    other = make_world(session, master_key, slug="otherco")
    theirs = f"{BASE_URL}/micro-credentials/{other.mc.slug}"
    before = counts(engine)
    refused = issue(client, world, open_badge(world.issuer.did, theirs))
    assert refused.status_code == 403, refused.text
    message = refused.json()["error"]["message"]
    assert (
        message
        == f"micro-credential {other.mc.slug!r} is not awarded by issuer {world.issuer.slug!r}"
    )
    api = client.post(
        f"/api/v1/issuers/{world.issuer.slug}/credentials",
        json={"micro_credential": other.mc.slug, "name": "Ada", "email": "ada@example.org"},
        headers=_auth(world),
    )
    assert api.status_code == 403 and api.json()["error"]["message"] == message
    assert counts(engine) == before
    ours = f"{BASE_URL}/micro-credentials/{world.mc.slug}"
    response = issue(client, world, open_badge(world.issuer.did, ours))
    assert response.status_code == 201, response.text
    uuid = response.headers["location"].rsplit("/", 1)[1]
    with Session(engine) as fresh:
        record = fresh.exec(select(IssuedCredential).where(IssuedCredential.uuid == uuid)).one()
    assert record.micro_credential_id == world.mc.id and record.source == "vc-api"


def test_issuer_and_ids_of_this_deployment_are_not_the_callers(
    client: TestClient, world: World, session: Session, master_key: str
) -> None:
    other = make_world(session, master_key, slug="otherco")
    achievement = "https://volt.example/a/1"
    assert issue(client, world, open_badge(other.issuer.did, achievement)).status_code == 403
    contradicting = issue(
        client, world, open_badge("did:key:z6MkSomeoneElse", achievement), issuer=world.issuer.slug
    )
    assert contradicting.status_code == 400
    assert "declares" in contradicting.json()["error"]["message"]
    ours = open_badge(world.issuer.did, achievement) | {"id": f"{BASE_URL}/credentials/x"}
    assert issue(client, world, ours).status_code == 403
    entry = {
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "3",
        "statusListCredential": f"{BASE_URL}/status/{other.issuer.slug}/revocation/1",
    }
    borrowed = open_badge(world.issuer.did, achievement) | {"credentialStatus": entry}
    response = issue(client, world, borrowed)
    assert response.status_code == 403
    assert "options.credentialStatus" in response.json()["error"]["message"]


# --- recorded, with status ---------------------------------------------------------------------


def test_a_vc_api_credential_is_recorded_with_a_status_entry_and_can_be_revoked(
    client: TestClient, world: World, engine: Engine
) -> None:
    response = issue(client, world, plain_vc(world.issuer.did))
    assert response.status_code == 201, response.text
    signed = response.json()["verifiableCredential"]
    [proof] = proofs_of(signed)
    _, key = resolve_did_key(proof["verificationMethod"])
    assert eddsa_rdfc_2022.verify_proof(signed, proof, key).ok
    entry = signed["credentialStatus"]  # SKILLSHUB_STATUS_PURPOSES: revocation by default
    assert (entry["type"], entry["statusPurpose"]) == ("BitstringStatusListEntry", "revocation")

    # Listed and looked up like any issued credential, by its UUID.
    listed = client.get("/api/v1/credentials", params={"source": "vc-api"}, headers=_auth(world))
    [item] = listed.json()["items"]
    assert (item["credential_id"], item["source"]) == (signed["id"], "vc-api")
    assert item["micro_credential"] is None and item["recipient_email"] is None
    assert response.headers["location"] == f"/api/v1/credentials/{item['id']}"
    got = client.get(response.headers["location"], headers=_auth(world)).json()
    assert (got["source"], got["revoked"], got["micro_credential"]) == ("vc-api", False, "")

    def verify() -> dict[str, Any]:
        return client.post("/credentials/verify", json={"verifiableCredential": signed}).json()

    assert verify()["verified"] is True
    revoked = client.post(f"/api/v1/credentials/{item['id']}/revoke", headers=_auth(world))
    assert revoked.status_code == 200 and revoked.json()["revoked"] is True
    after = verify()
    assert after["verified"] is False
    assert [(e["check"], e["title"]) for e in after["errors"]] == [
        ("status", "STATUS_VERIFICATION_ERROR")
    ]


def test_options_credential_status_asks_for_suspension_and_vc_api_status_suspends(
    client: TestClient, world: World
) -> None:
    asked = {"type": "BitstringStatusListEntry", "statusPurpose": ["revocation", "suspension"]}
    response = issue(client, world, plain_vc(world.issuer.did), credentialStatus=asked)
    assert response.status_code == 201, response.text
    signed = response.json()["verifiableCredential"]
    assert [e["statusPurpose"] for e in signed["credentialStatus"]] == ["revocation", "suspension"]

    def status(purpose: str, value: bool) -> Any:
        body = {
            "credentialId": signed["id"],  # the id it was issued with
            "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": purpose},
            "status": value,
        }
        return client.post("/credentials/status", json=body, headers=_auth(world))

    assert status("suspension", True).json()["suspended"] is True
    suspended = client.post("/credentials/verify", json={"verifiableCredential": signed}).json()
    assert suspended["verified"] is False and "suspended" in suspended["errors"][0]["detail"]
    assert status("suspension", False).json()["suspended"] is False
    assert status("revocation", True).json()["revoked"] is True
    assert status("revocation", False).status_code == 409  # revocation is final


def test_options_credential_id_names_a_credential_that_has_no_id(
    client: TestClient, world: World
) -> None:
    anonymous = {k: v for k, v in plain_vc(world.issuer.did).items() if k != "id"}
    options = {
        "credentialId": "urn:example:batch-7/ada",
        "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "suspension"},
    }
    signed = issue(client, world, anonymous, **options).json()["verifiableCredential"]
    assert "id" not in signed and signed["credentialStatus"]["statusPurpose"] == "suspension"
    body = {
        "credentialId": "urn:example:batch-7/ada",
        "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "suspension"},
        "status": True,
    }
    changed = client.post("/credentials/status", json=body, headers=_auth(world))
    assert changed.status_code == 200, changed.text
    assert changed.json()["suspended"] is True


@pytest.mark.parametrize(
    "asked",
    [
        {"type": "StatusList2021Entry"},
        {"type": "BitstringStatusListEntry", "statusPurpose": "message"},
        "revocation",
    ],
)
def test_options_credential_status_that_cannot_be_honoured_is_400(
    client: TestClient, world: World, engine: Engine, asked: Any
) -> None:
    before = counts(engine)
    response = issue(client, world, plain_vc(world.issuer.did), credentialStatus=asked)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["message"].startswith("options.credentialStatus")
    assert counts(engine) == before


def test_the_default_purposes_follow_the_setting(
    settings: Settings, engine: Engine, world: World
) -> None:
    both = settings.model_copy(update={"status_purposes": ("revocation", "suspension")})
    with TestClient(create_app(both, engine=engine)) as client:
        signed = issue(client, world, plain_vc(world.issuer.did)).json()["verifiableCredential"]
    assert [e["statusPurpose"] for e in signed["credentialStatus"]] == ["revocation", "suspension"]


def test_the_cli_finds_a_vc_api_credential_by_its_id(
    client: TestClient, world: World, db_url: str, master_key: str, tmp_path: Path
) -> None:
    asked = {"type": "BitstringStatusListEntry", "statusPurpose": ["revocation", "suspension"]}
    signed = issue(client, world, plain_vc(world.issuer.did), credentialStatus=asked).json()[
        "verifiableCredential"
    ]
    env = {
        "SKILLSHUB_DATABASE_URL": db_url,
        "SKILLSHUB_MASTER_KEY": master_key,
        "SKILLSHUB_DATA_DIR": str(tmp_path / "data"),
        "SKILLSHUB_BASE_URL": BASE_URL,
    }
    runner = CliRunner()
    europass = runner.invoke(app, ["export-europass", signed["id"]], env=env)
    assert europass.exit_code != 0
    assert "signed through the VC-API" in " ".join(europass.output.split())
    suspended = runner.invoke(app, ["revoke", signed["id"], "--suspend"], env=env)
    assert suspended.exit_code == 0, suspended.output
    assert "is now suspended" in suspended.output
    baked = runner.invoke(
        app, ["bake", signed["id"], "--svg", "--out", str(tmp_path / "b.svg")], env=env
    )
    assert baked.exit_code == 0, baked.output
    assert json.dumps(signed["proof"]["proofValue"])[1:-1] in (tmp_path / "b.svg").read_text()
