"""The job engine (skillshub.jobs): a job a crash left unfinished goes on when the app starts
(in-process on SQLite, re-enqueued and worked on PostgreSQL), chunks are enqueued once, and
`skillshub worker` says what it needs."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from badges.issuing import bulk
from badges.models import BulkJob, BulkJobRow, IssuedCredential
from skillshub import jobs
from skillshub.cli import app as cli
from skillshub.db import writer
from skillshub.settings import Settings
from skillshub.web.app import create_app
from tests.support.world import World, make_world


@pytest.fixture
def world(session: Session, master_key: str) -> World:
    return make_world(session, master_key)


def _interrupted_job(engine: Engine, session: Session, world: World, rows: int) -> str:
    """A job as a crash leaves it: `running`, its first row issued, the others pending."""
    lines = "".join(f"P{n},p{n}@example.org\n" for n in range(rows))
    job = bulk.create_job(
        session,
        issuer=world.issuer,
        micro_credential=world.mc,
        rows=bulk.parse_csv("name,email\n" + lines),
    )
    session.commit()
    how = bulk.Issuing(world.master_key, "http://testserver")
    first = bulk.chunks(session, job)[0]
    bulk.start_job(writer(engine), job.uuid)
    bulk.run_chunk(writer(engine), how, job.uuid, (first[0], first[0]))
    return job.uuid


def test_a_job_left_running_resumes_when_the_app_starts(
    settings: Settings, engine: Engine, session: Session, world: World
) -> None:
    job_uuid = _interrupted_job(engine, session, world, rows=5)
    with Session(engine) as check:
        job = bulk.get_job(check, job_uuid)
        assert (job.status, job.issued) == ("running", 1)
    app = create_app(settings, engine=engine)
    with TestClient(app):
        resuming = app.state.jobs.resuming
        assert resuming is not None
        resuming.join(timeout=120)
    with Session(engine) as check:
        job = bulk.get_job(check, job_uuid)
        assert (job.status, job.issued, job.skipped, job.failed) == ("done", 5, 0, 0)
        assert len(check.exec(select(IssuedCredential)).all()) == 5
        assert not check.exec(select(BulkJobRow).where(BulkJobRow.status == "pending")).all()


def test_nothing_to_resume_starts_nothing(settings: Settings, engine: Engine) -> None:
    app = create_app(settings, engine=engine)
    with TestClient(app):
        assert app.state.jobs.resuming is None


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_chunks_are_enqueued_once_and_a_lost_enqueue_is_recovered(
    settings: Settings,
    engine: Engine,
    session: Session,
    world: World,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bulk, "CHUNK_ROWS", 4)
    lines = "".join(f"P{n},p{n}@example.org\n" for n in range(10))
    job = bulk.create_job(
        session,
        issuer=world.issuer,
        micro_credential=world.mc,
        rows=bulk.parse_csv("name,email\n" + lines),
    )
    session.commit()
    runtime = jobs.Runtime(settings, writer(engine), world.master_key)

    def queued() -> list[str]:
        with engine.connect() as conn:
            return list(
                conn.execute(
                    text("SELECT queueing_lock FROM procrastinate_jobs WHERE task_name = :t"),
                    {"t": jobs.CHUNK_TASK},
                ).scalars()
            )

    # Never enqueued (the process died after the job's commit): recovered, 3 chunks.
    assert jobs.recover_now(runtime) == 3
    assert len(set(queued())) == 3
    app = jobs.make_app(engine)
    with app.open():
        assert jobs.defer_job(app, engine, job.uuid) == 3  # waiting already: not queued again
    assert jobs.recover_now(runtime) == 0
    assert sorted(queued()) == sorted(
        jobs.chunk_lock(job.uuid, c) for c in bulk.chunks(session, job)
    )
    jobs.run_worker(runtime, wait=False, install_signal_handlers=False)
    with Session(engine) as check:
        done = bulk.get_job(check, job.uuid)
        assert (done.status, done.issued) == ("done", 10)
        assert check.exec(select(BulkJob)).one().finished_at is not None


def test_worker_needs_postgresql(tmp_path: Path, master_key: str) -> None:
    result = CliRunner().invoke(
        cli,
        ["worker"],
        env={"SKILLSHUB_DATA_DIR": str(tmp_path / "data"), "SKILLSHUB_MASTER_KEY": master_key},
    )
    assert result.exit_code == 2
    assert "workers need PostgreSQL" in result.output


def test_a_job_whose_rows_all_failed_their_checks_is_done_at_once(
    settings: Settings, engine: Engine, session: Session, world: World
) -> None:
    job = bulk.create_job(
        session,
        issuer=world.issuer,
        micro_credential=world.mc,
        rows=bulk.parse_csv("name,email\nAda,not-an-address\n,\nBo,also-not\n"),
    )
    session.commit()
    done = jobs.Jobs(settings, engine, world.master_key).run(job.uuid)
    assert (done.status, done.total, done.failed, done.issued) == ("done", 2, 2, 0)
