"""Every API operation, with a valid API token, given hostile values in every path parameter,
query parameter and JSON body field (a schemathesis-style sweep built from the app's own
OpenAPI document): the answer is never a 500."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from skillshub.settings import Settings
from skillshub.web.app import create_app
from tests.support.present import present
from tests.support.world import World, make_world

HOSTILE = {
    "surrogate": "\ud800",
    "crlf": "a\r\nb",
    "nul": "a\x00b",
    "superscript-digit": "²",
    "huge-number": "99999999999999999999999",
    "bad-url": "https://[::1",
    "long": "a" * 5000,
}
BIG_INT = 10**30
FIRST_VALUE = next(iter(HOSTILE.values()))


def _operations() -> list[tuple[str, str, list[tuple[str, str]], dict[str, Any] | None]]:
    """(method, path, [(where, name)] parameters, JSON body schema) of every route, pages
    left out of the OpenAPI document included."""
    app = create_app(Settings(master_key="x" * 44))
    bodies = {
        (method, path): operation.get("requestBody", {}).get("content", {}).get("application/json")
        for path, methods in app.openapi()["paths"].items()
        for method, operation in methods.items()
    }
    found = []
    for route in _api_routes(app.routes):
        parameters = [("path", p.name) for p in route.dependant.path_params]
        parameters += [("query", p.alias) for p in route.dependant.query_params]
        for method in sorted(present(route.methods) - {"HEAD"}):
            body = bodies.get((method.lower(), route.path))
            found.append((method, route.path, parameters, body["schema"] if body else None))
    return found


def _api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        included = getattr(route, "original_router", None)  # an included router (FastAPI 0.12x)
        if included is not None:
            yield from _api_routes(included.routes)


OPERATIONS = _operations()
SCHEMA_COMPONENTS: dict[str, Any] = create_app(Settings(master_key="x" * 44)).openapi()[
    "components"
]["schemas"]


def _value(schema: dict[str, Any], text: str, depth: int = 0) -> Any:
    """A value of the schema's shape with `text` in every string (and huge numbers)."""
    if "$ref" in schema:
        return _value(SCHEMA_COMPONENTS[schema["$ref"].rsplit("/", 1)[1]], text, depth)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"]
            return _value(options[0], text, depth) if options else None
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        if depth > 4:
            return {}
        return {
            name: _value(sub, text, depth + 1) for name, sub in schema.get("properties", {}).items()
        } or {text: text}
    if kind == "array":
        return [_value(schema.get("items", {}), text, depth + 1)]
    if kind == "integer":
        return BIG_INT
    if kind == "number":
        return 1e308
    if kind == "boolean":
        return True
    if "enum" in schema:
        return schema["enum"][0]
    return text


@pytest.fixture
def world(session: Session, master_key: str) -> World:
    return make_world(session, master_key)


@pytest.fixture
def api(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    offline = settings.model_copy(update={"fetch_offline": True})
    with TestClient(create_app(offline, engine=engine), raise_server_exceptions=False) as client:
        yield client


def _real_path_values(world: World, credential: str) -> dict[str, str]:
    """Path parameters that name real things, so the hostile values meet the code past them."""
    return {
        "issuer_slug": world.issuer.slug,
        "purpose": "revocation",
        "seq": "0",
        "credential_id": credential,
        "action": "revoke",
        "kind": "png",
        "key": world.mc.slug,
    }


def _slug_for(world: World, path: str) -> str:
    if "/issuers/" in path:
        return world.issuer.slug
    if "/organisations/" in path:
        return world.org.slug
    if "/courses/" in path:
        return f"{world.issuer.slug}-course"
    return world.mc.slug


@pytest.mark.parametrize("real_paths", [False, True], ids=["hostile-paths", "real-paths"])
@pytest.mark.parametrize("accept", ["application/json", "text/html"])
# The 5,000-character value takes seconds a run: `make test` only.
@pytest.mark.parametrize(
    "text",
    [
        pytest.param(v, marks=[pytest.mark.slow] if k == "long" else [], id=k)
        for k, v in HOSTILE.items()
    ],
)
def test_no_operation_answers_500(
    api: TestClient, world: World, text: str, accept: str, real_paths: bool
) -> None:
    headers = {"authorization": f"Bearer {world.token}", "accept": accept}
    issued = api.post(
        f"/api/v1/issuers/{world.issuer.slug}/credentials",
        json={"micro_credential": world.mc.slug, "name": "Ada", "email": "ada@example.org"},
        headers=headers | {"accept": "application/json"},
    )
    assert issued.status_code == 201, issued.text
    real = _real_path_values(world, issued.json()["id"])
    failures = []
    # Mutating operations last, so reads meet the credential before it is revoked.
    for method, path, parameters, body in sorted(OPERATIONS, key=lambda o: o[0] != "GET"):
        url = path
        query: dict[str, str] = {}
        value = quote(text, safe="", errors="surrogatepass")
        carries_text = body is not None
        for where, name in parameters:
            if where == "path":
                given = value
                if real_paths:
                    given = _slug_for(world, path) if name == "slug" else real.get(name, value)
                carries_text |= given == value
                url = url.replace("{" + name + "}", given).replace("{" + name + ":path}", given)
            else:
                query[name] = value
                carries_text = True
        # A read that carries no hostile value (no parameter, or only real ones) is the same
        # request, met by the same fresh world (reads come before any write), whatever the
        # value: sent with the first value only. Writes are all sent: they meet what the
        # hostile writes before them left.
        if method == "GET" and not carries_text and text != FIRST_VALUE:
            continue
        if query:
            url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
        content = None
        request_headers = dict(headers)
        if body is not None:
            content = json.dumps(_value(body, text))
            request_headers["content-type"] = "application/json"
        response = api.request(method, url, content=content, headers=request_headers)
        if response.status_code >= 500:
            failures.append(f"{method} {url[:80]}: {response.status_code}")
    assert not failures, failures
