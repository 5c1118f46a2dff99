"""Our endorsements (issue 20), checked by the independent oracles: the Digital Bazaar stack
and `jose` (Node), openbadgeslib (PyPI), and the official 1EdTech JSON Schemas; and the award
that carries an endorsement still passes all of them. Issued through the real app."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.interop import oracles
from tests.support.reference import reference
from tests.support.world import World, make_world

pytestmark = pytest.mark.interop


def _auth(world: World) -> dict[str, str]:
    return {"authorization": f"Bearer {world.token}"}


@pytest.fixture
def worlds(session: Session, master_key: str) -> tuple[World, World]:
    provider = make_world(session, master_key)
    alliance = make_world(session, master_key, slug="alliance")
    session.commit()
    return provider, alliance


def _endorse(client: TestClient, provider: World, alliance: World) -> dict[str, Any]:
    made = client.post(
        f"/api/v1/micro-credentials/{provider.mc.slug}/endorsements",
        json={"comment": "Meets the alliance's profile.", "valid_until": "2035-01-01T00:00:00Z"},
        headers=_auth(alliance),
    )
    assert made.status_code == 201, made.text
    return made.json()


def _issue(client: TestClient, world: World, fmt: str = "ldp") -> Any:
    body = {"micro_credential": world.mc.slug, "name": "Ada Lovelace", "email": "ada@example.org"}
    made = client.post(
        f"/api/v1/issuers/{world.issuer.slug}/credentials",
        json=body | {"format": fmt},
        headers=_auth(world),
    )
    assert made.status_code == 201, made.text
    return made.json()["credential"]


def _schema_errors(document: dict[str, Any], name: str) -> list[str]:
    schema_path = reference("ob3", "schemas", "1edtech-gh-pages-2024-07", name)
    validator = jsonschema.Draft201909Validator(json.loads(schema_path.read_text()))
    return [f"{e.json_path}: {e.message}" for e in validator.iter_errors(document)]


def _jwks(client: TestClient, world: World, tmp_path: Path) -> Path:
    """The issuer's served JWKS (ES256 keys of a did:key issuer are published there)."""
    path = tmp_path / f"{world.issuer.slug}-jwks.json"
    path.write_text(client.get(f"/issuers/{world.issuer.slug}/jwks.json").text)
    return path


def _lists(client: TestClient, credential: dict[str, Any], tmp_path: Path) -> Path:
    url = credential["credentialStatus"]["statusListCredential"]
    served = client.get(urlsplit(url).path, headers={"accept": "application/ld+json"})
    assert served.status_code == 200
    path = tmp_path / "lists.json"
    path.write_text(json.dumps({url: served.json()}))
    return path


def test_digital_bazaar_verifies_the_endorsement_and_sees_it_revoked(
    client: TestClient, worlds: tuple[World, World], tmp_path: Path
) -> None:
    provider, alliance = worlds
    made = _endorse(client, provider, alliance)
    endorsement = made["credential"]
    assert _schema_errors(endorsement, "endorsementcredential.json") == []
    result = oracles.verify_di(endorsement, _lists(client, endorsement, tmp_path))
    assert result["verified"], result["error"]
    [entry] = result["status"]["entries"]
    assert entry["set"] is False
    tampered = json.loads(json.dumps(endorsement))
    tampered["credentialSubject"]["endorsementComment"] += "!"
    refused = oracles.verify_di(tampered)
    assert not refused["verified"] and "Invalid signature" in refused["error"]

    jwt = oracles.verify_jwt(made["credential_jwt"], _jwks(client, alliance, tmp_path))
    assert jwt["verified"], jwt["error"]

    revoked = client.post(f"/api/v1/endorsements/{made['uuid']}/revoke", headers=_auth(alliance))
    assert revoked.status_code == 200
    after = oracles.verify_di(endorsement, _lists(client, endorsement, tmp_path))
    [entry] = after["status"]["entries"]
    assert entry["set"] is True  # the oracle reads the endorser's list: revoked


