"""Bulk jobs on one engine for the API, the console and the CLI.

A job's rows are stored first (badges.issuing.bulk.create_job); the job is then cut into
chunks of consecutive rows (`bulk.chunks`), and each chunk is issued by `bulk.run_chunk`, a
transaction per batch. Who runs the chunks:

- PostgreSQL: procrastinate, with its jobs in the same database (no other broker). Each chunk
  is a `bulk_chunk` task with a queueing lock naming the chunk, so a chunk waits in the queue
  at most once. The tasks are deferred in the transaction that stores the job (`enqueue_job`,
  before the caller's commit, through procrastinate's `connection=`): the commit publishes the
  rows and their tasks together, a rollback leaves neither. Workers take tasks with
  `FOR UPDATE SKIP LOCKED` and run on any number of hosts (`skillshub worker`). A periodic
  task (`requeue`, every 10 s), the safety net, marks the tasks of dead workers (no heartbeat
  for SKILLSHUB_JOBS_STALLED_AFTER_SECONDS) failed and re-enqueues every chunk of an
  unfinished job that still has pending rows and no task waiting or running. The chunk's rows
  are locked with SKIP LOCKED while issued, so even two runs of one chunk share its rows:
  nobody is issued twice. E-mails of a batch are a `deliver` task, deferred in the batch's
  transaction. With SKILLSHUB_JOBS_IN_PROCESS (the default) the process that starts a job
  also works the queue until it is empty, so one host needs no separate worker.
- SQLite (the embedded default): the same chunk code runs in the process that starts the job;
  a job left unfinished by a crash is resumed when the web app starts (one process of several
  does it, under a file lock).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import procrastinate
import psycopg
from procrastinate import JobContext
from procrastinate import exceptions as procrastinate_errors
from procrastinate.jobs import Job, Status
from procrastinate.manager import JobManager
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from badges.issuing import bulk
from badges.models import BulkJob
from badges.sharing import delivery
from keys.sealing import MasterKey
from skillshub import logs
from skillshub.db import writer
from skillshub.files import private_file
from skillshub.settings import Settings

log = logging.getLogger("skillshub.jobs")
T = TypeVar("T")

QUEUE = "skillshub"
CHUNK_TASK = "skillshub.bulk_chunk"
DELIVER_TASK = "skillshub.deliver"
REQUEUE_TASK = "skillshub.requeue"
REQUEUE_EVERY_SECONDS = 10


@dataclass(frozen=True)
class Runtime:
    """What tasks need: the settings, a writer engine and the opened master key."""

    settings: Settings
    engine: Engine
    master_key: MasterKey

    def issuing(self) -> bulk.Issuing:
        return bulk.Issuing(
            self.master_key,
            self.settings.base_url,
            self.settings.status_purposes,
            self.settings.jwt_algorithm,
        )

    @property
    def postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"


def chunk_lock(job_uuid: str, chunk: bulk.Chunk) -> str:
    return f"bulk:{job_uuid}:{chunk[0]}-{chunk[1]}"  # _enqueue's LIKE relies on the prefix


def conninfo(engine: Engine) -> str:
    """libpq's URL for the engine's database (procrastinate connects with psycopg itself)."""
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def make_app(engine: Engine) -> procrastinate.App:
    """A procrastinate app over the engine's PostgreSQL database, with our tasks."""
    connector = procrastinate.PsycopgConnector(conninfo=conninfo(engine), min_size=1, max_size=4)
    app = procrastinate.App(connector=connector, periodic_defaults={"max_delay": 60})
    # Each app its own task objects (a task keeps a link to its app).
    app.task(name=CHUNK_TASK, queue=QUEUE, pass_context=True)(bulk_chunk)
    app.task(name=DELIVER_TASK, queue=QUEUE, pass_context=True)(deliver)
    app.periodic(cron=f"* * * * * */{REQUEUE_EVERY_SECONDS}", periodic_id="requeue")(
        app.task(name=REQUEUE_TASK, queue=QUEUE, queueing_lock="requeue", pass_context=True)(
            requeue
        )
    )
    return app


def _runtime(context: JobContext) -> Runtime:
    runtime = context.additional_context.get("runtime")
    assert isinstance(runtime, Runtime), "run workers through skillshub.jobs (additional_context)"
    return runtime


