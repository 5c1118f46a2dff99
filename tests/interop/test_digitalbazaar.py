"""Our credentials and status lists, checked by the Digital Bazaar stack and `jose` (Node).

Everything is issued through the real app; the Node scripts resolve contexts from our pinned
files and keys from did:key (or the JWKS we serve) only, never from the network.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from badges.proofs import vc_jwt
from badges.status import bitstring
from skillshub.settings import Settings
from skillshub.web.app import create_app
from tests.interop import oracles
from tests.support.world import World, make_world

pytestmark = pytest.mark.interop


def _auth(world: World) -> dict[str, str]:
    return {"authorization": f"Bearer {world.token}"}


def _issue(client: TestClient, world: World, **fields: Any) -> dict[str, Any]:
    oracles.require_node()
    body = {"micro_credential": world.mc.slug, "name": "Ada Lovelace", "email": "ada@example.org"}
    response = client.post(
        f"/api/v1/issuers/{world.issuer.slug}/credentials", json=body | fields, headers=_auth(world)
    )
    assert response.status_code == 201, response.text
    return response.json()


def _entries(credential: dict[str, Any]) -> list[dict[str, Any]]:
    status = credential["credentialStatus"]
    return status if isinstance(status, list) else [status]


@pytest.fixture
def both(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    """The app issuing revocation and suspension entries (SKILLSHUB_STATUS_PURPOSES)."""
    update = {"status_purposes": ("revocation", "suspension")}
    with TestClient(create_app(settings.model_copy(update=update), engine=engine)) as client:
        yield client


def _served_lists(client: TestClient, credential: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every list credential the credential points at, as the app serves it (JSON-LD)."""
    urls = {entry["statusListCredential"] for entry in _entries(credential)}
    lists = {}
    for url in urls:
        response = client.get(url, headers={"accept": "application/ld+json"})
        assert response.status_code == 200, response.text
        lists[url] = response.json()
    return lists


def _entry(credential: dict[str, Any], purpose: str) -> dict[str, Any]:
    return next(e for e in _entries(credential) if e["statusPurpose"] == purpose)


def _other_char(char: str) -> str:
    """A different character of the same kind, so the change keeps the value well-formed."""
    if char.isdigit():
        return str((int(char) + 1) % 10)
    return "b" if char == "a" else "a"


