"""Shared fixtures: every database test runs on SQLite and on PostgreSQL (interop tests on
SQLite only); the reference set's location and how its absence is reported."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from accounts import passwords
from skillshub.db import make_engine, upgrade
from skillshub.devsupport import (
    REFERENCE_ENV,
    REQUIRE_REFERENCE_ENV,
    create_postgres_database,
    drop_postgres_database,
    postgres_unreachable_reason,
)
from skillshub.models import metadata
from skillshub.settings import Settings
from tests.support.reference import MISSING_REFERENCE, REFERENCE

# Browser fixtures (live server, one Chromium per session) and console sign-in
# (tests/support/console.py) for every test module.
pytest_plugins = ["tests.browser", "tests.support.console", "tests.support.console_browser"]

DATABASES = ("sqlite", "postgresql")
# e.g. SKILLSHUB_TEST_DATABASES=sqlite (make test-fast): the other databases' copies of each
# test are deselected, not skipped.
DATABASES_ENV = "SKILLSHUB_TEST_DATABASES"


def _database_of(item: pytest.Item) -> str | None:
    params = getattr(item, "callspec", None)
    if params is None:
        return None
    return params.params.get("db_url") or params.params.get("backend")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect database copies nobody needs: the ones outside SKILLSHUB_TEST_DATABASES, and
    the PostgreSQL copies of interop tests (the oracles check our output, not the database)."""
    wanted = {d.strip() for d in os.environ.get(DATABASES_ENV, ",".join(DATABASES)).split(",")}
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        database = _database_of(item)
        interop_copy = database not in (None, "sqlite") and item.get_closest_marker("interop")
        (drop if database not in (None, *wanted) or interop_copy else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
    # The long tests (slow: multi-process, full-size data; browser: Chromium journeys) first:
    # xdist hands tests out one by one in this order, so a 60 s test dealt last no longer
    # keeps one worker busy while the other waits. The same order on every worker (stable).
    items[:] = sorted(keep, key=_length_class)


def _length_class(item: pytest.Item) -> int:
    if item.get_closest_marker("slow"):
        return 0
    return 1 if item.get_closest_marker("browser") else 2


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config):
    """One line for the tests that skipped for want of the reference set (-ra lists each),
    after the short summary, just above the final counts."""
    yield
    missing = [
        report
        for report in terminalreporter.stats.get("skipped", [])
        if MISSING_REFERENCE in str(report.longrepr)
    ]
    if missing:
        terminalreporter.write_line(
            f"{len(missing)} tests skipped for missing reference data, expected at {REFERENCE} "
            f"(set {REFERENCE_ENV} to move it; {REQUIRE_REFERENCE_ENV}=1 makes this a failure)",
            yellow=True,
            bold=True,
        )


# Argon2id with the production profile (RFC 9106 low-memory: 64 MiB, 3 passes) costs ~0.14 s a
# hash or check; hundreds of sign-ins made that most of the fast loop. Tests hash with the same
# algorithm at the lowest cost; the production profile is pinned by the tests that ask for
# `production_password_hashing`.
_TEST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
_PRODUCTION_HASHING = (passwords.hasher, passwords._DUMMY_HASH)


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashing() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "hasher", _TEST_HASHER)
        patch.setattr(passwords, "_DUMMY_HASH", _TEST_HASHER.hash("matches nothing typed"))
        yield


@pytest.fixture
def production_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """The hashing profile production uses, for the tests that pin it."""
    hasher, dummy = _PRODUCTION_HASHING
    monkeypatch.setattr(passwords, "hasher", hasher)
    monkeypatch.setattr(passwords, "_DUMMY_HASH", dummy)


@pytest.fixture(scope="session")
def postgres_skip_reason() -> str | None:
    reason = postgres_unreachable_reason()
    if reason:
        print(f"\nskipping PostgreSQL tests: {reason}")
    return reason


@pytest.fixture(scope="session")
def _postgres_worker_db(postgres_skip_reason: str | None, worker_id: str) -> Iterator[str | None]:
    if postgres_skip_reason:
        yield None
        return
    name = f"skillshub_test_{worker_id}_{uuid.uuid4().hex[:6]}"
    url = create_postgres_database(name)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    drop_postgres_database(name)


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def worker_id() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(params=DATABASES)
def db_url(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    _sqlite_template: Path,
    postgres_skip_reason: str | None,
) -> Iterator[str]:
    """A migrated, empty database: a copied SQLite file, or the worker's PostgreSQL database."""
    if request.param == "sqlite":
        path = tmp_path / "skillshub.db"
        shutil.copyfile(_sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    if postgres_skip_reason:
        pytest.skip(postgres_skip_reason)
    url = request.getfixturevalue("_postgres_worker_db")
    cleaner = request.getfixturevalue("_postgres_cleaner")
    yield url
    with cleaner.begin() as conn:
        conn.execute(_EMPTY_EVERY_TABLE)


# Emptied after each test, children first. With the job queue's tables (skillshub.jobs): no task
# of one test left for the next (procrastinate_events goes with its jobs, ON DELETE CASCADE).
_EMPTIED = [
    "procrastinate_periodic_defers",
    "procrastinate_jobs",
    "procrastinate_workers",
    *(t.name for t in reversed(metadata.sorted_tables)),
]
# DELETE, not TRUNCATE: TRUNCATE gives each of ~50 tables (and their indexes) new files, ~0.5 s
# a test even when they are empty (seconds under load), where DELETE of the few rows a test
# leaves takes milliseconds. One round trip; the sequences restart at 1 as TRUNCATE ... RESTART
# IDENTITY did. DELETE FROM skill bumps catalogue_version as TRUNCATE skill did.
_EMPTY_EVERY_TABLE = text(
    "DO $$ DECLARE t text; BEGIN "
    f"FOREACH t IN ARRAY ARRAY[{', '.join(repr(name) for name in _EMPTIED)}] LOOP "
    "EXECUTE 'DELETE FROM ' || quote_ident(t); END LOOP; "
    "PERFORM setval(quote_ident(schemaname) || '.' || quote_ident(sequencename), 1, false) "
    "FROM pg_sequences WHERE schemaname = current_schema() AND last_value IS NOT NULL; "
    "END $$"
)


@pytest.fixture(scope="session")
def _postgres_cleaner(_postgres_worker_db: str | None) -> Iterator[Engine]:
    """The worker's after-test cleanup engine: one, not a new engine and connection a test."""
    assert _postgres_worker_db is not None
    engine = make_engine(_postgres_worker_db)
    yield engine
    engine.dispose()


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def statements(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements `engine` runs while the test holds this list (queries counted)."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


@pytest.fixture(scope="session")
def master_key() -> str:
    from keys.sealing import generate_master_key

    return generate_master_key()


@pytest.fixture
def settings(tmp_path: Path, db_url: str, master_key: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=db_url,
        master_key=master_key,
        base_url="http://testserver",
        email_backend="file",
    )


@pytest.fixture
def client(settings: Settings, engine: Engine) -> Iterator:
    from fastapi.testclient import TestClient

    from skillshub.web.app import create_app

    with TestClient(create_app(settings, engine=engine)) as test_client:
        yield test_client
