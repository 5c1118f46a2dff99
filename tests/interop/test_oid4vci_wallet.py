"""OpenID4VCI 1.0 end to end with an independent wallet: @openid4vc/openid4vci (OpenWallet
Foundation's oid4vc-ts, npm) takes the offer the learner's badge page shows as a QR code,
redeems the pre-authorized code, gets a nonce, signs its key proof and receives the credential
from a live server. The credential is then checked by the Digital Bazaar stack (Data Integrity
and Bitstring Status List) or `jose` (VC-JWT), and by our own verifier; revoking the award
revokes the wallet's copy.

The server's BASE_URL is https://hub.test (OpenID4VCI wants an https Credential Issuer
Identifier); the wallet script fetches those URLs from the local test server.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from badges.proofs import vc_jwt
from keys.did import did_key_from_public_key
from keys.jwk import jwk_to_public_key
from keys.multikey import MultikeyPublicKey
from skillshub.settings import Settings
from skillshub.web import csrf
from skillshub.web.app import create_app
from tests.badges.sharing.test_learner import _outbox
from tests.interop import oracles
from tests.interop.test_digitalbazaar import _served_lists
from tests.support.app import app_of
from tests.support.present import present
from tests.support.qr import read_qr
from tests.support.world import World, make_world

pytestmark = pytest.mark.interop

HUB = "https://hub.test"


@pytest.fixture
def hub_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"base_url": HUB})


@pytest.fixture
def live_app(hub_settings: Settings, engine: Engine) -> FastAPI:
    """The app the live server (tests/browser.py) serves: this test's BASE_URL."""
    return create_app(hub_settings, engine=engine)


@pytest.fixture
def hub(live_app: FastAPI) -> Iterator[TestClient]:
    """The learner's browser on the same app (https, so the secure cookies go back)."""
    with TestClient(live_app, base_url=HUB) as client:
        yield client


@pytest.fixture
def world(session: Session, master_key: str) -> World:
    return make_world(session, master_key)


def _issue(client: TestClient, world: World, fmt: str = "ldp") -> dict[str, Any]:
    body = {
        "micro_credential": world.mc.slug,
        "name": "Ada Lovelace",
        "email": "ada@example.org",
        "format": fmt,
    }
    response = client.post(
        f"/api/v1/issuers/{world.issuer.slug}/credentials",
        json=body,
        headers={"authorization": f"Bearer {world.token}"},
    )
    assert response.status_code == 201, response.text
    return response.json()


def _offer_from_the_qr_code(client: TestClient, credential_id: str, tx_code: bool) -> str:
    """What the learner's phone reads: the QR code on the offer page, decoded."""
    form = {"tx_code": "1"} if tx_code else {}
    manage = client.get(f"/credentials/{credential_id}/manage")
    assert manage.status_code == 200, manage.text
    page = client.post(f"/credentials/{credential_id}/manage/wallet", data=form | _csrf(client))
    assert page.status_code == 200, page.text
    [data] = re.findall(r'src="data:image/png;base64,([^"]+)"', page.text)
    text = read_qr(base64.b64decode(data))
    assert text.startswith("openid-credential-offer://?credential_offer_uri=https%3A%2F%2Fhub.test")
    return text


def _mailed_tx_code(settings: Settings) -> str:
    message = _outbox(settings)[-1]
    text = present(message.get_body(("plain",))).get_content()
    [code] = re.findall(r"^\s+(\d{6})$", text, flags=re.MULTILINE)
    return code


def _holder_did(result: dict[str, Any]) -> str:
    holder = result["holder"]
    if holder["did"]:
        return holder["did"]
    key = jwk_to_public_key(holder["jwk"])
    assert isinstance(key, MultikeyPublicKey), key  # the wallet's key: Ed25519 or P-256
    return did_key_from_public_key(key)


def _claimed(hub: TestClient, world: World, settings: Settings, fmt: str) -> str:
    out = _issue(hub, world, fmt)
    text = present(_outbox(settings)[-1].get_body(("plain",))).get_content()
    [link] = re.findall(rf"{HUB}/credentials/\S+/claim\?token=\S+", text)
    parts = urlsplit(link)
    assert (
        hub.get(f"{parts.path}?{parts.query}", headers={"accept": "text/html"}).status_code == 200
    )
    token = parse_qs(parts.query)["token"][0]
    claimed = hub.post(parts.path, data={"token": token} | _csrf(hub), follow_redirects=False)
    assert claimed.status_code == 303, claimed.text
    return out["id"]