def _one_char_changes(credential: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Copies of the credential, each with exactly one character changed somewhere signed."""

    def changed(path: tuple[str | int, ...], index: int) -> dict[str, Any]:
        copy = json.loads(json.dumps(credential))
        parent = copy
        for key in path[:-1]:
            parent = parent[key]
        text = parent[path[-1]]
        index %= len(text)
        parent[path[-1]] = text[:index] + _other_char(text[index]) + text[index + 1 :]
        return copy

    return [
        ("achievement name", changed(("credentialSubject", "achievement", "name"), 1)),
        ("issuer name", changed(("issuer", "name"), -1)),
        ("identity hash", changed(("credentialSubject", "identifier", 0, "identityHash"), -1)),
        ("status index", changed(("credentialStatus", "statusListIndex"), -1)),
        ("valid from", changed(("validFrom",), -2)),
        ("proof value", changed(("proof", 0, "proofValue"), 10)),
    ]


def test_our_di_credential_verifies_and_any_one_character_change_fails(
    client: TestClient, world: World
) -> None:
    credential = _issue(client, world, grade="A", evidence_url="https://portfolio.example/ada")[
        "credential"
    ]
    result = oracles.verify_di(credential)
    assert result["verified"], result["error"]
    [proof] = result["proofs"]
    assert proof["verificationMethod"] == credential["proof"][0]["verificationMethod"]
    assert result["status"] == {"checked": False, "verified": True, "error": None, "entries": []}
    for where, tampered in _one_char_changes(credential):
        assert tampered != credential
        refused = oracles.verify_di(tampered)
        assert not refused["verified"], f"a change in the {where} still verifies"
        assert "Invalid signature" in refused["error"], (where, refused["error"])


def test_status_list_verifies_decodes_and_shows_exactly_the_revoked_bit(
    both: TestClient, world: World, tmp_path: Path
) -> None:
    client = both
    out = _issue(client, world)
    credential = out["credential"]
    revocation = _entry(credential, "revocation")
    before = _served_lists(client, credential)[revocation["statusListCredential"]]
    checked_before = oracles.verify_status_list(before)
    assert checked_before["verified"], checked_before["error"]
    assert checked_before["statusPurpose"] == "revocation"
    assert checked_before["list"] == {"length": bitstring.MIN_LIST_BITS, "set": []}

    response = client.post(
        f"/api/v1/credentials/{out['id']}/revoke", json={"reason": "fraud"}, headers=_auth(world)
    )
    assert response.status_code == 200, response.text
    lists_after = _served_lists(client, credential)
    after = lists_after[revocation["statusListCredential"]]
    checked_after = oracles.verify_status_list(after)
    assert checked_after["verified"], checked_after["error"]
    # Only the revoked credential's bit changed between the two served lists.
    assert checked_after["list"]["set"] == [int(revocation["statusListIndex"])]
    assert after["credentialSubject"]["encodedList"] != before["credentialSubject"]["encodedList"]

    # The full status check of the credential itself, lists resolved from what we served.
    lists_file = tmp_path / "lists.json"
    lists_file.write_text(json.dumps(lists_after))
    result = oracles.verify_di(credential, lists_file)
    assert result["verified"], result["error"]
    states = {e["purpose"]: (e["index"], e["set"]) for e in result["status"]["entries"]}
    assert states == {
        "revocation": (revocation["statusListIndex"], True),
        "suspension": (_entry(credential, "suspension")["statusListIndex"], False),
    }


def test_a_tampered_status_list_fails(client: TestClient, world: World) -> None:
    credential = _issue(client, world)["credential"]
    served = next(iter(_served_lists(client, credential).values()))
    ours = bytearray(bitstring.decode(served["credentialSubject"]["encodedList"]))
    bitstring.set_bit(ours, 7, True)
    served["credentialSubject"]["encodedList"] = bitstring.encode(bytes(ours))
    result = oracles.verify_status_list(served)
    assert not result["verified"]
    assert result["list"]["set"] == [7]  # it decodes, but the proof no longer covers it


def test_our_jwt_verifies_with_jose_through_the_jwks_es256_by_default(
    client: TestClient, world: World, tmp_path: Path
) -> None:
    """A did:key issuer's ES256 token (its P-256 key, did:key:zDn…) through the JWKS we
    serve; jose picks the key by kid and checks the signature."""
    token = _issue(client, world, format="jwt")["credential"]
    jwks = tmp_path / "jwks.json"
    jwks.write_text(client.get(f"/issuers/{world.issuer.slug}/jwks.json").text)
    _, claims = vc_jwt.decode_unverified(token)
    result = oracles.verify_jwt(token, jwks)
    assert result["verified"], result["error"]
    assert result["header"]["alg"] == "ES256" and result["header"]["kid"].startswith("did:key:zDn")
    assert result["payload"] == claims
    header, payload, signature = token.split(".")
    flipped = payload[:-1] + ("A" if payload[-1] != "A" else "B")
    for tampered in (f"{header}.{flipped}.{signature}", token[:-3] + "AAA"):
        assert not oracles.verify_jwt(tampered, jwks)["verified"]


def test_our_eddsa_jwt_verifies_with_jose_through_did_key_and_jwks(
    settings: Settings, engine: Engine, world: World, tmp_path: Path
) -> None:
    eddsa = settings.model_copy(update={"jwt_algorithm": "EdDSA"})
    with TestClient(create_app(eddsa, engine=engine)) as client:
        token = _issue(client, world, format="jwt")["credential"]
        jwks = tmp_path / "jwks.json"
        jwks.write_text(client.get("/.well-known/jwks.json").text)
    _, claims = vc_jwt.decode_unverified(token)
    for result in (oracles.verify_jwt(token), oracles.verify_jwt(token, jwks)):
        assert result["verified"], result["error"]
        assert result["header"]["alg"] == "EdDSA"
        assert result["payload"] == claims
    header, payload, signature = token.split(".")
    flipped = payload[:-1] + ("A" if payload[-1] != "A" else "B")
    for tampered in (f"{header}.{flipped}.{signature}", token[:-3] + "AAA"):
        assert not oracles.verify_jwt(tampered)["verified"]
        assert not oracles.verify_jwt(tampered, jwks)["verified"]


def test_es256_jwt_of_a_did_web_issuer_verifies_with_jose_through_the_served_jwks(
    client: TestClient, world: World, session: Session, master_key: str, tmp_path: Path
) -> None:
    web = make_world(session, master_key, slug="webacademy", public_https=True)
    token = _issue(client, web, format="jwt")["credential"]
    jwks = tmp_path / "jwks.json"
    jwks.write_text(client.get(f"/issuers/{web.issuer.slug}/jwks.json").text)
    result = oracles.verify_jwt(token, jwks)
    assert result["verified"], result["error"]
    assert result["header"]["alg"] == "ES256"
    assert result["payload"]["iss"] == web.issuer.did
    # Another issuer's (valid) JWKS does not hold the key.
    other = tmp_path / "other.json"
    other.write_text(client.get(f"/issuers/{world.issuer.slug}/jwks.json").text)
    refused = oracles.verify_jwt(token, other)
    assert not refused["verified"] and "ERR_JWKS_NO_MATCHING_KEY" in refused["error"]


# --- VC-API: plain VC 2.0, VC 1.1 and proof chains ------------------------------------------


def _vc_api(client: TestClient, world: World, credential: dict[str, Any]) -> dict[str, Any]:
    oracles.require_node()
    response = client.post(
        "/credentials/issue", json={"credential": credential, "options": {}}, headers=_auth(world)
    )
    assert response.status_code == 201, response.text
    return response.json()["verifiableCredential"]


PLAIN = {
    "id": "urn:uuid:3f1f8f7e-6b55-4c8a-8d2e-5d6c7b8a9e10",
    "type": ["VerifiableCredential", "ExampleCredential"],
    "credentialSubject": {"id": "did:example:learner", "skill": "welding"},
}
VOCAB = {"@vocab": "https://skillshub.example/vocab#"}


@pytest.mark.parametrize("version", ["2.0", "1.1"])
def test_vc_api_credentials_verify_with_digital_bazaar(
    client: TestClient, world: World, tmp_path: Path, version: str
) -> None:
    """What /credentials/issue signs, a plain VC 2.0 or a VC 1.1 credential (signed under the
    Data Integrity context our issuer adds), with its status list, checked by the oracle."""
    if version == "2.0":
        base = {"@context": ["https://www.w3.org/ns/credentials/v2", VOCAB]}
        dates = {"validFrom": "2026-01-01T00:00:00Z"}
    else:
        base = {"@context": ["https://www.w3.org/2018/credentials/v1", VOCAB]}
        dates = {"issuanceDate": "2026-01-01T00:00:00Z"}
    signed = _vc_api(client, world, base | PLAIN | dates | {"issuer": world.issuer.did})
    lists_file = tmp_path / "lists.json"
    lists_file.write_text(json.dumps(_served_lists(client, signed)))
    result = oracles.verify_di(signed, lists_file)
    assert result["verified"], result["error"]
    assert [e["purpose"] for e in result["status"]["entries"]] == ["revocation"]
    tampered = json.loads(json.dumps(signed))
    tampered["credentialSubject"]["skill"] = "weldinh"
    assert not oracles.verify_di(tampered)["verified"]


def test_the_eu_extension_with_a_quality_assurance_body_and_duration_verifies(
    client: TestClient, world: World, session: Session
) -> None:
    """The extension's newer terms (qualityAssuranceBody as an OB Profile, maximumDuration)
    expand in Digital Bazaar's JSON-LD too: the proof covers them and a change breaks it."""
    from catalogue.models import MicroCredential

    mc = session.get(MicroCredential, world.mc.id)
    assert mc is not None
    mc.maximum_duration = "P6M"
    mc.quality_assurance_body_name = "Example Quality Agency"
    mc.quality_assurance_body_homepage = "https://quality.example"
    mc.quality_assurance_body_uri = "urn:example:qa:1"
    session.add(mc)
    session.commit()
    credential = _issue(client, world)["credential"]
    result = oracles.verify_di(credential)
    assert result["verified"], result["error"]
    tampered = json.loads(json.dumps(credential))
    eu = tampered["credentialSubject"]["achievement"]["euMicroCredential"]
    eu["qualityAssuranceBody"]["address"]["addressCountryCode"] = "FR"
    refused = oracles.verify_di(tampered)
    assert not refused["verified"] and "Invalid signature" in refused["error"]
