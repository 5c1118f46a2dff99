"""Issuing once per request (badges.issuing.idempotency) through the API, on both databases:
the `Idempotency-Key` header and the external id; a repeated request answers with the first
credential, a different one under the same key is refused; parallel requests issue once; the
audit log names the token that issued."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from accounts.models import AuditEvent
from badges import status
from badges.models import IdempotencyKey, IssuedCredential, StatusAllocation
from tests.support.world import World, make_world

PARALLEL = 6


@pytest.fixture
def world(session: Session, master_key: str) -> World:
    return make_world(session, master_key)


def _body(world: World, **fields: str) -> dict[str, str]:
    return {
        "micro_credential": world.mc.slug,
        "name": "Ada Lovelace",
        "email": "ada@example.org",
    } | fields


def _path(world: World) -> str:
    return f"/api/v1/issuers/{world.issuer.slug}/credentials"


def _headers(world: World, key: str | None = None) -> dict[str, str]:
    headers = {"authorization": f"Bearer {world.token}"}
    return headers | ({"idempotency-key": key} if key is not None else {})


def _count(engine: Engine, model: type) -> int:
    with Session(engine) as fresh:
        return len(fresh.exec(select(model)).all())


def test_the_same_key_and_body_answer_with_the_first_credential(
    client: TestClient, world: World, engine: Engine
) -> None:
    first = client.post(_path(world), json=_body(world), headers=_headers(world, "order-1"))
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    # The same request again, spaced and cased differently: the same meaning.
    again = client.post(
        _path(world),
        json=_body(world, name="  Ada   Lovelace ", email="ADA@example.org"),
        headers=_headers(world, "order-1"),
    )
    assert again.status_code == 200, again.text
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["credential"] == first.json()["credential"]
    assert _count(engine, IssuedCredential) == 1
    # One e-mail, one audit event: a replay sends and records nothing.
    with Session(engine) as fresh:
        events = fresh.exec(select(AuditEvent).where(AuditEvent.action == "credential.issue"))
        [event] = events.all()
    assert event.actor_kind == "token" and event.actor_label.startswith("API token shub_")
    assert event.subject_id == first.json()["id"] and event.address == "testclient"
    assert event.details["recipient"] == "a…@example.org"
    # Another key is another request.
    other = client.post(_path(world), json=_body(world), headers=_headers(world, "order-2"))
    assert other.status_code == 201 and other.json()["id"] != first.json()["id"]


def test_the_same_key_with_another_body_is_refused(
    client: TestClient, world: World, engine: Engine
) -> None:
    first = client.post(_path(world), json=_body(world), headers=_headers(world, "k-1"))
    assert first.status_code == 201
    for change in ({"grade": "B"}, {"email": "bob@example.org"}, {"format": "jwt"}):
        refused = client.post(
            _path(world), json=_body(world) | change, headers=_headers(world, "k-1")
        )
        assert refused.status_code == 422, change
        error = refused.json()["error"]
        assert error["code"] == "idempotency_key_reused"
        assert "already used for another request" in error["message"]
        assert error["details"]["credential"] == first.json()["id"]
    assert _count(engine, IssuedCredential) == 1


@pytest.mark.parametrize("key", ["", "x" * 201, "two words"])
def test_a_malformed_key_is_refused(
    client: TestClient, world: World, key: str, engine: Engine
) -> None:
    refused = client.post(_path(world), json=_body(world), headers=_headers(world, key))
    assert refused.status_code == 422
    assert "Idempotency-Key" in refused.json()["error"]["message"]
    assert _count(engine, IssuedCredential) == 0


def test_keys_belong_to_one_organisation(
    client: TestClient, world: World, session: Session, master_key: str
) -> None:
    other = make_world(session, master_key, slug="otherco")
    mine = client.post(_path(world), json=_body(world), headers=_headers(world, "shared"))
    theirs = client.post(_path(other), json=_body(other), headers=_headers(other, "shared"))
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"]


def _together(calls: list[Callable[[], httpx.Response]]) -> list[httpx.Response]:
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], httpx.Response]) -> httpx.Response:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def _post(server: str, world: World, body: dict, key: str | None) -> Callable[[], httpx.Response]:
    return lambda: httpx.post(
        server + _path(world), json=body, headers=_headers(world, key), timeout=60
    )


@pytest.mark.parametrize("by", ["key", "external_id"])
def test_parallel_repeats_issue_once(
    session: Session, master_key: str, live_server: str, engine: Engine, by: str
) -> None:
    """Six copies of one request at the same moment against a live server: one credential,
    one status allocation per purpose, every answer names it, no error."""
    world = make_world(session, master_key)
    body = _body(world) | ({"external_id": "enrol-9"} if by == "external_id" else {})
    key = "retry-me" if by == "key" else None
    answers = _together([_post(live_server, world, body, key) for _ in range(PARALLEL)])
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] * (PARALLEL - 1) + [201], [a.text for a in answers]
    assert len({a.json()["id"] for a in answers}) == 1
    assert _count(engine, IssuedCredential) == 1
    # One status entry per purpose (revocation by default), allocated once.
    assert _count(engine, StatusAllocation) == len(status.DEFAULT_PURPOSES)
    assert _count(engine, IdempotencyKey) == (1 if by == "key" else 0)
