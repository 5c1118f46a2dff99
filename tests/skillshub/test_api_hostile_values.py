"""Every API operation, with a valid API token, given hostile values in every path parameter,
query parameter and JSON body field (a schemathesis-style sweep built from the app's own
OpenAPI document): the answer is never a 500."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from skillshub.settings import Settings
from skillshub.web.app import create_app
from tests.badges.conftest import World, make_world

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


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    schema = create_app(Settings(master_key="x" * 44)).openapi()
    found = []
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            found.append((method, path, operation))
    return found


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


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_no_operation_answers_500(api: TestClient, world: World, text: str) -> None:
    failures = []
    for method, path, operation in OPERATIONS:
        url = path
        query: dict[str, str] = {}
        for parameter in operation.get("parameters", []):
            value = quote(text, safe="", errors="surrogatepass")
            if parameter["in"] == "path":
                url = url.replace("{" + parameter["name"] + "}", value)
            elif parameter["in"] == "query":
                query[parameter["name"]] = value
        if query:
            url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
        headers = {"authorization": f"Bearer {world.token}"}
        content = None
        body = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if body is not None:
            content = json.dumps(_value(body.get("schema", {}), text))
            headers["content-type"] = "application/json"
        response = api.request(method, url, content=content, headers=headers)
        if response.status_code >= 500:
            failures.append(f"{method.upper()} {path}: {response.status_code}")
    assert not failures, failures
