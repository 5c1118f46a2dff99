"""Operators' view (issue 19): /metrics, /readyz, request ids, JSON logs without secrets."""

from __future__ import annotations

import email
import email.policy
import io
import json
import logging
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from pydantic import ValidationError
from sqlalchemy.engine import Engine
from sqlmodel import Session

from accounts.roles import Role
from keys.sealing import generate_master_key
from skillshub import logs
from skillshub.db import make_engine
from skillshub.settings import Settings
from skillshub.web import csrf
from skillshub.web.app import create_app
from tests.support.app import app_of
from tests.support.console import PASSWORD, add_user
from tests.support.present import present
from tests.support.world import World, make_world

LEARNER = "ada.lovelace@example.org"


@pytest.fixture
def world(session: Session, master_key: str) -> World:
    return make_world(session, master_key)


def _with(settings: Settings, **changes: Any) -> Settings:
    return Settings(**(settings.model_dump() | changes))


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def _value(text: str, name: str, **labels: str) -> float:
    return _samples(text).get((name, tuple(sorted(labels.items()))), 0.0)


def _issue(client: Any, world: World, **extra: Any) -> dict[str, Any]:
    answer = client.post(
        f"/api/v1/issuers/{world.issuer.slug}/credentials",
        json={"micro_credential": world.mc.slug, "name": "Ada Lovelace", "email": LEARNER} | extra,
        headers={"authorization": f"Bearer {world.token}"},
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


# --- /metrics --------------------------------------------------------------------------------


def test_metrics_are_off_by_default(client: TestClient) -> None:
    assert client.get("/metrics").status_code == 404


def test_metrics_count_by_route_template_and_carry_no_personal_data(
    settings: Settings, engine: Engine, world: World
) -> None:
    both = ("revocation", "suspension")
    metered = _with(settings, metrics="on", rate_limit_verify="2/minute", status_purposes=both)
    app = create_app(metered, engine=engine)
    with TestClient(app) as client:
        before = client.get("/metrics").text
        issued = [_issue(client, world) for _ in range(3)]
        auth = {"authorization": f"Bearer {world.token}"}
        assert client.post(f"/api/v1/credentials/{issued[0]['id']}/revoke", headers=auth).is_success
        assert client.post(
            f"/api/v1/credentials/{issued[1]['id']}/suspend", headers=auth
        ).is_success
        assert client.get(f"/api/v1/credentials/{issued[2]['id']}", headers=auth).is_success
        assert client.get("/no/such/page/ada.lovelace@example.org").status_code == 404
        for _ in range(3):  # two verified, then refused by the rate limit
            client.post("/api/v1/verify", json=issued[2]["credential"])
        after = client.get("/metrics")
    assert after.headers["content-type"].startswith("text/plain")
    text = after.text

    def grew(name: str, **labels: str) -> float:
        return _value(text, name, **labels) - _value(before, name, **labels)

    assert grew("skillshub_credentials_total", event="issued") == 3
    assert grew("skillshub_credentials_total", event="revoked") == 1
    assert grew("skillshub_credentials_total", event="suspended") == 1
    assert grew("skillshub_emails_total", outcome="sent") == 3
    assert grew("skillshub_verifications_total", verdict="valid") == 2
    assert grew("skillshub_rate_limit_refusals_total", rate_class="verify") == 1
    route = "/api/v1/credentials/{credential_id}"
    assert grew("skillshub_http_requests_total", method="GET", route=route, status="200") == 1
    assert (
        grew("skillshub_http_requests_total", method="GET", route="<unmatched>", status="404") == 1
    )
    assert (
        grew(
            "skillshub_http_request_duration_seconds_count",
            method="POST",
            route="/api/v1/issuers/{slug}/credentials",
        )
        == 3
    )
    assert _value(text, "skillshub_jobs", state="queued") == 0
    # Nothing that names a person, a credential or a secret.
    for secret in (LEARNER, "Lovelace", world.token, *(i["id"] for i in issued)):
        assert secret not in text


def test_metrics_on_a_separate_address_are_not_served_by_the_app(
    settings: Settings, engine: Engine
) -> None:
    separate = _with(settings, metrics="127.0.0.1:9464")
    assert separate.metrics_address == ("127.0.0.1", 9464)
    app = create_app(separate, engine=engine)
    assert app.state.metrics_registry is not None
    with TestClient(app) as client:
        assert client.get("/metrics").status_code == 404


@pytest.mark.parametrize("value", ["yes", "9464", "host:", ":99999"])
def test_metrics_setting_refuses_nonsense(settings: Settings, value: str) -> None:
    with pytest.raises(ValidationError, match="METRICS"):
        _with(settings, metrics=value)


def test_jobs_gauges_follow_bulk_jobs_whose_lines_carry_the_request_id(
    settings: Settings, engine: Engine, world: World, json_log: io.StringIO
) -> None:
    app = create_app(_with(settings, metrics="on"), engine=engine)
    logs.configure("INFO", "json", stream=json_log)
    rows = "name,email\nAda,ada@example.org\nBob,not-an-address\n"
    with TestClient(app) as client:
        started = client.post(
            f"/api/v1/issuers/{world.issuer.slug}/credentials/bulk",
            params={"micro_credential": world.mc.slug},
            content=rows,
            headers={
                "authorization": f"Bearer {world.token}",
                "content-type": "text/csv",
                "x-request-id": "bulk-7",
            },
        )
        assert started.status_code == 202, started.text
        text = client.get("/metrics").text
    assert _value(text, "skillshub_jobs", state="done") == 1
    assert _value(text, "skillshub_job_rows_failed") == 1
    job_lines = [line for line in _lines(json_log) if line["logger"] == "skillshub.bulk"]
    assert [line["message"].split(":")[0].split()[-1] for line in job_lines] == ["started", "done"]
    assert all(line["request_id"] == "bulk-7" for line in job_lines)


# --- /readyz ---------------------------------------------------------------------------------


def test_readyz_says_ready_with_every_part_ok(client: TestClient, world: World) -> None:
    answer = client.get("/readyz")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "ready"
    assert set(body["checks"]) == {"database", "migrations", "master_key", "jobs"}


def test_readyz_names_a_master_key_that_does_not_open_the_keys(
    client: TestClient, world: World
) -> None:
    from keys.sealing import MasterKey

    app_of(client).state.master_key = MasterKey(generate_master_key())
    answer = client.get("/readyz")
    assert answer.status_code == 503
    checks = answer.json()["checks"]
    assert checks["database"] == "ok" and checks["migrations"] == "ok"
    assert "different master key" in checks["master_key"]


def test_readyz_names_pending_migrations(settings: Settings, tmp_path: Path) -> None:
    blank = make_engine(f"sqlite:///{tmp_path / 'blank.db'}")
    app = create_app(settings, engine=blank)  # no lifespan: nothing migrated, no key opened
    answer = TestClient(app).get("/readyz")
    assert answer.status_code == 503
    checks = answer.json()["checks"]
    assert checks["database"] == "ok"
    assert checks["migrations"].startswith("pending: the database is at no revision")
    assert checks["master_key"].startswith("not opened")


def test_readyz_names_a_database_that_does_not_answer(settings: Settings) -> None:
    gone = make_engine("postgresql+psycopg://nobody:hunter2@127.0.0.1:1/none")
    answer = TestClient(create_app(settings, engine=gone)).get("/readyz")
    assert answer.status_code == 503
    checks = answer.json()["checks"]
    assert checks["database"].startswith("cannot connect to the database")
    assert "hunter2" not in answer.text
    assert checks["migrations"].startswith("not checked")


# --- request ids and logs --------------------------------------------------------------------


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """What the app's log handler writes, in JSON (configured again after create_app)."""
    buffer = io.StringIO()
    yield buffer
    logs.configure("INFO", "text")


def _lines(buffer: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]


def test_request_id_is_kept_or_made_and_reaches_background_tasks(
    settings: Settings, engine: Engine, world: World, json_log: io.StringIO
) -> None:
    app = create_app(_with(settings, email_backend="console", log_format="json"), engine=engine)
    logs.configure("INFO", "json", stream=json_log)
    with TestClient(app) as client:
        given = client.get("/healthz", headers={"x-request-id": "edge-42.a"})
        assert given.headers["x-request-id"] == "edge-42.a"
        made = client.get("/healthz", headers={"x-request-id": "bad id\twith\nstuff"})
        assert re.fullmatch(r"[0-9a-f]{32}", made.headers["x-request-id"])
        assert client.get("/healthz").headers["x-request-id"] != made.headers["x-request-id"]
        issued = client.post(
            f"/api/v1/issuers/{world.issuer.slug}/credentials",
            json={"micro_credential": world.mc.slug, "name": "Ada", "email": LEARNER},
            headers={"authorization": f"Bearer {world.token}", "x-request-id": "issue-1"},
        )
        assert issued.status_code == 201
    # The claim e-mail goes out in a background task after the response: its line has the id.
    mail_lines = [line for line in _lines(json_log) if line["logger"] == "skillshub.mail"]
    assert mail_lines and all(line["request_id"] == "issue-1" for line in mail_lines)
    assert all({"time", "level", "message"} <= set(line) for line in mail_lines)
    assert LEARNER not in json_log.getvalue()


def test_scrub_masks_addresses_tokens_and_claim_links() -> None:
    line = logs.scrub(
        "mail to ada.lovelace@example.org, Authorization: Bearer abc.def "
        "token shub_AbCdEf123456789012345678 GET /credentials/x/claim?token=s3cret&lang=de "
        "(b'set-cookie', b'shub_learner=c00k1e; Path=/') Cookie: shub_console=c0ns0le"
    )
    assert "ada.lovelace" not in line and "a…@example.org" in line
    assert "abc.def" not in line and "AbCdEf123" not in line and "s3cret" not in line
    assert "c00k1e" not in line and "c0ns0le" not in line and "shub_learner=" in line


_UVICORN = [logging.getLogger(name) for name in ("uvicorn", "uvicorn.error", "uvicorn.access")]


class _LiveServer:
    """The app under uvicorn, configured as `skillshub serve` runs it."""

    def __init__(self, app: Any) -> None:
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, proxy_headers=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        # As under `serve` (log_config=None): uvicorn's lines reach the root handler, even
        # after another test's server configured uvicorn's loggers its own way.
        self._saved = [(log, log.propagate, list(log.handlers), log.level) for log in _UVICORN]
        for log in _UVICORN:
            log.propagate, log.handlers[:] = True, []
            log.setLevel(logging.NOTSET)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert self.thread.is_alive() and time.monotonic() < deadline, "server did not start"
            time.sleep(0.05)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        for log, propagate, handlers, level in self._saved:
            log.propagate, log.handlers[:] = propagate, handlers
            log.setLevel(level)


def test_no_secret_in_any_log_line_across_issue_claim_and_sign_in(
    settings: Settings, engine: Engine, session: Session, world: World, json_log: io.StringIO
) -> None:
    """A real server's log (access lines included) through issuing, the claim e-mail, the
    claim page and form, the learner's page, and a console sign-in: every secret that passed
    through is looked for in every line."""
    staff = add_user(session, world.org, Role.owner, email="grace.hopper@voltacademy.example")
    live = _with(settings, log_format="json", log_level="DEBUG")
    app = create_app(live, engine=engine)
    logs.configure("DEBUG", "json", stream=json_log)
    with _LiveServer(app) as base, httpx.Client(base_url=base) as http:
        issued = _issue(http, world)
        outbox, deadline = live.data_dir / "outbox", time.monotonic() + 20
        while not list(outbox.glob("*.eml")) and time.monotonic() < deadline:
            time.sleep(0.05)  # the claim e-mail is a background task, after the response
        [mail] = outbox.glob("*.eml")
        message = email.message_from_bytes(mail.read_bytes(), policy=email.policy.default)
        text = present(message.get_body(("plain",))).get_content()
        [link] = re.findall(r"https?://[^/\s]+(/credentials/\S+/claim\?token=(\S+))", text)
        path, claim_token = link
        assert http.get(path, headers={"accept": "text/html"}).status_code == 200
        nonce = http.cookies[csrf.COOKIE]
        form = {"token": claim_token, "csrf_token": csrf.token_for(app.state.master_key, nonce)}
        claimed = http.post(path.split("?")[0], data=form, headers={"accept": "text/html"})
        assert claimed.status_code == 303, claimed.text
        cookies = set(http.cookies.values())
        http.get("/console/login", headers={"accept": "text/html"})
        login = {
            "email": staff.email,
            "password": PASSWORD,
            "csrf_token": csrf.token_for(app.state.master_key, http.cookies[csrf.COOKIE]),
        }
        signed_in = http.post("/console/login", data=login, follow_redirects=False)
        assert signed_in.status_code == 303, signed_in.text
        cookies |= set(http.cookies.values())
        bad = {**login, "password": "wrong " + PASSWORD}
        http.post("/console/login", data=bad, follow_redirects=False)
    written = json_log.getvalue()
    lines = _lines(json_log)
    assert any(line["logger"] == "uvicorn.access" for line in lines), "access lines captured"
    assert any("/claim?token=[redacted]" in line["message"] for line in lines)
    secrets = {
        "the API token": world.token,
        "the claim token": claim_token,
        "the learner's address": LEARNER,
        "the staff member's address": staff.email,
        "the password": PASSWORD,
        "the master key": settings.master_key or "",
        "the learner's name": "Lovelace",
    } | {f"a cookie ({value[:4]}…)": value for value in cookies if len(value) >= 16}
    assert issued["id"] in written  # credential ids are not secrets: the log is not empty
    for what, value in secrets.items():
        leaks = [line for line in written.splitlines() if value in line]
        assert value and not leaks, f"{what} is in the log: {leaks[:2]}"


def test_readyz_names_a_database_migrated_by_a_newer_release(
    client: TestClient, engine: Engine
) -> None:
    from sqlalchemy import text

    with engine.begin() as conn:
        real = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        conn.execute(text("UPDATE alembic_version SET version_num = 'f00dfeedbeef'"))
    try:
        answer = client.get("/readyz")
    finally:
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": real})
    assert answer.status_code == 503
    assert "a revision this code does not know" in answer.json()["checks"]["migrations"]