# --- tasks ---------------------------------------------------------------------------------


def bulk_chunk(
    context: JobContext, job_uuid: str, first: int, last: int, request_id: str = "-"
) -> None:
    """Issue one chunk of a bulk job; e-mails of each committed batch go to `deliver`. Its
    log lines carry the id of the request that started the job, on whichever host."""
    runtime = _runtime(context)
    token = logs.request_id.set(request_id)
    try:
        bulk.start_job(runtime.engine, job_uuid)
        bulk.run_chunk(
            runtime.engine, runtime.issuing(), job_uuid, (first, last), in_batch=defer_delivery
        )
        bulk.finish_if_done(runtime.engine, job_uuid)
    finally:
        logs.request_id.reset(token)


def defer_delivery(session: Session, credential_uuids: list[str]) -> None:
    """A `deliver` task for a batch's credentials, in the batch's transaction: it commits with
    them (no credential without its e-mail task after a crash) or rolls back with them."""
    defer_in(session, [new_task(DELIVER_TASK, credential_uuids=list[Any](credential_uuids))])


def deliver(context: JobContext, credential_uuids: list[str]) -> None:
    """Send the claim e-mails of a batch of committed credentials."""
    runtime = _runtime(context)
    delivery.deliver_many(runtime.engine, runtime.settings, credential_uuids)


async def requeue(context: JobContext, timestamp: int) -> None:
    """Re-enqueue the chunks of interrupted jobs (a worker killed, a job stored without its
    tasks)."""
    app = context.app
    assert app is not None
    await recover(app, _runtime(context))


async def recover(app: procrastinate.App, runtime: Runtime) -> int:
    """Mark the tasks of dead workers failed, then enqueue every pending chunk of an
    unfinished job that no task waits for or runs; how many chunks were enqueued."""
    stalled = await app.job_manager.get_stalled_jobs(
        seconds_since_heartbeat=runtime.settings.jobs_stalled_after_seconds
    )
    for job in stalled:
        log.warning("task %s (%s) of a dead worker marked failed", job.id, job.task_name)
        await app.job_manager.finish_job(job, status=Status.FAILED, delete_job=False)
    enqueued = await asyncio.to_thread(requeue_interrupted, runtime.engine)
    if enqueued:
        log.warning("re-enqueued %d chunks of interrupted jobs", enqueued)
    return enqueued


def requeue_interrupted(engine: Engine) -> int:
    """Enqueue (one transaction) the pending chunks of unfinished jobs that no task waits for
    or runs; finish the jobs that have nothing pending left. How many chunks were enqueued."""
    with Session(engine) as session:
        unfinished = session.exec(select(BulkJob).where(col(BulkJob.status) != "done")).all()
        enqueued, finished = 0, []
        for job in unfinished:
            pending, deferred = _enqueue(session, job)
            enqueued += deferred
            if not pending:
                finished.append(job.uuid)
        session.commit()
    for job_uuid in finished:
        bulk.finish_if_done(engine, job_uuid)
    return enqueued


def enqueue_job(session: Session, job_uuid: str) -> int:
    """On PostgreSQL, defer a chunk task for every chunk of the job with pending rows and no
    task waiting or running, in the session's transaction (the caller commits: the tasks are
    published with the job's rows, or dropped with them); the tasks carry the current request
    id. How many tasks were deferred (0 on SQLite, where the process starting a job runs it)."""
    if session.get_bind().dialect.name != "postgresql":
        return 0
    return _enqueue(session, bulk.get_job(session, job_uuid))[1]


def _enqueue(session: Session, job: BulkJob) -> tuple[int, int]:
    """`enqueue_job`: how many chunks are pending, how many tasks were deferred."""
    # The tasks before the rows: a task that finishes in between has settled its chunk's rows,
    # so that chunk is no longer pending and is not deferred again.
    active = set(
        session.execute(
            text(
                "SELECT queueing_lock FROM procrastinate_jobs WHERE status IN ('todo', 'doing')"
                " AND task_name = :task AND queueing_lock LIKE :prefix"
            ),
            {"task": CHUNK_TASK, "prefix": f"bulk:{job.uuid}:%"},
        ).scalars()
    )
    pending = bulk.pending_chunks(session, job)
    request_id = logs.request_id.get()
    tasks = [
        new_task(
            CHUNK_TASK,
            queueing_lock=chunk_lock(job.uuid, chunk),
            job_uuid=job.uuid,
            first=chunk[0],
            last=chunk[1],
            request_id=request_id,
        )
        for chunk in pending
        if chunk_lock(job.uuid, chunk) not in active
    ]
    return len(pending), defer_in(session, tasks)


