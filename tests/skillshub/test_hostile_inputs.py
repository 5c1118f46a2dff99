"""Hostile inputs that once gave a 500: each is a 4xx or an invalid/indeterminate verdict,
with a message that says what is wrong (issue 11, section 3). SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.requests import Request

from badges.verifying import Fetcher, FetchPolicy, verify
from badges.verifying.fetching import IpAddress
from skillshub.settings import Settings
from skillshub.verifier import verification_context
from skillshub.web.app import create_app
from skillshub.web.routes.learner import _read_capped
from tests.support.own import Signer, credential
from tests.support.reference import reference
from tests.support.world import World, make_world

BASE = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
]
HOSTILE_CONTEXTS: dict[str, Any] = {
    "vocab-null": [*BASE, {"@vocab": None}],
    "vocab-not-a-string": [*BASE, {"@vocab": 5}],
    "null-only": [None],
    "null-then-vocab-null": [None, *BASE, {"@vocab": None}],
    "protected-redefinition": [*BASE, {"name": "https://evil.example/name"}],
    "scoped-vocab-null": [
        *BASE,
        {"x": {"@id": "https://a.example/x", "@context": {"y": {"@context": {"@vocab": None}}}}},
    ],
    "import": [*BASE, {"@import": "https://evil.example/context"}],
    "import-not-a-string": [*BASE, {"@import": 5}],
    "nested-lists": [*BASE, [[{"@vocab": None}]]],
    "cyclic": [*BASE, {"a": "b:x", "b": "a:y"}],
}
# Odd but lawful: an unused term changes no triple, so the signature still holds.
ODD_CONTEXTS: dict[str, Any] = {
    "null-first": [None, *BASE],
    "huge-id": [*BASE, {"x": {"@id": "https://a.example/" + "a" * 100_000}}],
    "import-pinned": [*BASE, {"@import": BASE[0], "x": "https://a.example/x"}],
    "vocab-absolute": [*BASE, {"@vocab": "https://a.example/"}],
}


def _no_dns(host: str, port: int) -> list[IpAddress]:
    raise OSError("no DNS in tests")


@pytest.fixture
def world(session: Session, master_key: str) -> World:
    return make_world(session, master_key)


@pytest.fixture
def web(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    """The app with a networked (not offline) fetcher that never reaches a network: a URL that
    passes the checks fails to resolve; one that does not is refused before any lookup."""
    app = create_app(settings, engine=engine)
    fetcher = Fetcher(FetchPolicy(timeout_seconds=1), resolver=_no_dns)
    app.state.verification = replace(verification_context(settings), fetcher=fetcher)
    with TestClient(app) as client:
        yield client


def _auth(world: World) -> dict[str, str]:
    return {"authorization": f"Bearer {world.token}"}


def _checks(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {check["id"]: check for check in body["checks"]}


# --- hostile @context ----------------------------------------------------------------------


@pytest.mark.parametrize("context", HOSTILE_CONTEXTS.values(), ids=HOSTILE_CONTEXTS.keys())
def test_hostile_context_is_a_jsonld_error(web: TestClient, world: World, context: Any) -> None:
    signer = Signer.ed25519()
    document = signer.data_integrity(credential(signer.did))
    document["@context"] = context

    response = web.post("/api/v1/verify", json=document)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["verdict"] == "invalid"
    jsonld = _checks(body)["jsonld"]
    assert jsonld["status"] == "error" and jsonld["message"]

    vc_api = web.post("/credentials/verify", json={"verifiableCredential": document})
    assert vc_api.status_code == 400, vc_api.text
    assert any(error["check"] == "jsonld" for error in vc_api.json()["errors"])

    unsigned = credential(world.issuer.did)
    unsigned["@context"] = context
    issued = web.post(
        "/credentials/issue", json={"credential": unsigned, "options": {}}, headers=_auth(world)
    )
    # VC-API answers 400: the VC DM rules (§4.3 Contexts) or JSON-LD refuse the context.
    assert issued.status_code == 400, issued.text
    assert issued.json()["error"]["message"].startswith(
        ("cannot sign this credential", "not a conforming credential: VC DM 2.0 §4.3")
    )


@pytest.mark.parametrize("context", ODD_CONTEXTS.values(), ids=ODD_CONTEXTS.keys())
def test_odd_context_is_processed(web: TestClient, world: World, context: Any) -> None:
    signer = Signer.ed25519()
    document = signer.data_integrity(credential(signer.did))
    document["@context"] = context
    response = web.post("/api/v1/verify", json=document)
    assert response.status_code == 200, response.text
    assert _checks(response.json())["jsonld"]["status"] == "ok"
    unsigned = credential(world.issuer.did)
    unsigned["@context"] = context
    issued = web.post(
        "/credentials/issue", json={"credential": unsigned, "options": {}}, headers=_auth(world)
    )
    if context[0] is None:  # JSON-LD takes it; VC DM 2.0 §4.3 wants the base context first
        assert issued.status_code == 400, issued.text
        assert issued.json()["errors"][0]["path"] == "/@context/0"
    else:
        assert issued.status_code == 201, issued.text


def test_vocab_null_names_the_fault(web: TestClient) -> None:
    signer = Signer.ed25519()
    document = signer.data_integrity(credential(signer.did))
    document["@context"] = HOSTILE_CONTEXTS["vocab-null"]
    message = _checks(web.post("/api/v1/verify", json=document).json())["jsonld"]["message"]
    assert "malformed" in message and "KeyError" in message


# --- status list URLs and indexes ------------------------------------------------------------


def _status_entry(url: str, index: str = "7") -> dict[str, Any]:
    return {
        "id": f"{url}#{index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": index,
        "statusListCredential": url,
    }


@pytest.mark.parametrize("seq", ["²", "99999999999999999999999", "\u0661", "7/", "-1"])
def test_malformed_own_status_list_url_is_indeterminate(
    web: TestClient, world: World, seq: str
) -> None:
    # Our own lists (under BASE_URL) are read from the database; a number the database
    # cannot hold, or int() cannot read, names no list of ours.
    signer = Signer.ed25519()
    url = f"http://testserver/status/{world.issuer.slug}/revocation/{seq}"
    document = signer.data_integrity(credential(signer.did, status=[_status_entry(url)]))
    response = web.post("/api/v1/verify", json=document)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["verdict"] == "indeterminate"
    assert _checks(body)["status"]["message"].startswith("status unknown")


@pytest.mark.parametrize("index", ["²", "\u0661\u0662", "9" * 40])
def test_non_ascii_or_huge_status_index_is_invalid(web: TestClient, index: str) -> None:
    signer = Signer.ed25519()
    entry = _status_entry("https://status.example/lists/1", index)
    document = signer.data_integrity(credential(signer.did, status=[entry]))
    body = web.post("/api/v1/verify", json=document).json()
    assert body["verdict"] == "invalid"
    assert "statusListIndex" in _checks(body)["status"]["message"]


@pytest.mark.parametrize("seq", ["²", "99999999999999999999999", "\uff11"])
def test_status_route_refuses_odd_numbers(web: TestClient, world: World, seq: str) -> None:
    response = web.get(f"/status/{world.issuer.slug}/revocation/{seq}")
    assert response.status_code == 422, response.text


# --- URLs to fetch -------------------------------------------------------------------------

HOSTILE_URLS = {
    "octal-ipv4": "https://0177.0.0.1:1/",
    "unclosed-ipv6": "https://[::1",
    "space-in-host": "https://exa mple.com/",
    "empty-a-label": "https://xn--/",
    "idna-invalid-a-label": "https://xn--a.com/",
    "idna-invalid-u-label": "https://ex\u200bample.com/",
    "long": "https://example.com/" + "a" * 5000,
    "user-info": "https://a:b@host.example/",
    "port-too-large": "https://host.example:65536/",
    "port-far-too-large": "https://host.example:99999999999999999999/",
}


@pytest.mark.parametrize("url", HOSTILE_URLS.values(), ids=HOSTILE_URLS.keys())
def test_hostile_url_is_refused(web: TestClient, url: str) -> None:
    api = web.post("/api/v1/verify", json={"url": url})
    assert api.status_code == 422, api.text
    assert api.json()["error"]["code"] in ("url_refused", "fetch_failed")
    page = web.get("/verify", params={"url": url})
    assert page.status_code == 422, page.text
    form = web.post("/verify", data={"url": url})
    assert form.status_code == 422, form.text


def test_malformed_url_says_so(web: TestClient) -> None:
    response = web.post("/api/v1/verify", json={"url": HOSTILE_URLS["octal-ipv4"]})
    assert response.json()["error"] == {"code": "url_refused", "message": "the URL is malformed"}


# --- odd credential fields found by fuzzing the verifier -------------------------------------


def _set(document: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for name in parents:
        document = document[name]
    document[last] = value


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("type", 5),  # the Europass sniffing tested `in` on it
        ("issuer.id", "https://[::1"),  # urlsplit raises on it
        ("issuer.id", "did:web:example.com%3A\u00b2"),  # int() of a did:web port "²"
        ("proof.verificationMethod", "did:web:example.com%3A\u00b2#key-1"),
        ("proof.type", ["DataIntegrityProof"]),  # a list as a suite name
        ("proof.cryptosuite", {"a": 1}),
        ("credentialSubject.achievement.alignment", [{"targetUrl": {"a": 1}}]),
    ],
)
def test_odd_field_is_an_invalid_verdict(web: TestClient, path: str, value: Any) -> None:
    signer = Signer.ed25519()
    document = signer.data_integrity(credential(signer.did))
    _set(document, path, value)
    response = web.post("/api/v1/verify", json=document)
    assert response.status_code == 200, response.text
    assert response.json()["verdict"] == "invalid"


@pytest.mark.parametrize(
    ("path", "value", "named"),
    [
        ("name", "\ud800", "lone surrogate"),
        ("credentialSubject.achievement.name", "\udfff", "lone surrogate"),
        ("issuer.id", "did:key:\ud800", "lone surrogate"),
        # PostgreSQL text cannot hold NUL: looking the skill up was a DataError.
        ("credentialSubject.achievement.alignment", [{"targetUrl": "https://a/\x00"}], "NUL"),
    ],
)
def test_lone_surrogate_or_nul_in_a_credential_is_malformed(
    web: TestClient, path: str, value: Any, named: str
) -> None:
    signer = Signer.ed25519()
    document = signer.data_integrity(credential(signer.did))
    _set(document, path, value)
    # json= would refuse to encode it; the escape is what a hostile client sends.
    body = json.dumps(document).encode()
    for route in ("/api/v1/verify", "/credentials/verify"):
        wrapped = body if route == "/api/v1/verify" else b'{"verifiableCredential": ' + body + b"}"
        response = web.post(route, content=wrapped, headers={"content-type": "application/json"})
        assert response.status_code == 400, response.text
        assert named in response.json()["error"]["message"]


# --- Content-Length ------------------------------------------------------------------------


def test_huge_content_length_is_a_413(web: TestClient, world: World) -> None:
    # int() of 5000 digits raises: the size cap read it before the body.
    response = web.put(
        f"/api/v1/micro-credentials/{world.mc.slug}/image",
        content=b"x",
        headers=_auth(world) | {"content-type": "image/png", "content-length": "9" * 5000},
    )
    assert response.status_code == 413, response.text


def test_latin1_digit_in_content_length_is_not_a_number() -> None:
    # Headers are read as Latin-1: byte 0xB2 is "²", which passes str.isdigit(). (The test
    # client re-encodes header values, so the request is built by hand.)
    scope = {
        "type": "http",
        "method": "PUT",
        "path": "/",
        "headers": [(b"content-length", b"\xb2")],
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"x", "more_body": False}

    # On a thread of its own: Playwright's sync API keeps an event loop running on this one.
    with ThreadPoolExecutor(1) as pool:
        read = pool.submit(asyncio.run, _read_capped(Request(scope, receive), 10)).result()
    assert read == b"x"


# --- Europass (JAdES) headers ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("member", "value"),
    [("crit", ["b64", {"a": 1}]), ("sigT", "0001-01-01T00:00:00+14:00")],
)
def test_odd_jades_header_is_an_invalid_verdict(member: str, value: Any) -> None:
    sealed = json.loads(
        reference("elm", "samples", "official", "Sample-MC-Annex1-signed.jsonld").read_text()
    )
    signature = sealed["signatures"][0]
    header = json.loads(base64.urlsafe_b64decode(signature["protected"] + "=="))
    header[member] = value
    signature["protected"] = (
        base64.urlsafe_b64encode(json.dumps(header).encode()).decode().rstrip("=")
    )
    report = verify(None, sealed)
    assert report.verdict == "invalid"


@pytest.mark.parametrize(
    "body",
    [
        b'{"credential": "\\ud800"}',
        b'{"url": "https://\\ud800.example/"}',
        b'{"credential": {"@context": []}, "recipient_email": "\\ud800@example.org"}',
    ],
)
def test_lone_surrogate_in_a_verify_wrapper_is_a_4xx(web: TestClient, body: bytes) -> None:
    for route in ("/api/v1/verify", "/credentials/verify"):
        wrapped = body if route == "/api/v1/verify" else b'{"verifiableCredential": "\\udfff"}'
        response = web.post(route, content=wrapped, headers={"content-type": "application/json"})
        assert 400 <= response.status_code < 500, (route, response.text)
