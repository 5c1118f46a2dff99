"""The console's recipients page over 100,000 credentials: server time per request.

Run: .venv/bin/python benchmarks/console_recipients.py [--rows 100000] [--rounds 20]

Seeds one organisation (`skillshub.demo.make_world`) with ROWS credentials by direct inserts
(one real signed credential's text reused: the page reads names, states and dates, never the
signature), with a realistic spread: two micro-credentials, a tenth revoked or suspended, a
third claimed, some public, some failed e-mails, issue dates over two years. Then it asks the
app in-process (TestClient, a signed-in console viewer) for the page as a browser would and
reports the server time (median and worst of ROUNDS, from the request in to the body out) of:
the first page, a filtered page (micro-credential + state), a search by name, a deep page
(the cursor of the row 90,000 rows down), the CSV export and GET /api/v1/credentials.
SQLite (a temporary file) and, when it answers, PostgreSQL (a scratch database). Prints a
table; asserts nothing about time (the target, under 200 ms, is read off the figures).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import insert, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from accounts import sessions
from accounts.roles import Role
from accounts.users import add_member, create_user
from badges import issuing, recipients
from badges.issuing.service import search_text
from badges.models import IssuedCredential
from catalogue.models import MicroCredential
from keys.sealing import generate_master_key
from skillshub.db import make_engine, upgrade
from skillshub.demo import World, make_world
from skillshub.devsupport import bench_database as database
from skillshub.devsupport import postgres_unreachable_reason
from skillshub.settings import Settings
from skillshub.web.app import create_app
from skillshub.web.console.auth import COOKIE

FIRST = ["Ada", "Grace", "Alan", "Zoë", "Jürgen", "Émile", "Katherine", "Linus", "Ola", "Mia"]
LAST = ["Lovelace", "Hopper", "Turing", "Müller", "Schmidt", "Dupont", "Johnson", "Nowak"]
HTML = {"accept": "text/html"}


def _second_micro_credential(session: Session, world: World) -> MicroCredential:
    mc = world.mc
    other = MicroCredential(
        **{k: v for k, v in mc.model_dump().items() if k not in ("id", "slug", "title")},
        slug=f"{mc.slug}-advanced",
        title=f"{mc.title} (advanced)",
    )
    session.add(other)
    session.flush()
    return other


def seed(engine: Engine, rows: int, master_key: str) -> tuple[World, str, str]:
    """The world, ROWS credentials, and a console viewer's session token; returns also the
    name searched for (rare: one credential in ten thousand)."""
    rng = random.Random(7)
    with Session(engine, expire_on_commit=False) as session:
        world = make_world(session, master_key)
        advanced = _second_micro_credential(session, world)
        template = issuing.issue(
            session,
            world.master_key,
            issuer=world.issuer,
            micro_credential=world.mc,
            recipient=issuing.Recipient("Template", "template@example.org"),
            base_url="http://testserver",
        )
        user = create_user(session, "viewer@bench.example")
        add_member(session, user, world.org, Role.viewer)
        token, _ = sessions.start_session(session, user)
        session.commit()
        start = datetime.now(UTC) - timedelta(days=730)
        batch: list[dict] = []
        for n in range(rows):
            name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
            if n % 10_000 == 5_000:
                name = "Hedy Lamarr"
            email = f"learner{n}@example.org"
            at = start + timedelta(seconds=n * 730 * 86400 // rows)
            roll = rng.random()
            batch.append(
                {
                    "uuid": str(uuid.uuid4()),
                    "issuer_id": world.issuer.id,
                    "micro_credential_id": world.mc.id if n % 3 else advanced.id,
                    "format": "ldp",
                    "recipient_name": name,
                    "recipient_email": email,
                    "identity_hash": "sha256$" + "0" * 64,
                    "valid_from": at,
                    "valid_until": at + timedelta(days=365) if n % 4 == 0 else None,
                    "signed": template.signed,
                    "public": roll < 0.2,
                    "revoked_at": at + timedelta(days=3) if roll > 0.95 else None,
                    "suspended": 0.9 < roll <= 0.95,
                    "created_at": at,
                    "delivery_status": "failed" if roll < 0.02 else "sent",
                    "claimed_at": at + timedelta(days=1) if 0.02 <= roll < 0.35 else None,
                    "search_text": search_text(name, email),
                }
            )
            if len(batch) == 5000:
                _insert(session, batch)
                batch = []
        if batch:
            _insert(session, batch)
        session.commit()
    # As autovacuum would soon after such a load: statistics, and (PostgreSQL) the visibility
    # map that lets the covering index answer without visiting the table.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"))
    return world, token, advanced.slug


def _insert(session: Session, batch: list[dict]) -> None:
    """Plain inserts on SQLite; COPY on PostgreSQL (each row carries a whole credential)."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        session.execute(insert(IssuedCredential), batch)
        return
    columns = list(batch[0])
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f"COPY issued_credential ({', '.join(columns)}) FROM STDIN") as copy:
        for row in batch:
            copy.write_row([_naive_utc(row[c]) for c in columns])


