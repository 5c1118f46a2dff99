"""Security headers on every response (pages, error pages, the docs) and the Host check:
no page is built on a Host header the client chose."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from starlette.routing import Route

from catalogue.demo import load_demo_catalogue
from skillshub.settings import Settings
from skillshub.web import security_headers
from skillshub.web.app import create_app

HTML = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
CSP_DIRECTIVES = (
    "default-src 'self'",
    "script-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
)


def _sample_path(route: Route) -> str:
    """The route's path with every parameter filled in (an int where the route wants one)."""
    path = route.path
    for name, convertor in route.param_convertors.items():
        value = "1" if type(convertor).__name__ == "IntegerConvertor" else "x"
        path = re.sub(r"\{" + name + r"(:[^}]*)?\}", value, path)
    return path


def _routes(routes: list, prefix: str = "") -> list[tuple[str, Route]]:
    """(prefix, route) for every route, inside included routers too."""
    found = []
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            found += _routes(included.routes, prefix + route.include_context.prefix)
        elif isinstance(route, APIRoute | Route):
            found.append((prefix, route))
    return found


def _get_paths(app: FastAPI) -> list[str]:
    return sorted(
        {p + _sample_path(r) for p, r in _routes(app.routes) if "GET" in (r.methods or ())}
    )


def _assert_page_headers(response, where: str) -> None:
    csp = response.headers.get("content-security-policy", "")
    for directive in CSP_DIRECTIVES:
        assert directive in csp, f"{where}: {directive!r} missing from {csp!r}"
    assert "unsafe-inline" not in csp.split("style-src")[0], where
    assert response.headers.get("x-content-type-options") == "nosniff", where
    assert response.headers.get("referrer-policy") in (
        "strict-origin-when-cross-origin",
        "no-referrer",
        "same-origin",
    ), where


@pytest.fixture
def demo_client(client: TestClient, engine: Engine) -> TestClient:
    from sqlmodel import Session

    with Session(engine) as session:
        load_demo_catalogue(session)
        session.commit()
    return client


def test_every_html_route_and_error_page_has_the_headers(demo_client: TestClient) -> None:
    app = demo_client.app
    assert isinstance(app, FastAPI)
    pages = 0
    docs = {app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url}
    for path in _get_paths(app):
        response = demo_client.get(path, headers=HTML, follow_redirects=False)
        assert response.headers.get("x-content-type-options") == "nosniff", path
        if path in docs:
            continue  # their own policy, below
        if response.headers.get("content-type", "").startswith("text/html"):
            _assert_page_headers(response, f"GET {path} ({response.status_code})")
            pages += 1
        else:
            assert response.headers.get("content-security-policy"), path
    assert pages >= 10  # home, search, gap, verify, issuers, catalogue pages and error pages
    for path in ("/no/such/page", "/credentials/nope", "/credentials/nope/manage"):
        _assert_page_headers(demo_client.get(path, headers=HTML), path)
    for path in ("/search", "/skills/battery-design", "/micro-credentials/bms-engineer"):
        page = demo_client.get(path, headers=HTML)
        assert page.status_code == 200, path
        _assert_page_headers(page, path)


def test_a_500_page_has_the_headers(settings: Settings, engine: Engine) -> None:
    app = create_app(settings, engine=engine)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("boom")

    with TestClient(app, raise_server_exceptions=False) as client:
        page = client.get("/boom", headers=HTML)
        assert page.status_code == 500 and "text/html" in page.headers["content-type"]
        _assert_page_headers(page, "500 page")
        api = client.get("/boom")
        assert api.status_code == 500 and api.headers["x-content-type-options"] == "nosniff"


def test_docs_keep_working_under_their_own_policy(client: TestClient) -> None:
    docs = client.get("/docs")
    csp = docs.headers["content-security-policy"]
    assert "https://" not in csp and "'unsafe-inline'" not in csp.split(";")[1]
    [inline] = re.findall(r"<script>(.*?)</script>", docs.text, re.S)
    digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in csp
    assert "frame-ancestors 'none'" in csp and docs.headers["x-content-type-options"] == "nosniff"
    redoc = client.get("/redoc")
    assert "https://" not in redoc.headers["content-security-policy"]  # nothing from elsewhere
    assert client.get("/openapi.json").headers["content-security-policy"] == (
        security_headers.OTHER_CSP
    )


@pytest.mark.parametrize(("base_url", "hsts"), [("https://badges.example", True), ("", False)])
def test_hsts_only_when_served_over_https(
    settings: Settings, engine: Engine, base_url: str, hsts: bool
) -> None:
    update = {"base_url": base_url} if base_url else {}
    with TestClient(create_app(settings.model_copy(update=update), engine=engine)) as client:
        for path in ("/", "/healthz", "/no/such/page"):
            header = client.get(path, headers=HTML).headers.get("strict-transport-security")
            assert (header == security_headers.HSTS) if hsts else header is None, path


# --- the Host header -----------------------------------------------------------------------


def test_a_foreign_host_is_refused_and_never_reflected(demo_client: TestClient) -> None:
    for path in ("/", "/verify", "/micro-credentials/bms-engineer", "/no/such/page", "/docs"):
        response = demo_client.get(path, headers=HTML | {"host": "evil.example"})
        assert response.status_code == 400, path
        assert "evil.example" not in response.text
        assert response.headers["x-content-type-options"] == "nosniff"


def test_pages_do_not_build_urls_on_an_allowed_host(demo_client: TestClient) -> None:
    """localhost is allowed (development), and still never appears in a page served for the
    deployment at BASE_URL: stylesheets and images are root-relative or from BASE_URL."""
    for path in ("/", "/verify", "/search", "/micro-credentials/bms-engineer", "/nope"):
        page = demo_client.get(path, headers=HTML | {"host": "localhost:8000"})
        assert page.status_code in (200, 404), path
        assert "localhost" not in page.text, path
        assert 'href="/static/style.css"' in page.text, path


def test_allowed_hosts_setting(
    settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert Settings(base_url="https://badges.example").trusted_hosts == [
        "badges.example",
        "localhost",
        "127.0.0.1",
        "testserver",
    ]
    monkeypatch.setenv("SKILLSHUB_ALLOWED_HOSTS", '["badges.example", "*.badges.example"]')
    assert Settings().trusted_hosts == ["badges.example", "*.badges.example"]
    only = settings.model_copy(update={"allowed_hosts": ("badges.example",)})
    with TestClient(create_app(only, engine=engine)) as client:
        assert client.get("/healthz").status_code == 400  # testserver is no longer allowed
        ok = client.get("/healthz", headers={"host": "badges.example"})
        assert ok.status_code == 200
