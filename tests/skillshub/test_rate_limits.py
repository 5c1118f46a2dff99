"""Rate limits: per address on the verifier, claim and learner pages and failed API tokens;
per token on writes; budgets shared through Redis; a Redis outage is no 500."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy.engine import Engine
from sqlmodel import Session

from skillshub.settings import Settings
from skillshub.web import rate_limits
from skillshub.web.app import create_app
from skillshub.web.rate_limits import PER_ADDRESS_ROUTES
from tests.support.catalogue import bearer, provider_token
from tests.support.present import present

REDIS_URL = os.environ.get("SKILLSHUB_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
HERE = ("198.51.100.7", 40000)
ELSEWHERE = ("203.0.113.9", 40000)

Call = Callable[[TestClient], Any]
CREDENTIAL = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["Nothing"]}

# One request per limited endpoint, named by its route; each spends whatever the answer.
VERIFY_CALLS: dict[str, Call] = {
    "GET /verify": lambda c: c.get("/verify", params={"url": "https://x.example/b.json"}),
    "POST /verify": lambda c: c.post("/verify", data={"credential": "not a badge"}),
    "POST /api/v1/verify": lambda c: c.post("/api/v1/verify", json=CREDENTIAL),
    "POST /credentials/verify": lambda c: c.post(
        "/credentials/verify", json={"verifiableCredential": CREDENTIAL}
    ),
    "POST /presentations/verify": lambda c: c.post(
        "/presentations/verify", json={"verifiablePresentation": CREDENTIAL}
    ),
    "POST /api/v1/gap with credentials": lambda c: c.post(
        "/api/v1/gap", json={"job_role": "nobody", "credentials": [CREDENTIAL]}
    ),
    "POST /backpack/import": lambda c: c.post("/backpack/import", data={"credential": "x"}),
}
CLAIM = "GET /credentials/{credential_id}/claim"
CLAIM_CALLS: dict[str, Call] = {
    CLAIM: lambda c: c.get("/credentials/x/claim", params={"token": "bad"}),
    "POST /credentials/{credential_id}/claim": lambda c: c.post(
        "/credentials/x/claim", data={"token": "bad"}
    ),
    "GET /credentials/{credential_id}/manage": lambda c: c.get("/credentials/x/manage"),
    "GET /backpack": lambda c: c.get("/backpack"),
    "GET /backpack/badges/{key}": lambda c: c.get("/backpack/badges/x"),
    "GET /backpack/download": lambda c: c.get("/backpack/download"),
    "GET /profiles/{handle}/badges/{key}": lambda c: c.get("/profiles/nobody/badges/x"),
    "POST /credentials/{credential_id}/manage/visibility": lambda c: c.post(
        "/credentials/x/manage/visibility", data={"public": "1"}
    ),
    "POST /credentials/{credential_id}/manage/forget": lambda c: c.post(
        "/credentials/x/manage/forget"
    ),
    "POST /credentials/{credential_id}/manage/sign-out-everywhere": lambda c: c.post(
        "/credentials/x/manage/sign-out-everywhere"
    ),
    "POST /credentials/{credential_id}/manage/wallet": lambda c: c.post(
        "/credentials/x/manage/wallet"
    ),
    "GET /oid4vci/offers/{code}": lambda c: c.get("/oid4vci/offers/x"),
    "POST /oid4vci/token": lambda c: c.post("/oid4vci/token", data={"grant_type": "x"}),
    "POST /oid4vci/nonce": lambda c: c.post("/oid4vci/nonce"),
    "POST /oid4vci/credential": lambda c: c.post("/oid4vci/credential", json={}),
}
# Console sign-in: every attempt spends the address's budget (failures also the e-mail's,
# tested in tests/skillshub/test_console.py).
SIGN_IN_CALLS: dict[str, Call] = {
    "POST /console/login": lambda c: c.post(
        "/console/login", data={"email": "a@example.org", "password": "x"}
    ),
    "POST /console/set-password": lambda c: c.post("/console/set-password", data={"token": "x"}),
    "POST /console/login/code": lambda c: c.post("/console/login/code", data={"code": "123456"}),
    "POST /console/reset-password/new": lambda c: c.post(
        "/console/reset-password/new", data={"token": "x"}
    ),
    "POST /console/invite": lambda c: c.post("/console/invite", data={"token": "x"}),
}
# Password-reset requests: their own per-address class (the per-e-mail budget, which sends no
# more mail but answers the same, is tested in tests/skillshub/test_console_security.py).
RESET_CALLS: dict[str, Call] = {
    "POST /console/reset-password": lambda c: c.post(
        "/console/reset-password", data={"email": "a@example.org"}
    ),
}


# The backpack's sign-in links: asked for and opened, per address (the per-e-mail budget is
# tested in tests/backpack/test_backpack.py).
BACKPACK_CALLS: dict[str, Call] = {
    "POST /backpack/sign-in": lambda c: c.post("/backpack/sign-in", data={"email": "a@x.org"}),
    "GET /backpack/sign-in/link": lambda c: c.get("/backpack/sign-in/link?token=x"),
    "POST /backpack/sign-in/link": lambda c: c.post("/backpack/sign-in/link", data={"token": "x"}),
}
ALL_CALLS = {**VERIFY_CALLS, **CLAIM_CALLS, **SIGN_IN_CALLS, **RESET_CALLS, **BACKPACK_CALLS}


def _settings(settings: Settings, **changes: Any) -> Settings:
    return settings.model_copy(update={"fetch_offline": True, **changes})


@pytest.fixture
def tight(settings: Settings) -> Settings:
    return _settings(
        settings,
        rate_limit_verify="2/minute",
        rate_limit_claim="2/minute",
        rate_limit_auth_failures="3/minute",
        rate_limit_write="2/minute",
        rate_limit_sign_in="2/minute",
        rate_limit_password_reset="2/minute",
        rate_limit_backpack_sign_in="2/minute",
    )


@pytest.fixture
def app(tight: Settings, engine: Engine) -> Iterator[FastAPI]:
    app = create_app(tight, engine=engine)
    with TestClient(app):  # runs the lifespan once: master key, verifier
        yield app


def client_at(app: FastAPI, address: tuple[str, int] = HERE, **headers: str) -> TestClient:
    return TestClient(app, client=address, headers=headers)


def assert_limited(response: Any) -> None:
    assert response.status_code == 429, response.text
    assert 1 <= int(response.headers["retry-after"]) <= 60
    assert response.json()["error"]["code"] == "rate_limited"


@pytest.mark.parametrize("name", list(ALL_CALLS))
def test_each_endpoint_answers_429_per_address(app: FastAPI, name: str) -> None:
    call = ALL_CALLS[name]
    here = client_at(app)
    for _ in range(2):
        assert call(here).status_code != 429
    assert_limited(call(here))
    assert call(client_at(app, ELSEWHERE)).status_code != 429  # another address: its own budget


def test_an_ipv6_slash_64_is_one_address(app: FastAPI) -> None:
    call = VERIFY_CALLS["POST /api/v1/verify"]
    call(client_at(app, ("2001:db8:1:2::1", 1)))
    call(client_at(app, ("2001:db8:1:2:ffff::9", 1)))
    assert_limited(call(client_at(app, ("2001:db8:1:2::abc", 1))))
    assert call(client_at(app, ("2001:db8:1:3::1", 1))).status_code != 429  # the next /64


def test_endpoints_of_a_class_share_one_budget(app: FastAPI) -> None:
    here = client_at(app)
    VERIFY_CALLS["POST /api/v1/verify"](here)
    VERIFY_CALLS["POST /credentials/verify"](here)
    assert_limited(VERIFY_CALLS["GET /verify"](here))
    assert CLAIM_CALLS[CLAIM](here).status_code != 429  # another class


def test_free_requests_spend_nothing(app: FastAPI) -> None:
    here = client_at(app)
    for _ in range(4):
        assert here.get("/verify").status_code == 200  # the bare form
        assert here.post("/api/v1/gap", json={"job_role": "nobody"}).status_code == 404
        assert here.get("/api/v1/skills").status_code == 200


def test_a_browser_gets_the_error_page(app: FastAPI) -> None:
    browser = client_at(app, accept="text/html,application/xhtml+xml")
    for _ in range(2):
        CLAIM_CALLS[CLAIM](browser)
    response = CLAIM_CALLS[CLAIM](browser)
    assert response.status_code == 429
    assert response.headers["content-type"].startswith("text/html")
    assert "Too many requests" in response.text
    assert int(response.headers["retry-after"]) >= 1


def test_failed_tokens_are_limited_before_the_lookup(
    app: FastAPI, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = provider_token(session, "acme")
    lookups: list[str | None] = []
    real = rate_limits.authenticate_token

    def counting(db: Session, token: str | None) -> Any:
        lookups.append(token)
        return real(db, token)

    monkeypatch.setattr(rate_limits, "authenticate_token", counting)
    here = client_at(app)
    for n in range(3):
        bad = here.get("/api/v1/organisations/me", headers=bearer(f"shub_guess{n}"))
        assert bad.status_code == 401
    assert len(lookups) == 3
    assert_limited(here.get("/api/v1/organisations/me", headers=bearer("shub_guess")))
    # Blocked before any lookup: a good token from that address waits too, and so does Europass.
    assert_limited(here.get("/api/v1/organisations/me", headers=bearer(good)))
    assert_limited(here.get("/credentials/x/europass", headers=bearer("shub_guess")))
    assert len(lookups) == 3
    elsewhere = client_at(app, ELSEWHERE)
    assert elsewhere.get("/api/v1/organisations/me", headers=bearer(good)).status_code == 200
    # No token at all costs no lookup, so it spends nothing: plain 401.
    assert here.get("/api/v1/organisations/me").status_code == 401


def test_good_tokens_spend_nothing_from_the_failure_budget(app: FastAPI, session: Session) -> None:
    good = provider_token(session, "acme")
    here = client_at(app)
    for _ in range(5):
        assert here.get("/api/v1/organisations/me", headers=bearer(good)).status_code == 200


def test_writes_are_limited_per_token(app: FastAPI, session: Session) -> None:
    first, second = provider_token(session, "acme"), provider_token(session, "globex")
    here = client_at(app)
    for _ in range(2):
        response = here.delete("/api/v1/courses/missing", headers=bearer(first))
        assert response.status_code == 404
    assert_limited(here.delete("/api/v1/courses/missing", headers=bearer(first)))
    assert_limited(here.post("/credentials/issue", json={}, headers=bearer(first)))
    # Another token from the same address has its own budget; reads spend none.
    assert here.delete("/api/v1/courses/missing", headers=bearer(second)).status_code == 404
    assert here.get("/api/v1/organisations/me", headers=bearer(first)).status_code == 200
    # The same token from another address shares the token's budget.
    elsewhere = client_at(app, ELSEWHERE)
    assert_limited(elsewhere.delete("/api/v1/courses/missing", headers=bearer(first)))


def test_disabled_limits_never_answer_429(tight: Settings, engine: Engine) -> None:
    app = create_app(tight.model_copy(update={"rate_limit_enabled": False}), engine=engine)
    with TestClient(app, client=HERE) as here:
        for _ in range(5):
            assert VERIFY_CALLS["POST /api/v1/verify"](here).status_code != 429


def test_every_learner_route_is_limited() -> None:
    # A learner route added later (claim or manage) joins the claim budget or fails here.
    from skillshub.web.routes import learner as learner_routes

    learner = {
        (method, route.path)
        for route in learner_routes.router.routes
        if isinstance(route, APIRoute)
        and route.path.startswith("/credentials/{credential_id}/")
        and ("/claim" in route.path or "/manage" in route.path)
        for method in present(route.methods)
        if method != "HEAD"
    }
    assert len(learner) >= 6
    assert learner <= set(PER_ADDRESS_ROUTES)


def test_every_table_entry_is_exercised() -> None:
    # A renamed route would leave its entry unmatched: the 429 tests above then fail.
    exercised = {tuple(name.split(" ", 1)) for name in ALL_CALLS}
    assert set(PER_ADDRESS_ROUTES) <= exercised


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("rate_limit_verify", "lots"),
        ("rate_limit_write", "0/minute"),
        ("rate_limit_claim", ""),
        ("rate_limit_storage", "memcached://127.0.0.1:11211"),
    ],
)
def test_bad_settings_are_refused(field: str, value: str) -> None:
    with pytest.raises(ValidationError, match=field):
        values: dict[str, Any] = {field: value}
        Settings(**values)


def test_several_limits_per_class(settings: Settings, engine: Engine) -> None:
    app = create_app(_settings(settings, rate_limit_verify="100/hour;1/minute"), engine=engine)
    with TestClient(app, client=HERE) as here:
        VERIFY_CALLS["POST /api/v1/verify"](here)
        assert_limited(VERIFY_CALLS["POST /api/v1/verify"](here))


# --- Redis ---------------------------------------------------------------------------------


def _redis_skip_reason() -> str | None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping()
    except redis.RedisError as exc:
        return f"Redis not reachable at {REDIS_URL}: {type(exc).__name__}"
    return None


def test_redis_budget_is_shared_between_apps(tight: Settings, engine: Engine) -> None:
    if reason := _redis_skip_reason():
        pytest.skip(reason)
    shared = tight.model_copy(update={"rate_limit_storage": REDIS_URL})
    # A fresh address: keys in the shared Redis never meet another run's.
    address = (f"192.0.2.{uuid.uuid4().int % 250 + 1}-{uuid.uuid4().hex[:8]}", 1)
    one, two = create_app(shared, engine=engine), create_app(shared, engine=engine)
    with TestClient(one, client=address) as first, TestClient(two, client=address) as second:
        assert VERIFY_CALLS["POST /api/v1/verify"](first).status_code != 429
        assert VERIFY_CALLS["POST /api/v1/verify"](second).status_code != 429
        assert_limited(VERIFY_CALLS["POST /api/v1/verify"](first))
        assert_limited(VERIFY_CALLS["POST /api/v1/verify"](second))


def test_redis_down_falls_back_to_memory(
    tight: Settings, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    down = tight.model_copy(update={"rate_limit_storage": "redis://127.0.0.1:1/0"})
    app = create_app(down, engine=engine)
    with (
        caplog.at_level(logging.WARNING, logger="skillshub.rate_limits"),
        TestClient(app, client=HERE) as here,
    ):
        for _ in range(2):
            assert VERIFY_CALLS["POST /api/v1/verify"](here).status_code == 200
        assert_limited(VERIFY_CALLS["POST /api/v1/verify"](here))  # still limited, per process
    warnings = [r for r in caplog.records if r.name == "skillshub.rate_limits"]
    assert len(warnings) == 1
    assert "unreachable" in warnings[0].getMessage()
