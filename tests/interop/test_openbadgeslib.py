"""Our credentials, checked by openbadgeslib (PyPI) as an independent verifier.

Issued through the real app. openbadgeslib resolves did:key offline; every other fetch it
makes (a did:web document, a status list) goes through an injected `download` that asks
our app, so nothing touches the network.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from cryptography.hazmat.primitives import serialization
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from badges.proofs import vc_jwt
from keys.jwk import jwk_to_public_key
from skillshub.settings import Settings
from skillshub.web.app import create_app
from tests.support.world import World, make_world

ldp = pytest.importorskip("openbadgeslib.ob3.ldp", reason="openbadgeslib[ldp] is not installed")
verifier = pytest.importorskip("openbadgeslib.ob3.verifier")
OB3VerificationError = verifier.OB3VerificationError

pytestmark = pytest.mark.interop


def _auth(world: World) -> dict[str, str]:
    return {"authorization": f"Bearer {world.token}"}


def _issue(client: TestClient, world: World, **fields: Any) -> dict[str, Any]:
    body = {"micro_credential": world.mc.slug, "name": "Ada Lovelace", "email": "ada@example.org"}
    response = client.post(
        f"/api/v1/issuers/{world.issuer.slug}/credentials", json=body | fields, headers=_auth(world)
    )
    assert response.status_code == 201, response.text
    return response.json()


def _download_from(client: TestClient) -> tuple[Callable[[str], bytes], list[str]]:
    """openbadgeslib's `download`, answered by our app (status lists as VC-JWT), and a log."""
    fetched: list[str] = []

    def download(url: str) -> bytes:
        fetched.append(url)
        response = client.get(urlsplit(url).path, headers={"accept": "application/vc+jwt"})
        response.raise_for_status()
        return response.content

    return download, fetched


def _tampered(credential: dict[str, Any]) -> dict[str, Any]:
    copy = json.loads(json.dumps(credential))
    name = copy["credentialSubject"]["achievement"]["name"]
    copy["credentialSubject"]["achievement"]["name"] = name[:-1] + ("X" if name[-1] != "X" else "Y")
    return copy


def _pem_from_jwks(jwks: dict[str, Any], kid: str) -> bytes:
    [jwk] = [k for k in jwks["keys"] if k["kid"] == kid]
    return jwk_to_public_key(jwk).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def test_openbadgeslib_verifies_our_di_credential_and_refuses_a_tampered_one(
    client: TestClient, world: World
) -> None:
    credential = _issue(client, world, grade="A")["credential"]
    for checker in (ldp.OB3LdpVerifier(), ldp.OB3LdpVerifier.for_issuer_did(world.issuer.did)):
        verified = checker.verify(json.dumps(credential))
        assert verified.issuer.id == world.issuer.did
        assert verified.id == credential["id"]
        with pytest.raises(OB3VerificationError):
            checker.verify(json.dumps(_tampered(credential)))


@pytest.fixture
def both(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    """The app issuing revocation and suspension entries (SKILLSHUB_STATUS_PURPOSES)."""
    update = {"status_purposes": ("revocation", "suspension")}
    with TestClient(create_app(settings.model_copy(update=update), engine=engine)) as client:
        yield client


def test_openbadgeslib_verifies_the_default_single_status_entry(
    client: TestClient, world: World
) -> None:
    credential = json.dumps(_issue(client, world)["credential"])
    download, fetched = _download_from(client)
    ldp.OB3LdpVerifier().verify(credential, check_status=True, download=download)
    assert [urlsplit(url).path.split("/")[3] for url in fetched] == ["revocation"]


def test_openbadgeslib_sees_revocation_and_suspension_in_our_signed_lists(
    both: TestClient, world: World
) -> None:
    client = both
    out = _issue(client, world)
    credential = json.dumps(out["credential"])
    download, fetched = _download_from(client)
    checker = ldp.OB3LdpVerifier()
    checker.verify(credential, check_status=True, download=download)  # list proofs verified too
    assert {urlsplit(url).path.split("/")[3] for url in fetched} == {"revocation", "suspension"}

    def change(action: str) -> None:
        response = client.post(f"/api/v1/credentials/{out['id']}/{action}", headers=_auth(world))
        assert response.status_code == 200, response.text

    change("suspend")
    with pytest.raises(OB3VerificationError, match="'suspension' is set"):
        checker.verify(credential, check_status=True, download=download)
    change("unsuspend")
    checker.verify(credential, check_status=True, download=download)
    change("revoke")
    with pytest.raises(OB3VerificationError, match="'revocation' is set"):
        checker.verify(credential, check_status=True, download=download)


def test_openbadgeslib_verifies_our_es256_jwt_through_the_served_jwks(
    client: TestClient, world: World
) -> None:
    """ES256 by default: a did:key issuer's token, with the key its JWKS entry holds.
    (Anchored on the issuer's did:key, openbadgeslib expects that did:key's Ed25519 key:
    the README's trade-off; EdDSA by setting, below.)"""
    token = _issue(client, world, format="jwt")["credential"]
    jwks = client.get("/.well-known/jwks.json").json()
    kid = vc_jwt.decode_unverified(token)[0]["kid"]
    assert kid.startswith("did:key:zDn")
    checker = verifier.OB3Verifier(_pem_from_jwks(jwks, kid))
    assert checker.verify(token).issuer.id == world.issuer.did
    header_part, payload, signature = token.split(".")
    flipped = payload[:-1] + ("A" if payload[-1] != "A" else "B")
    with pytest.raises(OB3VerificationError):
        checker.verify(f"{header_part}.{flipped}.{signature}")


def test_openbadgeslib_verifies_our_eddsa_jwt_through_did_key_and_the_served_jwks(
    settings: Settings, engine: Engine, world: World
) -> None:
    eddsa = settings.model_copy(update={"jwt_algorithm": "EdDSA"})
    with TestClient(create_app(eddsa, engine=engine)) as client:
        token = _issue(client, world, format="jwt")["credential"]
        jwks = client.get("/.well-known/jwks.json").json()
    kid = vc_jwt.decode_unverified(token)[0]["kid"]
    checkers = (
        verifier.OB3Verifier.for_issuer_did(world.issuer.did),
        verifier.OB3Verifier(_pem_from_jwks(jwks, kid)),
    )
    header_part, payload, signature = token.split(".")
    flipped = payload[:-1] + ("A" if payload[-1] != "A" else "B")
    for checker in checkers:
        verified = checker.verify(token)
        assert verified.issuer.id == world.issuer.did
        with pytest.raises(OB3VerificationError):
            checker.verify(f"{header_part}.{flipped}.{signature}")


def test_openbadgeslib_verifies_a_did_web_issuers_es256_jwt_through_our_did_document(
    client: TestClient, session: Session, master_key: str
) -> None:
    web = make_world(session, master_key, slug="webacademy", public_https=True)
    token = _issue(client, web, format="jwt")["credential"]
    download, fetched = _download_from(client)
    checker = verifier.OB3Verifier.for_issuer_did(web.issuer.did, download=download)
    assert fetched == ["https://webacademy.example/issuers/webacademy/did.json"]
    verified = checker.verify(token, check_status=True, download=download)
    assert verified.issuer.id == web.issuer.did
    header_part, payload, signature = token.split(".")
    with pytest.raises(OB3VerificationError):
        checker.verify(f"{header_part}.{payload}.{signature[:-4]}AAAA")