def test_an_award_carrying_the_endorsement_passes_the_schema_and_the_oracles(
    client: TestClient, worlds: tuple[World, World], tmp_path: Path
) -> None:
    provider, alliance = worlds
    made = _endorse(client, provider, alliance)
    award = _issue(client, provider)
    assert award["credentialSubject"]["achievement"]["endorsement"] == [made["credential"]]
    assert _schema_errors(award, "achievementcredential.json") == []
    result = oracles.verify_di(award)
    assert result["verified"], result["error"]
    inner = oracles.verify_di(award["credentialSubject"]["achievement"]["endorsement"][0])
    assert inner["verified"], inner["error"]
    # A change inside the carried endorsement breaks the award's own signature too.
    tampered = json.loads(json.dumps(award))
    tampered["credentialSubject"]["achievement"]["endorsement"][0]["credentialSubject"][
        "endorsementComment"
    ] += "!"
    assert not oracles.verify_di(tampered)["verified"]

    token = _issue(client, provider, fmt="jwt")
    checked = oracles.verify_jwt(token, _jwks(client, provider, tmp_path))
    assert checked["verified"], checked["error"]
    carried = checked["payload"]["credentialSubject"]["achievement"]["endorsementJwt"]
    assert carried == [made["credential_jwt"]]
    assert _schema_errors(checked["payload"], "achievementcredential.json") == []


def test_openbadgeslib_verifies_the_endorsement_and_the_award(
    client: TestClient, worlds: tuple[World, World]
) -> None:
    """openbadgeslib's OB3LdpVerifier takes Open Badge credentials only, so the endorsement
    goes through its Data Integrity verifier (the same canonicalization and signature check)
    and its status checker (the endorser's list, as our app serves it); the award carrying
    the endorsement through the full verifier."""
    ldp = pytest.importorskip("openbadgeslib.ob3.ldp", reason="openbadgeslib[ldp] is missing")
    verifier = pytest.importorskip("openbadgeslib.ob3.verifier")
    did = pytest.importorskip("openbadgeslib.ob3.did")
    status = pytest.importorskip("openbadgeslib.ob3.status")
    from openbadges_schemas.loader import EU_MICROCREDENTIAL_V1, pinned_bytes

    provider, alliance = worlds
    made = _endorse(client, provider, alliance)
    endorsement = made["credential"]
    key = did.resolve_did(alliance.issuer.did)
    ldp.verify_data_integrity_proof(endorsement, key)
    tampered = json.loads(json.dumps(endorsement))
    tampered["credentialSubject"]["endorsementComment"] += "!"
    with pytest.raises(verifier.OB3VerificationError):
        ldp.verify_data_integrity_proof(tampered, key)

    def download(url: str) -> bytes:
        answer = client.get(urlsplit(url).path, headers={"accept": "application/vc+jwt"})
        answer.raise_for_status()
        return answer.content

    as_badge = SimpleNamespace(
        issuer=SimpleNamespace(id=alliance.issuer.did),
        credential_status=[endorsement["credentialStatus"]],
    )
    status.check_credential_status(as_badge, download, verify_list=True)
    client.post(f"/api/v1/endorsements/{made['uuid']}/revoke", headers=_auth(alliance))
    with pytest.raises(verifier.OB3VerificationError, match=r"revocation.* is set"):
        status.check_credential_status(as_badge, download, verify_list=True)

    award = _issue(client, provider)
    original = ldp.document_loader
    ours = {EU_MICROCREDENTIAL_V1: json.loads(pinned_bytes(EU_MICROCREDENTIAL_V1))}
    ldp.document_loader = lambda extra=None: original({**ours, **(extra or {})})
    try:
        assert ldp.OB3LdpVerifier().verify(json.dumps(award)).id == award["id"]
    finally:
        ldp.document_loader = original
