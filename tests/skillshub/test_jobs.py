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
from badges.models import BulkJob, BulkJobRow, ClaimToken, IssuedCredential
from skillshub import jobs, logs
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


def _job(session: Session, world: World, rows: int) -> BulkJob:
    lines = "".join(f"P{n},p{n}@example.org\n" for n in range(rows))
    return bulk.create_job(
        session,
        issuer=world.issuer,
        micro_credential=world.mc,
        rows=bulk.parse_csv("name,email\n" + lines),
    )


def _queued(engine: Engine, task: str = jobs.CHUNK_TASK) -> list[tuple[str, dict]]:
    """(queueing lock, args) of the task's procrastinate jobs, any status."""
    with engine.connect() as conn:
        found = conn.execute(
            text("SELECT queueing_lock, args FROM procrastinate_jobs WHERE task_name = :t"),
            {"t": task},
        ).all()
    return [(lock, args) for lock, args in found]


def _all_tasks(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM procrastinate_jobs")).scalar_one())


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_job_rolled_back_leaves_no_task(
    engine: Engine, session: Session, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bulk, "CHUNK_ROWS", 4)
    job = _job(session, world, 10)
    assert jobs.enqueue_job(session, job.uuid) == 3
    with engine.connect() as other:  # not published before the commit
        assert other.execute(text("SELECT count(*) FROM procrastinate_jobs")).scalar_one() == 0
    session.rollback()
    assert _all_tasks(engine) == 0
    with Session(engine) as check:
        assert not check.exec(select(BulkJob)).all()
        assert not check.exec(select(BulkJobRow)).all()


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_committed_job_has_exactly_its_chunk_tasks_which_a_worker_completes(
    settings: Settings,
    engine: Engine,
    session: Session,
    world: World,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bulk, "CHUNK_ROWS", 4)
    token = logs.request_id.set("req-42")
    try:
        job = _job(session, world, 10)
        assert jobs.enqueue_job(session, job.uuid) == 3
        session.commit()
    finally:
        logs.request_id.reset(token)
    chunks = bulk.chunks(session, job)
    assert len(chunks) == 3
    # Procrastinate's own rows: the chunk's lock, its arguments as JSON, waiting in our queue.
    assert sorted(_queued(engine)) == sorted(
        (
            jobs.chunk_lock(job.uuid, c),
            {"job_uuid": job.uuid, "first": c[0], "last": c[1], "request_id": "req-42"},
        )
        for c in chunks
    )
    with engine.connect() as conn:
        assert set(
            conn.execute(text("SELECT queue_name, status FROM procrastinate_jobs")).all()
        ) == {(jobs.QUEUE, "todo")}
    runtime = jobs.Runtime(settings, writer(engine), world.master_key)
    jobs.run_worker(runtime, wait=False, install_signal_handlers=False)
    with Session(engine) as check:
        done = bulk.get_job(check, job.uuid)
        assert (done.status, done.issued, done.failed) == ("done", 10, 0)
        credentials = check.exec(select(IssuedCredential)).all()
        assert len(credentials) == 10
        # Every batch's `deliver` task, deferred in the batch's transaction, ran: one claim
        # link per credential.
        assert len(check.exec(select(ClaimToken)).all()) == 10
    assert _all_tasks(engine) == 0  # all succeeded (and deleted)


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_deferring_twice_queues_each_chunk_once(
    settings: Settings,
    engine: Engine,
    session: Session,
    world: World,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bulk, "CHUNK_ROWS", 4)
    job = _job(session, world, 10)
    assert jobs.enqueue_job(session, job.uuid) == 3
    session.commit()
    assert jobs.enqueue_job(session, job.uuid) == 0  # waiting already: not queued again
    session.commit()
    # A defer racing another (its check saw no task): the queueing lock refuses the
    # duplicates in a savepoint each, and the rest of the transaction goes on.
    chunk_tasks = [
        jobs.new_task(
            jobs.CHUNK_TASK, queueing_lock=jobs.chunk_lock(job.uuid, c), job_uuid=job.uuid
        )
        for c in bulk.chunks(session, job)
    ]
    mail = jobs.new_task(jobs.DELIVER_TASK, credential_uuids=[])
    assert jobs.defer_in(session, [*chunk_tasks, mail]) == 1
    session.commit()
    assert len(_queued(engine)) == 3
    assert len(_queued(engine, jobs.DELIVER_TASK)) == 1
    # Nor does the periodic requeue.
    runtime = jobs.Runtime(settings, writer(engine), world.master_key)
    assert jobs.requeue_interrupted(runtime.engine) == 0
    assert len(_queued(engine)) == 3


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_lost_enqueue_is_recovered_and_run_adds_nothing_queued_already(
    settings: Settings,
    engine: Engine,
    session: Session,
    world: World,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bulk, "CHUNK_ROWS", 4)
    job = _job(session, world, 10)
    session.commit()  # stored without its tasks (a job from before enqueue_job)
    runtime = jobs.Runtime(settings, writer(engine), world.master_key)
    assert jobs.recover_now(runtime) == 3
    assert len(_queued(engine)) == 3
    assert jobs.recover_now(runtime) == 0
    done = jobs.Jobs(settings, engine, world.master_key).run(job.uuid)  # jobs in process
    assert _queued(engine) == []  # worked (and deleted)
    assert (done.status, done.issued) == ("done", 10)
    with Session(engine) as check:
        assert check.exec(select(BulkJob)).one().finished_at is not None
        assert len(check.exec(select(IssuedCredential)).all()) == 10


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


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_the_api_commits_a_job_with_its_chunk_tasks(
    settings: Settings, engine: Engine, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bulk, "CHUNK_ROWS", 4)
    settings = settings.model_copy(update={"jobs_in_process": False})  # workers elsewhere
    started: list[str] = []
    real_run = jobs.Jobs.run
    # The run after the response holds back: what is queued is the request transaction's.
    monkeypatch.setattr(jobs.Jobs, "run", lambda _self, job_uuid, **_: started.append(job_uuid))
    lines = "".join(f"P{n},p{n}@example.org\n" for n in range(10))
    with TestClient(create_app(settings, engine=engine)) as client:
        response = client.post(
            f"/api/v1/issuers/{world.issuer.slug}/credentials/bulk",
            params={"micro_credential": world.mc.slug},
            content="name,email\n" + lines,
            headers={
                "authorization": f"Bearer {world.token}",
                "content-type": "text/csv",
                "x-request-id": "api-req-1",
            },
        )
    assert response.status_code == 202, response.text
    job_uuid = response.json()["id"]
    assert started == [job_uuid]
    queued = _queued(engine)
    assert len(queued) == 3
    assert {lock.split(":")[1] for lock, _ in queued} == {job_uuid}
    assert {args["request_id"] for _, args in queued} == {"api-req-1"}
    real_run(jobs.Jobs(settings, engine, world.master_key), job_uuid)
    assert sorted(_queued(engine)) == sorted(queued)  # the run queued no second task
    with Session(engine) as check:
        assert bulk.get_job(check, job_uuid).status == "pending"  # for a worker to take


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_batch_e_mail_task_commits_or_rolls_back_with_its_credentials(
    engine: Engine, session: Session, world: World
) -> None:
    job = _job(session, world, 3)
    session.commit()
    how = bulk.Issuing(world.master_key, "http://testserver")
    [chunk] = bulk.chunks(session, job)

    def crash(batch: Session, uuids: list[str]) -> None:
        jobs.defer_delivery(batch, uuids)
        raise RuntimeError("the process dies before the batch commits")

    with pytest.raises(RuntimeError):
        bulk.run_chunk(writer(engine), how, job.uuid, chunk, in_batch=crash)
    assert _queued(engine, jobs.DELIVER_TASK) == []
    with Session(engine) as check:
        assert check.exec(select(IssuedCredential)).all() == []
    bulk.run_chunk(writer(engine), how, job.uuid, chunk, in_batch=jobs.defer_delivery)
    with Session(engine) as check:
        issued = {c.uuid for c in check.exec(select(IssuedCredential)).all()}
    [(_, args)] = _queued(engine, jobs.DELIVER_TASK)
    assert len(issued) == 3 and set(args["credential_uuids"]) == issued