# Procrastinate's own defer (its SQL function, its serialisation of the arguments) through a
# connection we hand it: this connector's pool is never opened.
_THROUGH_CALLER = JobManager(procrastinate.SyncPsycopgConnector())


def new_task(task_name: str, *, queueing_lock: str | None = None, **kwargs: Any) -> Job:
    """A task of our queue with its arguments, for `defer_in`."""
    return Job(
        queue=QUEUE, task_name=task_name, lock=None, queueing_lock=queueing_lock, task_kwargs=kwargs
    )


def defer_in(session: Session, tasks: list[Job]) -> int:
    """Defer `tasks` in the session's transaction (PostgreSQL): they are published by its
    commit. A task whose queueing lock is already waiting is left out (not an error); each
    attempt runs in a savepoint, as a conflict would otherwise abort the whole transaction.
    How many were deferred."""
    if not tasks:
        return 0
    try:
        with session.begin_nested():
            _THROUGH_CALLER.batch_defer_jobs(tasks, connection=_driver_connection(session))
        return len(tasks)
    except procrastinate_errors.AlreadyEnqueued:
        pass  # some of them: one at a time
    deferred = 0
    for task in tasks:
        with contextlib.suppress(procrastinate_errors.AlreadyEnqueued), session.begin_nested():
            _THROUGH_CALLER.defer_job(task, connection=_driver_connection(session))
            deferred += 1
    return deferred


def _driver_connection(session: Session) -> psycopg.Connection[Any]:
    """The session's psycopg connection, in its current transaction (asked for inside
    `begin_nested`, this is what emits the SAVEPOINT)."""
    connection = session.connection().connection.driver_connection
    assert isinstance(connection, psycopg.Connection), "PostgreSQL through psycopg 3"
    return connection


# --- running -------------------------------------------------------------------------------


def run_worker(
    runtime: Runtime,
    *,
    wait: bool = True,
    name: str | None = None,
    install_signal_handlers: bool = True,
) -> None:
    """A procrastinate worker on our queue, one task at a time (the work is CPU-bound: more
    at once belongs in more processes). `wait=False` returns once the queue is empty."""
    app = make_app(runtime.engine)
    stalled = runtime.settings.jobs_stalled_after_seconds
    _outside_any_loop(
        app.run_worker,
        queues=[QUEUE],
        wait=wait,
        concurrency=1,
        name=name or f"{socket.gethostname()}-{os.getpid()}",
        install_signal_handlers=install_signal_handlers,
        listen_notify=wait,
        fetch_job_polling_interval=1.0 if wait else 0.2,
        update_heartbeat_interval=max(stalled / 3, 0.5),
        stalled_worker_timeout=stalled,
        delete_jobs="successful",
        additional_context={"runtime": runtime},
    )


def recover_now(runtime: Runtime) -> int:
    """`recover` once, outside a worker (start-up, tests)."""

    async def once() -> int:
        app = make_app(runtime.engine)
        async with app.open_async():
            return await recover(app, runtime)

    return _outside_any_loop(asyncio.run, once())


