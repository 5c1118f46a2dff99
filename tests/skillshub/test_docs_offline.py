"""/docs and /redoc work offline: their HTML names only this server's assets, which it serves.

The pages do not touch the database, so one SQLite app serves every test here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from skillshub.settings import Settings
from skillshub.web.app import create_app

ASSET_TYPES = {".js": "javascript", ".css": "text/css", ".png": "image/png"}


@pytest.fixture
def docs_app(tmp_path: Path, master_key: str) -> FastAPI:
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=f"sqlite:///{tmp_path / 'docs.db'}",
        master_key=master_key,
        base_url="http://testserver",
    )
    return create_app(settings)


@pytest.fixture
def docs_client(docs_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(docs_app) as client:
        yield client


def _references(html: str) -> list[str]:
    return re.findall(r'(?:src|href|spec-url)="([^"]*)"', html) + re.findall(
        r"url: '([^']*)'", html
    )


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_reference_only_local_assets(docs_client: TestClient, page: str) -> None:
    response = docs_client.get(page)
    assert response.status_code == 200
    assert not re.search(r"https?://", response.text), "a URL to another host"
    references = _references(response.text)
    assert any(ref.endswith(".js") for ref in references), references
    for ref in references:
        assert not urlsplit(ref).netloc, ref
        answer = docs_client.get(ref)
        assert answer.status_code == 200, ref
        suffix = Path(ref).suffix
        if suffix in ASSET_TYPES:
            assert ASSET_TYPES[suffix] in answer.headers["content-type"], ref
        if ref.endswith(".js"):
            assert len(answer.content) > 100_000  # the real bundle, not a stub


def test_openapi_schema_lists_the_api_and_not_the_docs(docs_client: TestClient) -> None:
    paths = docs_client.get("/openapi.json").json()["paths"]
    assert "/healthz" in paths
    assert not {"/docs", "/redoc", "/docs/oauth2-redirect"} & set(paths)


# --- a real browser with every other host out of reach ---------------------------------------


@pytest.fixture
def live_app(docs_app: FastAPI) -> FastAPI:
    return docs_app


def _offline(page: Any, base: str) -> list[str]:
    """Abort every request that leaves the test server; return those the page needs, and
    any Content-Security-Policy complaint (the pages run under the app's docs policy).

    Only ReDoc's "powered by" logo (an image on cdn.redoc.ly, hard-coded in its bundle) may
    go missing: scripts, styles, fonts and data must all come from here."""
    blocked: list[str] = []

    def complaint(message: Any) -> None:
        text = message.text
        if "Content Security Policy" in text and not text.startswith("Loading the image"):
            blocked.append(text)

    page.on("console", complaint)

    def route(request_route: Any) -> None:
        request = request_route.request
        if request.url.startswith(base) or request.url.startswith(("data:", "blob:")):
            request_route.continue_()
            return
        if request.resource_type != "image":
            blocked.append(request.url)
        request_route.abort()

    page.route("**/*", route)
    return blocked


@pytest.mark.browser
def test_swagger_ui_renders_the_operations_offline(browser_page: Any, live_server: str) -> None:
    blocked = _offline(browser_page, live_server)
    browser_page.goto("/docs")
    browser_page.wait_for_selector(".opblock", timeout=20_000)
    summaries = browser_page.locator(".opblock-summary-path").all_inner_texts()
    assert any("/healthz" in text for text in summaries), summaries[:5]
    assert blocked == []


@pytest.mark.browser
def test_redoc_renders_the_operations_offline(browser_page: Any, live_server: str) -> None:
    blocked = _offline(browser_page, live_server)
    browser_page.goto("/redoc")
    browser_page.wait_for_selector(
        "[data-section-id^='operation/']", timeout=20_000, state="attached"
    )
    assert browser_page.locator("[data-section-id^='operation/']").count() > 10
    assert blocked == []
