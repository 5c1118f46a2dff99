"""The verifier over HTTP through the real app: every input kind, the page, VC-API, errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from badges.baking import bake_png, bake_svg
from skillshub.settings import Settings
from skillshub.web.app import create_app
from tests.support.own import EMAIL, SVG, Signer, credential, png_bytes

MAX_UPLOAD = 256 * 1024


@pytest.fixture
def web(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    offline = settings.model_copy(update={"fetch_offline": True, "max_upload_bytes": MAX_UPLOAD})
    with TestClient(create_app(offline, engine=engine)) as client:
        yield client


@pytest.fixture(scope="module")
def signer() -> Signer:
    return Signer.ed25519()


@pytest.fixture(scope="module")
def signed(signer: Signer) -> dict[str, Any]:
    return signer.data_integrity(credential(signer.did))


def verdict(response: Any) -> str:
    assert response.status_code == 200, response.text
    return response.json()["verdict"]


def test_json_credential(web: TestClient, signed: dict[str, Any]) -> None:
    response = web.post("/api/v1/verify", json=signed)
    assert verdict(response) == "valid"
    body = response.json()
    assert [c["id"] for c in body["checks"]][:4] == [
        "format",
        "jsonld",
        "vc_data_model",
        "structure",
    ]
    assert body["summary"]["issuer_name"] == "Volt Academy"


def test_wrapped_credential_with_email(web: TestClient, signed: dict[str, Any]) -> None:
    response = web.post("/api/v1/verify", json={"credential": signed, "recipient_email": EMAIL})
    assert verdict(response) == "valid"
    assert response.json()["summary"]["recipient"]["email"] == EMAIL


@pytest.mark.parametrize("media", ["application/jwt", "text/plain"])
def test_compact_jws(web: TestClient, signer: Signer, media: str) -> None:
    token = signer.jwt(credential(signer.did))
    response = web.post("/api/v1/verify", content=token, headers={"content-type": media})
    assert verdict(response) == "valid"


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("badge.png", lambda s: bake_png(png_bytes(), s)),
        ("badge.svg", lambda s: bake_svg(SVG, s)),
        ("badge.json", lambda s: json.dumps(s).encode()),
    ],
)
def test_multipart_upload(web: TestClient, signed: dict[str, Any], name: str, make: Any) -> None:
    files = {"file": (name, make(signed), "application/octet-stream")}
    response = web.post("/api/v1/verify", files=files, data={"email": "someone@else.example"})
    body = response.json()
    assert body["verdict"] == "invalid"  # a valid badge, but not that person's
    assert [c["id"] for c in body["checks"] if c["status"] == "error"] == ["recipient"]


def test_tampered_credential_names_the_check(web: TestClient, signed: dict[str, Any]) -> None:
    tampered = json.loads(json.dumps(signed))
    tampered["name"] = "Something else"
    body = web.post("/api/v1/verify", json=tampered).json()
    assert body["verdict"] == "invalid"
    assert [c["id"] for c in body["checks"] if c["status"] == "error"] == ["proof"]


def test_url_input_refused(web: TestClient) -> None:
    response = web.post("/api/v1/verify", json={"url": "https://169.254.169.254/latest"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "url_refused"


def test_wrapped_credential_must_be_an_object_or_a_token(web: TestClient) -> None:
    api = web.post("/api/v1/verify", json={"credential": 5})
    assert api.status_code == 422
    assert api.json()["error"]["message"] == "credential must be a JSON object or a compact JWS"
    vc_api = web.post("/credentials/verify", json={"verifiableCredential": [1]})
    assert vc_api.status_code == 422
    assert vc_api.json()["error"]["message"].startswith("verifiableCredential must be")


def test_only_web_links_are_fetched(web: TestClient) -> None:
    api = web.post("/api/v1/verify", json={"url": "file:///etc/passwd"})
    assert api.status_code == 422 and api.json()["error"]["message"] == "url must be an https URL"
    form = web.post("/verify", data={"url": " ftp://example.org/badge.json "})
    assert form.status_code == 422 and "the link must be an https URL" in form.text
    page = web.get("/verify", params={"url": "javascript:alert(1)"})
    assert page.status_code == 422 and "the link must be an https URL" in page.text


@pytest.mark.parametrize(
    ("content", "media", "status", "code"),
    [
        (b'{"credential": ', "application/json", 400, "malformed_input"),
        (b"[1, 2]", "application/json", 422, "unrecognised_input"),
        (b"\x89PNG\r\n\x1a\n" + b"garbage" * 10, "image/png", 422, "unrecognised_input"),
        (b"not a token", "text/plain", 422, "unrecognised_input"),
        (b"[" * 200 + b"]" * 200, "application/json", 422, "credential_too_complex"),
        (b"{}", "application/xml", 415, "unsupported_media_type"),
        (b"x" * (MAX_UPLOAD + 1), "text/plain", 413, "payload_too_large"),
    ],
)
def test_bad_input_is_a_clear_4xx(
    web: TestClient, content: bytes, media: str, status: int, code: str
) -> None:
    response = web.post("/api/v1/verify", content=content, headers={"content-type": media})
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code


def test_vc_api(web: TestClient, signer: Signer, signed: dict[str, Any]) -> None:
    ok = web.post("/credentials/verify", json={"verifiableCredential": signed, "options": {}})
    assert ok.status_code == 200
    assert ok.json()["verified"] is True and "proof" in ok.json()["checks"]
    assert ok.json()["errors"] == []
    expired = signer.jwt(credential(signer.did, valid_until="2025-02-01T00:00:00Z"))
    bad = web.post("/credentials/verify", json={"verifiableCredential": expired})
    assert bad.status_code == 400
    [error] = bad.json()["errors"]
    assert (error["check"], error["type"]) == ("valid_until", "about:blank")
    assert error["detail"].startswith("expired: validUntil was 2025-02-01")


def test_page_form_and_report(web: TestClient, signed: dict[str, Any]) -> None:
    page = web.get("/verify")
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert 'enctype="multipart/form-data"' in page.text
    report = web.post("/verify", data={"credential": json.dumps(signed), "email": EMAIL})
    assert report.status_code == 200
    assert "Authentic, but the issuer is not known to us" in report.text  # a did:key stranger
    assert "e-mail address confirmed" in report.text
    assert "maintain battery systems" in report.text
    assert report.headers["content-security-policy"].startswith("default-src 'self'")


def test_page_shows_errors_without_500(web: TestClient) -> None:
    refused = web.get("/verify", params={"url": "https://10.0.0.1/badge.json"})
    assert refused.status_code == 422 and "not a public address" in refused.text
    empty = web.post("/verify", data={"credential": ""})
    assert empty.status_code == 422 and "give a badge" in empty.text


def test_page_escapes_credential_content(web: TestClient, signer: Signer) -> None:
    hostile = signer.data_integrity(
        credential(signer.did, name='<script>alert("x")</script><img src=x onerror=alert(1)>')
    )
    page = web.post("/verify", data={"credential": json.dumps(hostile)})
    assert page.status_code == 200
    assert "<script>alert" not in page.text and "<img src=x" not in page.text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page.text