def _outside_any_loop(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`function` (which runs an event loop of its own: asyncio.run, procrastinate's sync
    worker) called here, or in a thread of its own when this thread already runs a loop (an
    embedding application's, e.g. a sync Playwright session in the same process)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return function(*args, **kwargs)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function, *args, **kwargs).result()


class Jobs:
    """The engine as the web app and the CLI use it: `run` a stored job."""

    def __init__(self, settings: Settings, engine: Engine, master_key: MasterKey) -> None:
        self.runtime = Runtime(settings, writer(engine), master_key)
        self.resuming: threading.Thread | None = None  # resume_interrupted's thread

    def run(self, job_uuid: str, *, progress: bulk.Progress | None = None) -> BulkJob:
        """Run the job: on SQLite here; on PostgreSQL its chunks enqueued (those the job's
        transaction did not enqueue already: enqueue_job), then (with jobs in process) the
        queue worked here until empty. With `progress` (the CLI's bar), return
        only once the job is done, wherever its chunks run."""
        runtime = self.runtime
        if not runtime.postgres:
            return bulk.run_job(
                runtime.engine,
                runtime.master_key,
                job_uuid,
                base_url=runtime.settings.base_url,
                status_purposes=runtime.settings.status_purposes,
                jwt_algorithm=runtime.settings.jwt_algorithm,
                progress=progress,
                on_issued=self.deliver_now,
            )
        # Normally enqueued with the job's rows already (enqueue_job): then this defers nothing.
        with Session(runtime.engine) as session:
            enqueue_job(session, job_uuid)
            session.commit()
        bulk.finish_if_done(runtime.engine, job_uuid)  # rows that all failed their checks
        if runtime.settings.jobs_in_process:
            worker = threading.Thread(
                target=run_worker,
                args=(runtime,),
                kwargs={"wait": False, "install_signal_handlers": False},
                name="skillshub-jobs",
                daemon=True,
            )
            worker.start()
            if progress is None:
                worker.join()
        return self.wait(job_uuid, progress) if progress is not None else self.job(job_uuid)

    def wait(self, job_uuid: str, progress: bulk.Progress | None, poll: float = 0.5) -> BulkJob:
        """Until the job is done, telling `progress` its figures."""
        while True:
            job = self.job(job_uuid)
            if progress:
                progress(job)
            if job.status == "done":
                return job
            time.sleep(poll)

    def job(self, job_uuid: str) -> BulkJob:
        with Session(self.runtime.engine, expire_on_commit=False) as session:
            return bulk.get_job(session, job_uuid)

    def deliver_now(self, credential_uuids: list[str]) -> None:
        delivery.deliver_many(self.runtime.engine, self.runtime.settings, credential_uuids)

    def resume_interrupted(self) -> threading.Thread | None:
        """Resume, in a thread, the jobs a crash left unfinished: on SQLite run here (by one
        process of several: the one that takes the data directory's jobs lock); on
        PostgreSQL re-enqueued (`recover`), and worked here with jobs in process."""
        self.resuming = self._resume()
        return self.resuming

    def _resume(self) -> threading.Thread | None:
        runtime = self.runtime
        with Session(runtime.engine) as session:
            unfinished = session.exec(
                select(BulkJob.uuid).where(col(BulkJob.status) != "done")
            ).all()
        if not unfinished:
            return None
        if runtime.postgres:
            if not runtime.settings.jobs_in_process:
                return None  # the workers' periodic `requeue` does it
            return _thread(self._recover_and_work)
        lock = _try_lock(runtime.settings.data_dir / "jobs.lock")
        if lock is None:
            return None

        def resume() -> None:
            try:
                for job_uuid in unfinished:
                    log.warning("resuming bulk job %s left unfinished", job_uuid)
                    self.run(job_uuid)
            finally:
                lock.close()

        return _thread(resume)

    def _recover_and_work(self) -> None:
        if recover_now(self.runtime):
            run_worker(self.runtime, wait=False, install_signal_handlers=False)


def _thread(target: Callable[[], Any]) -> threading.Thread:
    def guarded() -> None:
        try:
            target()
        except Exception:  # a background thread has nobody to raise to
            log.exception("resuming interrupted jobs failed")

    thread = threading.Thread(target=guarded, name="skillshub-jobs-resume", daemon=True)
    thread.start()
    return thread


def _try_lock(path: Path) -> Any:
    """An exclusive lock on `path` held until the returned file is closed, or None when
    another process holds it."""
    private_file(path)
    handle = path.open("a")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return None
    return handle


def jobs_of(state: Any) -> Jobs:
    """The web app's engine (`app.state`: settings, engine, master key), made once."""
    if getattr(state, "jobs", None) is None:
        state.jobs = Jobs(state.settings, state.engine, state.master_key)
    jobs = state.jobs
    assert isinstance(jobs, Jobs)
    return jobs
