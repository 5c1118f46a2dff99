"""Multi-host rehearsal: two `skillshub worker` processes, each with its own data directory
(two hosts), share one PostgreSQL database; one is killed with SIGKILL in the middle of a bulk
job. The other takes over its chunk (the periodic requeue), and the job finishes exactly once:
every row issued, no credential twice, no status index given twice or leaked. And one
`skillshub worker --concurrency 2` (two processes on one host) works a job the same way."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from badges.issuing import bulk
from badges.models import (
    BulkJob,
    BulkJobRow,
    ClaimToken,
    IssuedCredential,
    StatusAllocation,
)
from skillshub import jobs
from skillshub.db import make_engine, session_scope, upgrade
from skillshub.devsupport import create_postgres_database, drop_postgres_database
from tests.support.world import make_world

ROOT = Path(__file__).resolve().parents[2]
ROWS = 2400  # three chunks
# The killed worker's job: three chunks of two batches (bulk.BATCH_ROWS = 250) each, a
# production chunk (bulk.CHUNK_ROWS = 1000) cut to 400 in this process and in the workers (the
# same cuts name the chunk tasks), so 1,200 credentials are issued, not 2,400, for the same
# take-over of a killed worker's chunk.
SMALL_CHUNK_ROWS = 400
SMALL_CHUNKS = f"from badges.issuing import bulk; bulk.CHUNK_ROWS = {SMALL_CHUNK_ROWS}; "


def _worker(
    tmp_path: Path, host: str, url: str, master_key: str, *options: str, prelude: str = ""
) -> subprocess.Popen[bytes]:
    env = os.environ | {
        "PYTHONPATH": str(ROOT),
        "SKILLSHUB_DATA_DIR": str(tmp_path / host),
        "SKILLSHUB_DATABASE_URL": url,
        "SKILLSHUB_MASTER_KEY": master_key,
        "SKILLSHUB_BASE_URL": "http://testserver",
        "SKILLSHUB_JOBS_IN_PROCESS": "false",
        "SKILLSHUB_JOBS_STALLED_AFTER_SECONDS": "3",
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            prelude + "from skillshub.cli import app; app()",
            "worker",
            *options,
        ],
        env=env,
        cwd=tmp_path,
        stdout=(tmp_path / f"{host}.log").open("w"),
        stderr=subprocess.STDOUT,
    )


def _doing(engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                text("SELECT count(*) FROM procrastinate_jobs WHERE status = 'doing'")
            ).scalar_one()
        )


def _assert_issued_exactly_once(engine, job_uuid: str, rows: int) -> None:
    """Every row issued once: no credential twice, one status index per credential."""
    with Session(engine) as check:
        done = bulk.get_job(check, job_uuid)
        assert (done.status, done.issued, done.skipped, done.failed) == ("done", rows, 0, 0)
        stored = check.exec(select(BulkJobRow)).all()
        assert len(stored) == rows
        assert {r.status for r in stored} == {"issued"}
        credentials = check.exec(select(IssuedCredential)).all()
        assert len(credentials) == rows  # 0 duplicates
        assert len({c.external_id for c in credentials}) == rows
        assert {r.credential_uuid for r in stored} == {c.uuid for c in credentials}
        allocations = check.exec(select(StatusAllocation)).all()
        # 0 leaked indexes: one per stored credential; none given twice.
        assert sorted(a.credential_uuid for a in allocations) == sorted(c.uuid for c in credentials)
        assert max(Counter((a.list_id, a.index) for a in allocations).values()) == 1


def _three_chunk_job(engine, master_key: str, rows: int) -> BulkJob:
    """A world and a bulk job of `rows` learners in three chunks, its tasks committed with it."""
    with session_scope(engine) as session:
        world = make_world(session, master_key)
        lines = "".join(f"Learner {n},l{n}@example.org\n" for n in range(rows))
        job = bulk.create_job(
            session,
            issuer=world.issuer,
            micro_credential=world.mc,
            rows=bulk.parse_csv("name,email\n" + lines),
        )
        assert jobs.enqueue_job(session, job.uuid) == 3  # committed with the rows
        return job


@pytest.mark.slow
def test_a_worker_killed_mid_job_the_job_finishes_exactly_once(
    tmp_path: Path,
    master_key: str,
    postgres_skip_reason: str | None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if postgres_skip_reason:
        pytest.skip(postgres_skip_reason)
    monkeypatch.setattr(bulk, "CHUNK_ROWS", SMALL_CHUNK_ROWS)
    rows = 3 * SMALL_CHUNK_ROWS
    name = f"skillshub_hosts_{uuid.uuid4().hex[:8]}"
    url = create_postgres_database(name)
    engine = make_engine(url)
    workers: list[subprocess.Popen[bytes]] = []
    try:
        upgrade(engine)
        job = _three_chunk_job(engine, master_key, rows)
        workers = [
            _worker(tmp_path, host, url, master_key, prelude=SMALL_CHUNKS)
            for host in ("host-a", "host-b")
        ]
        # Mid-job: both workers hold a chunk and credentials are being committed.
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            with Session(engine) as check:
                issued = bulk.get_job(check, job.uuid).issued
            if _doing(engine) == 2 and issued >= 100:
                break
            time.sleep(0.2)
        else:
            pytest.fail("the workers did not both start a chunk")
        workers[0].send_signal(signal.SIGKILL)
        workers[0].wait(timeout=30)
        deadline = time.monotonic() + 400
        while time.monotonic() < deadline:
            with Session(engine) as check:
                if bulk.get_job(check, job.uuid).status == "done":
                    break
            assert workers[1].poll() is None, (tmp_path / "host-b.log").read_text()[-3000:]
            time.sleep(1)
        else:
            pytest.fail("the job did not finish: " + (tmp_path / "host-b.log").read_text()[-3000:])
        _assert_issued_exactly_once(engine, job.uuid, rows)
        with engine.connect() as conn:
            # The killed worker's chunk task was found stalled and taken over.
            failed = conn.execute(
                text("SELECT count(*) FROM procrastinate_jobs WHERE status = 'failed'")
            ).scalar_one()
        assert failed >= 1
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.terminate()
                worker.wait(timeout=60)
        engine.dispose()
        drop_postgres_database(name)


@pytest.mark.slow
def test_worker_with_concurrency_2_issues_every_row_exactly_once(
    tmp_path: Path, master_key: str, postgres_skip_reason: str | None
) -> None:
    if postgres_skip_reason:
        pytest.skip(postgres_skip_reason)
    name = f"skillshub_conc_{uuid.uuid4().hex[:8]}"
    url = create_postgres_database(name)
    engine = make_engine(url)
    worker: subprocess.Popen[bytes] | None = None
    rows = ROWS  # three chunks for two processes
    try:
        upgrade(engine)
        job = _three_chunk_job(engine, master_key, rows)
        worker = _worker(tmp_path, "host", url, master_key, "--concurrency", "2")
        log = tmp_path / "host.log"
        registered = 0  # procrastinate workers seen at once: one per process
        deadline = time.monotonic() + 400
        while time.monotonic() < deadline:
            with Session(engine) as check:
                waiting = check.execute(
                    text(
                        "SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing')"
                    )
                ).scalar_one()
                if bulk.get_job(check, job.uuid).status == "done" and not waiting:
                    break  # the chunks, then the e-mail tasks of their batches
                registered = max(
                    registered,
                    check.execute(text("SELECT count(*) FROM procrastinate_workers")).scalar_one(),
                )
            assert worker.poll() is None, log.read_text()[-3000:]
            time.sleep(0.5)
        else:
            pytest.fail("the job did not finish: " + log.read_text()[-3000:])
        assert registered == 2, log.read_text()[-3000:]
        _assert_issued_exactly_once(engine, job.uuid, rows)
        with Session(engine) as check:  # every batch's e-mail task ran: one claim link each
            assert len(check.exec(select(ClaimToken)).all()) == rows
        worker.send_signal(signal.SIGTERM)  # forwarded to both processes: a clean stop
        assert worker.wait(timeout=60) == 0, log.read_text()[-3000:]
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM procrastinate_jobs")).scalar_one() == 0
            assert (
                conn.execute(text("SELECT count(*) FROM procrastinate_workers")).scalar_one() == 0
            )
    finally:
        if worker is not None and worker.poll() is None:
            worker.terminate()
            worker.wait(timeout=60)
        engine.dispose()
        drop_postgres_database(name)
