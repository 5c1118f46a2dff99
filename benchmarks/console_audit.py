"""Audit-log figures: the console page, `GET /api/v1/audit` and the CSV export over a large log.

Run: .venv/bin/python benchmarks/console_audit.py [--events 100000] [--rounds 20]

One organisation's log holds `--events` events (a fifth as many in a second organisation, so
the index must keep them apart), spread over 100 days, three actors and nine actions. Every
figure is a real HTTP request through the app (FastAPI TestClient, in process): the first
page, a page half-way down (keyset cursor), filters, the API, and the whole CSV export; next
to each page, its database query alone (accounts.audit_log.read_page). SQLite
(a file in a temporary directory) and, when it answers, PostgreSQL. Prints a table; asserts
nothing about time.
"""

from __future__ import annotations

import argparse
import logging
import re
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from html import unescape
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import insert, text
from sqlmodel import Session

from accounts import audit_log, sessions
from accounts.models import AuditEvent
from accounts.roles import Role
from accounts.users import add_member, create_user
from catalogue.base import pk
from keys.sealing import generate_master_key
from skillshub.db import make_engine
from skillshub.demo import make_world
from skillshub.devsupport import bench_database as database
from skillshub.devsupport import postgres_unreachable_reason
from skillshub.settings import Settings
from skillshub.web.app import create_app
from skillshub.web.console.auth import COOKIE

ACTORS = [
    ("user", "ada@voltacademy.example"),
    ("cli", "deploy"),
    ("token", "API token shub_ab… (LMS)"),
]
ACTIONS = [
    "credential.issue",
    "credential.revoke",
    "credential.suspend",
    "member.invite",
    "member.role_change",
    "token.create",
    "micro_credential.update",
    "course.update",
    "user.sign_in",
]
START = datetime(2026, 1, 1, tzinfo=UTC)


def _seed(session: Session, organisation_id: int, count: int) -> float:
    step = timedelta(days=100) / count
    started = time.perf_counter()
    for offset in range(0, count, 5000):
        rows = []
        for n in range(offset, min(count, offset + 5000)):
            kind, label = ACTORS[n % 3]
            rows.append(
                {
                    "organisation_id": organisation_id,
                    "actor_kind": kind,
                    "actor_label": label,
                    "action": ACTIONS[n % len(ACTIONS)],
                    "subject_type": "credential",
                    "subject_id": str(uuid.UUID(int=n)),
                    "details": {"n": n},
                    "address": "198.51.100.7",
                    "created_at": START + step * n,
                }
            )
        session.execute(insert(AuditEvent), rows)
        session.commit()
    return time.perf_counter() - started


def median_ms(action: Callable[[], object], rounds: int) -> float:
    action()
    timings = []
    for _ in range(rounds):
        began = time.perf_counter()
        action()
        timings.append((time.perf_counter() - began) * 1000)
    return statistics.median(timings)


def _get(client: TestClient, path: str, **params: str) -> str:
    answer = client.get(path, params=params)
    if answer.status_code != 200:
        raise SystemExit(f"{path} answered {answer.status_code}: {answer.text[:200]}")
    return answer.text


def run(kind: str, events: int, rounds: int) -> None:
    with database(kind) as url, tempfile.TemporaryDirectory() as data:
        master_key = generate_master_key()
        engine = make_engine(url)
        with Session(engine, expire_on_commit=False) as session:
            world = make_world(session, master_key)
            other = make_world(session, master_key, slug="elsewhere")
            user = create_user(session, "bench@voltacademy.example")
            add_member(session, user, world.org, Role.owner)
            token, _ = sessions.start_session(session, user, ttl=timedelta(hours=2))
            session.commit()
            seeded = _seed(session, pk(world.org), events)
            _seed(session, pk(other.org), events // 5)
        with engine.begin() as connection:
            # What autovacuum (PostgreSQL) or `PRAGMA optimize` would have done by now on a
            # database that grew this large: the planner's statistics.
            connection.execute(text("ANALYZE"))
        settings = Settings(
            data_dir=Path(data), database_url=url, master_key=master_key, rate_limit_enabled=False
        )
        with TestClient(create_app(settings, engine=engine)) as client:
            client.cookies.set(COOKIE, token)
            client.headers["accept"] = "text/html"
            page = f"/console/orgs/{world.org.slug}/audit"
            html, cursor, depth = _get(client, page), page, 1
            while depth < events // 100:  # walk half-way down, 50 a page
                found = re.search(r'<a href="([^"]+)" rel="next">', html)
                if found is None:
                    break
                cursor, depth = unescape(found.group(1)), depth + 1
                html = _get(client, cursor)
            api = {"authorization": f"Bearer {world.token}"}
            deep_cursor = cursor.split("cursor=")[-1] if "cursor=" in cursor else None
            cases: list[tuple[str, dict[str, str], str | None]] = [
                ("page 1", {}, None),
                (f"page {depth} (cursor)", {}, deep_cursor),
                ("actor contains 'lms'", {"actor": "lms"}, None),
                ("action group 'member.'", {"action": "member."}, None),
                ("one day (since = until)", {"since": "2026-02-15", "until": "2026-02-15"}, None),
                ("no match (actor 'nobody')", {"actor": "nobody"}, None),
            ]
            figures: dict[str, tuple[float, float]] = {}
            with Session(engine) as reader:
                for name, params, at in cases:
                    filters = audit_log.parse_filter(**params)
                    query_ms = median_ms(
                        partial(audit_log.read_page, reader, pk(world.org), filters, cursor=at),
                        rounds,
                    )
                    where = f"{page}?cursor={at}" if at else page
                    page_ms = median_ms(partial(_get, client, where, **params), rounds)
                    figures[name] = (query_ms, page_ms)
            api_ms = median_ms(
                lambda: client.get("/api/v1/audit", params={"limit": 200}, headers=api), rounds
            )
            began = time.perf_counter()
            export = client.get(f"{page}.csv")
            export_s = time.perf_counter() - began
        rows = export.text.count("\n") - 1
        engine.dispose()
    others = events // 5
    print(f"\n{kind}: {events} events (+{others} in another organisation), seeded {seeded:.1f} s")
    print(f"  {'':32} {'query':>9} {'page':>9}   (medians, ms)")
    for name, (query_ms, page_ms) in figures.items():
        print(f"  {name:32} {query_ms:9.1f} {page_ms:9.1f}")
    print(f"  {'API, 200 events a page':32} {'':9} {api_ms:9.1f}")
    print(f"  CSV export: {rows} rows in {export_s:.2f} s ({rows / export_s:,.0f} rows/s)")


def main() -> None:
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request otherwise
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    run("sqlite", args.events, args.rounds)
    reason = postgres_unreachable_reason()
    if reason:
        print(f"\npostgresql: skipped ({reason})")
    else:
        run("postgresql", args.events, args.rounds)


if __name__ == "__main__":
    main()
