"""The learner's backpack: server time of its pages for a learner with many badges, among many
other learners' credentials.

Run: .venv/bin/python benchmarks/learner_backpack.py [--badges 50] [--imports 20] [--others 50000]
[--rounds 10]

Seeds one provider (`skillshub.demo.make_world`) with BADGES real signed credentials to one
address (the issuer's spelling of it in mixed case) and OTHERS credentials to other addresses
(direct inserts of one credential's text: the page never reads them, but the lookup must not
scan them: the lower(recipient_email) index), and IMPORTS badges from a second provider
imported into the backpack (each verified again whenever the page is shown). Then it asks the
app in-process (TestClient, a signed-in learner) and reports the server time (median and worst
of ROUNDS) of: my badges, one import (verify + store), the zip of everything, and the public
profile. SQLite (a temporary file) and, when it answers, PostgreSQL. Prints a table; asserts
nothing about time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import insert, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from backpack import accounts, items, sharing
from backpack.models import Learner
from badges import issuing
from badges.models import IssuedCredential
from keys.sealing import generate_master_key
from skillshub.db import make_engine, upgrade
from skillshub.demo import make_world
from skillshub.devsupport import bench_database as database
from skillshub.devsupport import postgres_unreachable_reason
from skillshub.settings import Settings
from skillshub.verifier import verification_context
from skillshub.web.app import create_app
from skillshub.web.learner_auth import BACKPACK_COOKIE

EMAIL = "ada.lovelace@example.org"
BASE = "http://testserver"


def seed(
    engine: Engine, settings: Settings, badges: int, imports: int, others: int, master_key: str
) -> tuple:
    with Session(engine, expire_on_commit=False) as session:
        world = make_world(session, master_key)
        second = make_world(session, master_key, slug="gridschool")
        for _ in range(badges):
            issuing.issue(
                session,
                world.master_key,
                issuer=world.issuer,
                micro_credential=world.mc,
                recipient=issuing.Recipient("Ada Lovelace", "Ada.Lovelace@Example.org"),
                base_url=BASE,
            )
        foreign = [
            issuing.issue(
                session,
                second.master_key,
                issuer=second.issuer,
                micro_credential=second.mc,
                recipient=issuing.Recipient("Someone", f"someone{n}@example.org"),
                base_url=BASE,
            ).signed
            for n in range(imports + 1)
        ]
        template = foreign[0]
        batch = []
        for n in range(others):
            batch.append(
                {
                    "uuid": str(uuid.uuid4()),
                    "issuer_id": world.issuer.id,
                    "micro_credential_id": world.mc.id,
                    "format": "ldp",
                    "recipient_name": "Other",
                    "recipient_email": f"learner{n}@example.org",
                    "valid_from": datetime.now(UTC),
                    "signed": template,
                    "created_at": datetime.now(UTC),
                }
            )
            if len(batch) == 5000:
                session.execute(insert(IssuedCredential), batch)
                batch = []
        if batch:
            session.execute(insert(IssuedCredential), batch)
        learner = Learner(email=EMAIL, handle="ada", display_name="Ada", profile_public=True)
        session.add(learner)
        session.flush()
        context = verification_context(settings).bound(session)
        for signed in foreign[1:]:
            item, _ = items.add_import(session, learner, items.check_import(context, signed))
            sharing.set_on_profile(session, learner, item.key, True)
        items.claim_all(session, learner)
        token = accounts.start_session(session, learner)
        session.commit()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"))
    return token, template


def timed(call: Callable[[], object], rounds: int) -> tuple[float, float]:
    call()
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), max(times)


def run(kind: str, badges: int, imports: int, others: int, rounds: int) -> None:
    master_key = generate_master_key()
    with database(kind) as url, tempfile.TemporaryDirectory() as data:
        engine = make_engine(url)
        upgrade(engine)
        settings = Settings(
            data_dir=Path(data),
            database_url=url,
            master_key=master_key,
            base_url=BASE,
            rate_limit_enabled=False,
        )
        token, template = seed(engine, settings, badges, imports, others, master_key)
        with TestClient(create_app(settings, engine=engine)) as client:
            client.cookies.set(BACKPACK_COOKIE, token)
            from skillshub.web import csrf

            client.cookies.set(csrf.COOKIE, "n" * 43)
            field = csrf.token_for(client.app.state.master_key, "n" * 43)  # type: ignore[attr-defined]

            def get(path: str) -> Callable[[], object]:
                def call() -> object:
                    answer = client.get(path)
                    assert answer.status_code == 200, (path, answer.status_code)
                    return answer

                return call

            def import_one() -> object:
                answer = client.post(
                    "/backpack/import",
                    data={"credential": template, csrf.FIELD: field},
                    follow_redirects=False,
                )
                assert answer.status_code == 303, answer.text[:300]
                return answer

            figures = {
                f"my badges ({badges} + {imports} imports re-verified)": get("/backpack"),
                "import one badge (verify + store)": import_one,
                "zip of everything": get("/backpack/download"),
                f"public profile ({imports} badges)": get("/profiles/ada"),
            }
            print(f"\n{kind}: {others} other learners' credentials")
            print(f"{'request':<52} {'median ms':>10} {'worst ms':>10}")
            for name, call in figures.items():
                median, worst = timed(call, rounds)
                print(f"{name:<52} {median:>10.1f} {worst:>10.1f}")
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--badges", type=int, default=50)
    parser.add_argument("--imports", type=int, default=20)
    parser.add_argument("--others", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    run("sqlite", args.badges, args.imports, args.others, args.rounds)
    reason = postgres_unreachable_reason()
    if reason:
        print(f"\npostgresql: skipped ({reason})", file=sys.stderr)
    else:
        run("postgresql", args.badges, args.imports, args.others, args.rounds)


if __name__ == "__main__":
    main()
