"""VC-API verification over HTTP (the real app): any VC 2.0/1.1, proof sets and chains, JSON
text refused, and `POST /presentations/verify` (authentication, challenge, domain, holder)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from badges.proofs.eddsa_rdfc_2022 import create_proof
from skillshub.settings import Settings
from skillshub.web.app import create_app
from tests.support.own import Signer, credential

VOCAB = {"@vocab": "https://skillshub.example/vocab#"}


@pytest.fixture
def web(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    with TestClient(
        create_app(settings.model_copy(update={"fetch_offline": True}), engine=engine)
    ) as client:
        yield client


def plain_vc(issuer: str, *, v1: bool = False) -> dict[str, Any]:
    document: dict[str, Any] = {
        "@context": [
            "https://www.w3.org/2018/credentials/v1"
            if v1
            else "https://www.w3.org/ns/credentials/v2",
            VOCAB,
        ],
        "id": "urn:uuid:5c2e0a43-6f9e-4d3a-9d0b-7a8c1b2d3e4f",
        "type": ["VerifiableCredential", "ExampleCredential"],
        "issuer": issuer,
        "credentialSubject": {"id": "did:example:learner", "skill": "welding"},
    }
    document["issuanceDate" if v1 else "validFrom"] = "2025-01-01T00:00:00Z"
    return document


def verify(web: TestClient, document: Any) -> Any:
    return web.post("/credentials/verify", json={"verifiableCredential": document, "options": {}})


@pytest.mark.parametrize("v1", [False, True], ids=["vc-2.0", "vc-1.1"])
def test_a_plain_vc_verifies_and_the_ob_structure_is_only_informative(
    web: TestClient, v1: bool
) -> None:
    signer = Signer.ed25519()
    signed = signer.data_integrity(plain_vc(signer.did, v1=v1))
    response = verify(web, signed)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["verified"] is True and body["errors"] == []
    assert {"proof", "issuer_key", "vc_data_model"} <= set(body["checks"])
    checks = {c["id"]: c for c in body["report"]["checks"]}
    assert checks["structure"]["status"] == "skipped"
    assert checks["structure"]["message"].startswith("not an Open Badge")
    version = "1.1" if v1 else "2.0"
    assert body["report"]["summary"]["credential_kind"] == (
        f"Verifiable Credential (VC Data Model {version})"
    )
    # VC 1.1 is a legacy format, and an unknown did:key issuer is unvouched: warnings, as
    # problem details.
    assert [w["check"] for w in body["warnings"]] == [*(["format"] if v1 else []), "issuer_trust"]


def test_an_open_badge_still_needs_the_ob_structure(web: TestClient) -> None:
    signer = Signer.ed25519()
    badge = credential(signer.did)
    del badge["credentialSubject"]["achievement"]
    body = verify(web, signer.data_integrity(badge)).json()
    assert body["verified"] is False
    [error] = body["errors"]
    assert error["check"] == "structure"
    assert error["type"] == "https://www.w3.org/TR/vc-data-model#MALFORMED_VALUE_ERROR"


def test_a_credential_given_as_json_text_is_an_error(web: TestClient) -> None:
    signer = Signer.ed25519()
    text = json.dumps(signer.data_integrity(plain_vc(signer.did)))
    response = verify(web, text)
    assert response.status_code == 422
    assert response.json()["error"]["message"].startswith(
        "verifiableCredential must be a JSON object, not JSON text in a string"
    )
    # /api/v1/verify, the same rule; a compact JWS in a string stays welcome.
    assert web.post("/api/v1/verify", json={"credential": text}).status_code == 422
    token = signer.jwt(credential(signer.did))
    assert verify(web, token).json()["verified"] is True


def test_an_enveloped_vc_jwt_is_verified(web: TestClient) -> None:
    signer = Signer.ed25519()
    token = signer.jwt(credential(signer.did))
    enveloped = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": "EnvelopedVerifiableCredential",
        "id": f"data:application/vc+jwt,{token}",
    }
    assert verify(web, enveloped).json()["verified"] is True


def test_proof_sets_and_chains(web: TestClient) -> None:
    issuer, witness = Signer.ed25519(), Signer.ed25519()
    first = create_proof(plain_vc(issuer.did), signer=issuer.signer, proof_id="urn:uuid:p1")
    chained = create_proof(first, signer=witness.signer, previous_proof="urn:uuid:p1")
    body = verify(web, chained).json()
    assert body["verified"] is True, body
    proof = next(c for c in body["report"]["checks"] if c["id"] == "proof")
    assert proof["message"].startswith("all 2 proofs of the set verified")
    # Every proof must verify: a witness proof over something else fails the credential.
    broken = json.loads(json.dumps(chained))
    broken["proof"][1]["created"] = "2020-01-01T00:00:00Z"
    errors = verify(web, broken).json()["errors"]
    assert [e["check"] for e in errors] == ["proof"], errors
    assert errors[0]["detail"].startswith("proof 2 of 2:")
    # A previousProof naming no proof of the set is an error, not ignored.
    dangling = json.loads(json.dumps(chained))
    dangling["proof"][1]["previousProof"] = "urn:uuid:nowhere"
    [error] = verify(web, dangling).json()["errors"]
    assert error["detail"].endswith("previousProof names no proof of the set: urn:uuid:nowhere")


# --- presentations ------------------------------------------------------------------------


def presentation(holder: Signer, credentials: list[Any], **proof: Any) -> dict[str, Any]:
    document = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "holder": holder.did,
        "verifiableCredential": credentials,
    }
    options = {
        "proof_purpose": "authentication",
        "challenge": "c-123",
        "domain": "verifier.example",
    }
    return create_proof(document, signer=holder.signer, **(options | proof))


def verify_vp(web: TestClient, vp: Any, **options: Any) -> Any:
    return web.post(
        "/presentations/verify", json={"verifiablePresentation": vp, "options": options}
    )


def test_a_presentation_and_its_credentials_verify(web: TestClient) -> None:
    issuer, holder = Signer.ed25519(), Signer.ed25519()
    vc = issuer.data_integrity(credential(issuer.did))
    vp = presentation(holder, [vc])
    response = verify_vp(web, vp, challenge="c-123", domain="verifier.example")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["verified"] is True and body["errors"] == []
    assert {"vc_data_model", "jsonld", "proof", "holder_key"} <= set(body["checks"])
    [report] = body["report"]["credentials"]
    assert report["verdict"] == "valid"


@pytest.mark.parametrize(
    ("options", "proof", "check", "detail"),
    [
        ({"challenge": "other"}, {}, "proof", "INVALID_CHALLENGE_ERROR"),
        ({"domain": "elsewhere.example"}, {}, "proof", "INVALID_DOMAIN_ERROR"),
        ({"challenge": "c-123"}, {"challenge": None}, "proof", "INVALID_CHALLENGE_ERROR"),
        ({}, {"proof_purpose": "assertionMethod"}, "proof", "expected authentication"),
    ],
)
def test_the_presentation_proof_must_be_the_expected_one(
    web: TestClient, options: dict[str, Any], proof: dict[str, Any], check: str, detail: str
) -> None:
    holder = Signer.ed25519()
    vp = presentation(holder, [], **proof)
    body = verify_vp(web, vp, **options).json()
    assert body["verified"] is False
    assert any(e["check"] == check and detail in e["detail"] for e in body["errors"]), body


def test_the_holder_must_have_made_the_proof(web: TestClient) -> None:
    holder, stranger = Signer.ed25519(), Signer.ed25519()
    vp = presentation(stranger, [])
    vp_claiming = {**{k: v for k, v in vp.items() if k != "proof"}, "holder": holder.did}
    forged = create_proof(vp_claiming, signer=stranger.signer, proof_purpose="authentication")
    body = verify_vp(web, forged).json()
    assert body["verified"] is False
    [error] = body["errors"]
    assert error["check"] == "holder_key" and "not to the holder" in error["detail"]


def test_an_invalid_credential_makes_the_presentation_invalid(web: TestClient) -> None:
    issuer, holder = Signer.ed25519(), Signer.ed25519()
    vc = issuer.data_integrity(credential(issuer.did))
    vc["name"] = "Something else"  # after signing
    body = verify_vp(web, presentation(holder, [vc])).json()
    assert body["verified"] is False
    assert [(e["check"], e["credential"]) for e in body["errors"]] == [("proof", 0)]


def test_presentations_in_json_text_or_unsigned_are_refused(web: TestClient) -> None:
    holder = Signer.ed25519()
    text = json.dumps(presentation(holder, []))
    response = verify_vp(web, text)
    assert response.status_code == 422
    assert "verifiablePresentation must be a JSON object" in response.json()["error"]["message"]
    unsigned = {k: v for k, v in json.loads(text).items() if k != "proof"}
    body = verify_vp(web, unsigned).json()
    assert [(e["check"], e["detail"]) for e in body["errors"]] == [
        ("proof", "the presentation has no proof")
    ]
    no_context = {k: v for k, v in json.loads(text).items() if k != "@context"}
    body = verify_vp(web, no_context).json()
    assert body["verified"] is False and body["errors"][0]["check"] == "vc_data_model"


def test_the_page_says_which_kind_of_credential_it_looked_at(web: TestClient) -> None:
    signer = Signer.ed25519()
    plain = signer.data_integrity(plain_vc(signer.did))
    page = web.post("/verify", data={"credential": json.dumps(plain)})
    assert page.status_code == 200
    assert '<dd id="kind">Verifiable Credential (VC Data Model 2.0)</dd>' in page.text
    badge = signer.data_integrity(credential(signer.did))
    page = web.post("/verify", data={"credential": json.dumps(badge)})
    assert '<dd id="kind">Open Badges 3.0 credential (VC Data Model 2.0)</dd>' in page.text