def _naive_utc(value: object) -> object:
    # As catalogue.base.UTCDateTime stores them (COPY bypasses the column type).
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def _deep_cursor(engine: Engine, world: World, depth: int) -> str:
    with Session(engine) as session:
        created_at, row_id = session.exec(
            select(IssuedCredential.created_at, IssuedCredential.id)
            .where(IssuedCredential.issuer_id == world.issuer.id)
            .order_by(col(IssuedCredential.created_at).desc(), col(IssuedCredential.id).desc())
            .offset(depth)
            .limit(1)
        ).one()
    assert row_id is not None  # a stored row
    return recipients.encode_cursor(created_at, row_id)


def timed(call: Callable[[], object], rounds: int) -> tuple[float, float]:
    call()  # warm: templates compiled, caches filled
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), max(times)


def run(kind: str, rows: int, rounds: int) -> None:
    master_key = generate_master_key()
    with database(kind) as url, tempfile.TemporaryDirectory() as data:
        engine = make_engine(url)
        upgrade(engine)
        started = time.perf_counter()
        world, token, advanced = seed(engine, rows, master_key)
        seeded = time.perf_counter() - started
        settings = Settings(
            data_dir=Path(data),
            database_url=url,
            master_key=master_key,
            base_url="http://testserver",
            rate_limit_enabled=False,
        )
        with TestClient(create_app(settings, engine=engine)) as client:
            client.cookies.set(COOKIE, token)
            base = f"/console/orgs/{world.org.slug}/recipients"
            deep = _deep_cursor(engine, world, min(90_000, rows - 60))
            api = {"authorization": f"Bearer {world.token}"}

            def get(path: str, headers: dict[str, str] = HTML) -> Callable[[], object]:
                def call() -> object:
                    answer = client.get(path, headers=headers)
                    assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])
                    return answer

                return call

            year_ago = f"{datetime.now(UTC) - timedelta(days=365):%Y-%m-%d}"
            cases = [
                ("first page", get(base)),
                ("mc + claimed", get(f"{base}?micro_credential={advanced}&state=claimed")),
                ("revoked in the last year", get(f"{base}?state=revoked&issued_from={year_ago}")),
                ("search (rare name)", get(f"{base}?q=lamarr")),
                ("search (common, accents)", get(f"{base}?q=muller")),
                ("deep page (90,000 down)", get(f"{base}?after={deep}")),
                ("API first page", get("/api/v1/credentials?limit=50", api)),
                ("API search", get("/api/v1/credentials?q=lamarr", api)),
            ]
            print(f"\n{kind}: {rows:,} credentials seeded in {seeded:.1f} s")
            print(f"  {'request':32} {'median ms':>10} {'worst ms':>10}")
            for label, call in cases:
                median, worst = timed(call, rounds)
                print(f"  {label:32} {median:10.1f} {worst:10.1f}")
            export_started = time.perf_counter()
            answer = client.get(f"{base}.csv")
            assert answer.status_code == 200
            lines = answer.text.count("\n")
            export_ms = (time.perf_counter() - export_started) * 1000
            label = "CSV export (all rows, once)"
            print(f"  {label:32} {export_ms:10.1f} {'':>10}  {lines:,} lines")
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    args = parser.parse_args()
    kinds = [args.only] if args.only else ["sqlite", "postgresql"]
    for kind in kinds:
        if kind == "postgresql":
            reason = postgres_unreachable_reason()
            if reason:
                print(f"\npostgresql: skipped ({reason})")
                continue
        run(kind, args.rows, args.rounds)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
