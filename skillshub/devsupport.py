"""What the tests and the benchmarks share, importable without pytest: where the official
reference artifacts live, and scratch PostgreSQL databases.

The reference set (../shared/reference beside the clone) is never copied into the repository;
`SKILLSHUB_REFERENCE_DIR` points elsewhere (an empty directory simulates its absence).
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from skillshub.db import make_engine, upgrade

REPO = Path(__file__).resolve().parents[1]
REFERENCE_ENV = "SKILLSHUB_REFERENCE_DIR"
REQUIRE_REFERENCE_ENV = "SKILLSHUB_REQUIRE_REFERENCE"

POSTGRES_ADMIN_URL = os.environ.get(
    "SKILLSHUB_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def reference_dir() -> Path:
    """The reference set's root: $SKILLSHUB_REFERENCE_DIR, else ../shared/reference."""
    override = os.environ.get(REFERENCE_ENV)
    return Path(override) if override else REPO.parent / "shared" / "reference"


def reference_required() -> bool:
    """CI sets SKILLSHUB_REQUIRE_REFERENCE=1: a missing artifact is then a failure."""
    return os.environ.get(REQUIRE_REFERENCE_ENV, "").strip().lower() in ("1", "true", "yes")


def postgres_unreachable_reason(url: str = POSTGRES_ADMIN_URL) -> str | None:
    """None when PostgreSQL answers at `url`, else the reason it does not."""
    try:
        engine = make_engine(url)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:  # any failure means: skip PostgreSQL, say why
        return f"PostgreSQL not reachable at {url}: {type(exc).__name__}"


def create_postgres_database(name: str, admin_url: str = POSTGRES_ADMIN_URL) -> str:
    """A fresh, empty PostgreSQL database beside the admin one; returns its URL."""
    admin = make_engine(admin_url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(name: str, admin_url: str = POSTGRES_ADMIN_URL) -> None:
    admin = make_engine(admin_url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@contextmanager
def bench_database(kind: str) -> Iterator[str]:
    """A migrated, empty database URL of the kind ("sqlite" | "postgresql"), removed after."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as directory:
            url = f"sqlite:///{directory}/bench.db"
            engine = make_engine(url)
            upgrade(engine)
            engine.dispose()
            yield url
        return
    name = f"skillshub_bench_{uuid.uuid4().hex[:8]}"
    url = create_postgres_database(name)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    try:
        yield url
    finally:
        drop_postgres_database(name)
