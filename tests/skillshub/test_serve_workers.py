"""Several web workers: migrations run once under a lock (PostgreSQL advisory lock, a file
lock beside SQLite), and `skillshub serve --workers 2` starts on a fresh database."""

from __future__ import annotations

import fcntl
import multiprocessing
import os
import socket
import subprocess
import sys
import time
import uuid
from multiprocessing.synchronize import Barrier
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from skillshub.db import (
    MIGRATION_LOCK_KEY,
    current_revision,
    head_revision,
    make_engine,
    migration_lock,
)
from skillshub.devsupport import create_postgres_database, drop_postgres_database

ROOT = Path(__file__).resolve().parents[2]


def test_the_migration_lock_keeps_out_another_process(engine: Engine) -> None:
    with migration_lock(engine):
        if engine.dialect.name == "postgresql":
            other = make_engine(engine.url.render_as_string(hide_password=False))
            try:
                with other.connect() as conn:
                    taken = conn.execute(
                        text("SELECT pg_try_advisory_lock(:k)"), {"k": MIGRATION_LOCK_KEY}
                    ).scalar()
                    assert taken is False
            finally:
                other.dispose()
        else:
            lock = f"{engine.url.database}.migrate.lock"
            with open(lock, "a") as handle, pytest.raises(BlockingIOError):
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    # Released: the next one takes it at once.
    with migration_lock(engine):
        pass


# Fresh databases a run: each race is won by timing, so one could pass by luck. SQLite's is cheap,
# and its rarest loss (both switching a new file to WAL at once) showed about once in 15 starts.
ATTEMPTS = {"sqlite": 12, "postgresql": 3}


def _prepare_each(urls: list[str], data_dir: str, master_key: str, start: Barrier) -> None:
    """Start the app (migrate, check the master key) on each database in turn, the moment the
    other process does too. Imported once, then the barrier: the processes race on every
    database at the same instant, not staggered by their import times."""
    from skillshub.settings import Settings
    from skillshub.web.app import prepare

    for url in urls:
        settings = Settings(data_dir=Path(data_dir), database_url=url, master_key=master_key)
        engine = make_engine(url)
        start.wait(timeout=120)
        try:
            prepare(settings, engine)
        except BaseException:
            start.abort()  # the other process stops at once rather than waiting for this one
            raise
        engine.dispose()


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_two_processes_starting_on_a_fresh_database_both_start(
    backend: str, tmp_path: Path, master_key: str, postgres_skip_reason: str | None
) -> None:
    if backend == "postgresql" and postgres_skip_reason:
        pytest.skip(postgres_skip_reason)
    context = multiprocessing.get_context("spawn")
    attempts = range(ATTEMPTS[backend])
    names = [f"skillshub_race_{uuid.uuid4().hex[:8]}" for _ in attempts]
    if backend == "sqlite":
        urls = [f"sqlite:///{tmp_path / f'race{attempt}.db'}" for attempt in attempts]
    else:
        urls = [create_postgres_database(name) for name in names]
    start = context.Barrier(2)
    starters = [
        context.Process(target=_prepare_each, args=(urls, str(tmp_path / "d"), master_key, start))
        for _ in range(2)
    ]
    try:
        for starter in starters:
            starter.start()
        for starter in starters:
            starter.join(timeout=240)
        assert [s.exitcode for s in starters] == [0, 0]
        for url in urls:
            engine = make_engine(url)
            assert current_revision(engine) == head_revision()
            engine.dispose()
    finally:
        for starter in starters:
            if starter.is_alive():
                starter.kill()
        if backend == "postgresql":
            for name in names:
                drop_postgres_database(name)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.slow
def test_serve_with_two_workers_on_a_fresh_sqlite_database(tmp_path: Path, master_key: str) -> None:
    port = _free_port()
    env = os.environ | {
        "PYTHONPATH": str(ROOT),
        "SKILLSHUB_DATA_DIR": str(tmp_path / "data"),
        "SKILLSHUB_MASTER_KEY": master_key,
        "SKILLSHUB_BASE_URL": f"http://127.0.0.1:{port}",
    }
    env.pop("SKILLSHUB_DATABASE_URL", None)
    serve_args = ["--workers", "2", "--port", str(port)]
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-c", "from skillshub.cli import app; app()", "serve", *serve_args],
        env=env,
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 90
        answered = 0
        while time.monotonic() < deadline and answered < 20:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200:
                    answered += 1
            except httpx.TransportError:
                time.sleep(0.5)
        assert answered == 20
        # Both workers finished starting (neither died on a locked database).
        for _ in range(60):
            if (tmp_path / "serve.log").read_text().count("Application startup complete") >= 2:
                break
            time.sleep(0.5)
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    output = (tmp_path / "serve.log").read_text()
    assert output.count("Application startup complete") == 2, output[-3000:]
    assert "database is locked" not in output
    assert "Traceback" not in output, output[-3000:]
