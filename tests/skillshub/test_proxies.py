"""Behind a reverse proxy (SKILLSHUB_TRUSTED_PROXIES): the client's address and scheme come from
forwarded headers only when the socket's peer is a trusted proxy."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from accounts.models import AuditEvent
from accounts.roles import Role
from skillshub.settings import Settings
from skillshub.web.app import create_app
from skillshub.web.proxies import TrustedProxies
from tests.support.console import add_user, sign_in
from tests.support.world import make_world


def _echo(request: Request) -> JSONResponse:
    client = request.client.host if request.client else None
    return JSONResponse({"client": client, "scheme": request.url.scheme})


def _seen(peer: str, headers: dict[str, str], trusted: tuple[str, ...] = ("10.0.0.0/8",)):
    app = TrustedProxies(Starlette(routes=[Route("/", _echo)]), trusted=trusted)
    return TestClient(app, client=(peer, 5000)).get("/", headers=headers).json()


@pytest.mark.parametrize(
    ("peer", "headers", "client", "scheme"),
    [
        # A trusted proxy's word is taken.
        (
            "10.0.0.2",
            {"x-forwarded-for": "203.0.113.7", "x-forwarded-proto": "https"},
            "203.0.113.7",
            "https",
        ),
        # An untrusted peer's headers are ignored: it is the client.
        (
            "198.51.100.9",
            {"x-forwarded-for": "203.0.113.7", "x-forwarded-proto": "https"},
            "198.51.100.9",
            "http",
        ),
        # A client's own X-Forwarded-For is a hop further left: never reached.
        ("10.0.0.2", {"x-forwarded-for": "1.2.3.4, 203.0.113.7"}, "203.0.113.7", "http"),
        # Through two trusted proxies.
        ("10.0.0.2", {"x-forwarded-for": "1.2.3.4, 203.0.113.7, 10.9.9.9"}, "203.0.113.7", "http"),
        # RFC 7239 wins over X-Forwarded-*; quoted IPv6 with a port.
        (
            "10.0.0.2",
            {"forwarded": 'for="[2001:db8::7]:4711";proto=https', "x-forwarded-for": "203.0.113.7"},
            "2001:db8::7",
            "https",
        ),
        (
            "10.0.0.2",
            {"forwarded": "for=1.2.3.4, for=203.0.113.8;proto=https"},
            "203.0.113.8",
            "https",
        ),
        # "unknown" or obfuscated: the proxy is as far as we can tell.
        ("10.0.0.2", {"forwarded": "for=unknown"}, "10.0.0.2", "http"),
        ("10.0.0.2", {"x-forwarded-for": "_hidden"}, "10.0.0.2", "http"),
        # Junk proto is ignored.
        ("10.0.0.2", {"x-forwarded-proto": "gopher"}, "10.0.0.2", "http"),
    ],
)
def test_forwarded_headers_are_believed_only_from_trusted_proxies(
    peer: str, headers: dict[str, str], client: str, scheme: str
) -> None:
    assert _seen(peer, headers) == {"client": client, "scheme": scheme}


def test_no_trusted_proxies_means_no_header_is_believed() -> None:
    seen = _seen("127.0.0.1", {"x-forwarded-for": "203.0.113.7"}, trusted=())
    assert seen == {"client": "127.0.0.1", "scheme": "http"}


def test_trusted_proxies_setting_refuses_nonsense(settings: Settings) -> None:
    with pytest.raises(ValueError, match="TRUSTED_PROXIES"):
        Settings(**(settings.model_dump() | {"trusted_proxies": ("proxy.example",)}))


def test_rate_limits_count_the_forwarded_client(settings: Settings, engine: Engine) -> None:
    tight = Settings(
        **(
            settings.model_dump()
            | {"trusted_proxies": ("10.0.0.2",), "rate_limit_verify": "1/minute"}
        )
    )
    app = create_app(tight, engine=engine)
    with (
        TestClient(app, client=("10.0.0.2", 5000)) as proxy,
        TestClient(app, client=("198.51.100.9", 5000)) as direct,
    ):

        def verify(client: TestClient, forwarded_for: str) -> int:
            headers = {"x-forwarded-for": forwarded_for}
            return client.post("/api/v1/verify", json={}, headers=headers).status_code

        assert verify(proxy, "203.0.113.7") != 429
        assert verify(proxy, "203.0.113.7") == 429  # the same client through the proxy
        assert verify(proxy, "203.0.113.8") != 429  # another client through the proxy
        assert verify(direct, "203.0.113.9") != 429
        assert verify(direct, "203.0.113.10") == 429  # a forged header buys no new budget


def test_the_audit_log_records_the_forwarded_client(
    settings: Settings, engine: Engine, session: Session, master_key: str
) -> None:
    world = make_world(session, master_key)
    user = add_user(session, world.org, Role.owner)
    trusting = Settings(**(settings.model_dump() | {"trusted_proxies": ("10.0.0.0/8",)}))
    app = create_app(trusting, engine=engine)
    with TestClient(app, client=("10.0.0.2", 5000)) as proxy:
        proxy.headers["x-forwarded-for"] = "203.0.113.7"
        assert sign_in(proxy, user.email).status_code == 303
    with Session(engine) as fresh:
        addresses = {
            e.address for e in fresh.exec(select(AuditEvent)) if e.action.startswith("user.sign_in")
        }
    assert addresses == {"203.0.113.7"}