def _csrf(client: TestClient) -> dict[str, str]:
    """The form field of a page served over https (the __Host- cookie; tests.support.csrf
    covers http)."""
    nonce = client.cookies.get(csrf.SECURE_COOKIE)
    assert nonce, "the page set no CSRF cookie"
    return {csrf.FIELD: csrf.token_for(app_of(client).state.master_key, nonce)}


@pytest.mark.parametrize(
    ("configuration", "key"), [("ldp_vc", "ed25519-did"), ("jwt_vc_json", "p256-jwk")]
)
def test_an_independent_wallet_receives_a_bound_credential_that_verifies_and_revokes(
    hub: TestClient,
    live_server: str,
    world: World,
    hub_settings: Settings,
    tmp_path: Path,
    configuration: str,
    key: str,
) -> None:
    credential_id = _claimed(hub, world, hub_settings, "ldp")
    offer = _offer_from_the_qr_code(hub, credential_id, tx_code=False)
    config_id = f"{world.mc.slug}_{configuration}"
    result = oracles.wallet_oid4vci(
        HUB, live_server, {"offer": offer, "configuration": config_id, "key": key, "replay": True}
    )
    assert result["verified"], result
    assert result["replay"] == "invalid_grant"  # the code works once, for any client
    assert result["token_type"] == "Bearer"
    assert result["configuration"]["format"] == configuration
    assert result["configuration"]["credential_metadata"]["display"][0]["name"] == world.mc.title
    [credential] = result["credentials"]
    holder = _holder_did(result)
    original = hub.get(f"/credentials/{credential_id}/download").json()

    if configuration == "ldp_vc":
        assert credential["credentialSubject"]["id"] == holder
        assert credential["credentialStatus"] == original["credentialStatus"]
        lists = tmp_path / "lists.json"
        lists.write_text(json.dumps(_served_lists(hub, credential)))
        checked = oracles.verify_di(credential, lists)
        assert checked["verified"], checked["error"]
        assert [e["set"] for e in checked["status"]["entries"]] == [False]
    else:
        header, payload = vc_jwt.decode_unverified(credential)
        assert header["alg"] == "ES256" and header["typ"] == "JWT"
        assert payload["sub"] == holder and payload["credentialSubject"]["id"] == holder
        assert payload["credentialStatus"] == original["credentialStatus"]
        jwks = tmp_path / "jwks.json"
        jwks.write_text(hub.get(f"/issuers/{world.issuer.slug}/jwks.json").text)
        checked = oracles.verify_jwt(credential, jwks)
        assert checked["verified"], checked["error"]
    ours = _our_verdict(hub, credential)
    assert ours["verdict"] == "valid", ours

    revoked = hub.post(
        f"/api/v1/credentials/{credential_id}/revoke",
        json={"reason": "issued in error"},
        headers={"authorization": f"Bearer {world.token}"},
    )
    assert revoked.status_code == 200, revoked.text
    after = _our_verdict(hub, credential)
    assert after["verdict"] != "valid" and "revoked" in json.dumps(after).lower()
    if configuration == "ldp_vc":
        lists.write_text(json.dumps(_served_lists(hub, credential)))
        checked = oracles.verify_di(credential, lists)
        assert [e["set"] for e in checked["status"]["entries"]] == [True]


def _our_verdict(client: TestClient, credential: dict[str, Any] | str) -> dict[str, Any]:
    if isinstance(credential, str):
        response = client.post(
            "/api/v1/verify", content=credential, headers={"content-type": "application/jwt"}
        )
    else:
        response = client.post("/api/v1/verify", json=credential)
    assert response.status_code == 200, response.text
    return response.json()


def test_the_wallet_needs_the_mailed_transaction_code(
    hub: TestClient, live_server: str, world: World, hub_settings: Settings
) -> None:
    credential_id = _claimed(hub, world, hub_settings, "jwt")
    offer = _offer_from_the_qr_code(hub, credential_id, tx_code=True)
    tx_code = _mailed_tx_code(hub_settings)
    config_id = f"{world.mc.slug}_ldp_vc"
    wrong = "000000" if tx_code != "000000" else "111111"
    refused = oracles.wallet_oid4vci(
        HUB, live_server, {"offer": offer, "configuration": config_id, "tx_code": wrong}
    )
    assert not refused["verified"] and refused["error_code"] == "invalid_grant", refused
    taken = oracles.wallet_oid4vci(
        HUB, live_server, {"offer": offer, "configuration": config_id, "tx_code": tx_code}
    )
    assert taken["verified"], taken
    [credential] = taken["credentials"]
    assert credential["credentialSubject"]["id"] == _holder_did(taken)
    assert _our_verdict(hub, credential)["verdict"] == "valid"
