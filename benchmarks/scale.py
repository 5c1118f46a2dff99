"""Scale figures (issue 16): bulk jobs from CSV on SQLite and PostgreSQL (in-process engine),
the same on PostgreSQL with `skillshub worker` processes, and POST /api/v1/verify with
`skillshub serve --workers 2`.

Run: .venv/bin/python benchmarks/scale.py [--rows 100000] [--workers 2] [--seconds 10]
     [--only bulk|workers|verify]

Each bulk run is its own process (its peak RSS is its own): CSV written, parsed, the job stored
(`bulk.create_job`), then run by `skillshub.jobs.Jobs` until done; every credential signed,
stored and status-indexed. The share of the time spent in the signing step (`securing.secure`:
canonicalize, hash, sign) is measured in that process. PostgreSQL: a fresh database next to the
test one (SKILLSHUB_TEST_POSTGRES_URL). The verify load comes from client processes of our own
(httpx, keep-alive, a bounded time), on the same 2 cores as the server. Prints figures with
`uptime`'s load; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from sqlmodel import Session, col, func, select

from badges.issuing import bulk
from badges.issuing import service as issuing_service
from badges.models import IssuedCredential, StatusAllocation
from keys.sealing import generate_master_key
from skillshub import jobs
from skillshub.db import make_engine
from skillshub.demo import make_world
from skillshub.devsupport import bench_database as database
from skillshub.devsupport import postgres_unreachable_reason
from skillshub.settings import Settings

BASE_URL = "https://badges.example"
ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-c", "from skillshub.cli import app; app()"]


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def _csv(directory: str, rows: int) -> Path:
    path = Path(directory) / "cohort.csv"
    lines = ["name,email,external_id,grade"]
    lines += [f"Learner {n},learner{n}@example.org,enrol-{n},B" for n in range(rows)]
    path.write_text("\n".join(lines) + "\n")
    return path


class _Timed:
    """Wraps the signing step to add up the time spent in it (this process only)."""

    def __init__(self, inner: Callable[..., Any]) -> None:
        self.inner, self.seconds = inner, 0.0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return self.inner(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - start


def _check(engine: Any, rows: int) -> None:
    with Session(engine) as session:
        stored = session.exec(select(func.count(col(IssuedCredential.id)))).one()
        indexes = session.exec(select(func.count(col(StatusAllocation.id)))).one()
    assert stored == indexes == rows, (stored, indexes, rows)


def bulk_child(kind: str, rows: int, workers: int) -> dict[str, float]:
    """One bulk job of `rows` DI credentials; `workers` > 0: run by that many `skillshub
    worker` processes instead of this one."""
    timed = _Timed(issuing_service.secure)
    issuing_service.secure = timed  # measuring the signing step
    _no_mail()
    with database(kind) as url, tempfile.TemporaryDirectory() as directory:
        engine = make_engine(url)
        master_key = generate_master_key()
        with Session(engine, expire_on_commit=False) as session:
            world = make_world(session, master_key)
        csv_file = _csv(directory, rows)
        settings = Settings(
            data_dir=Path(directory) / "data",
            database_url=url,
            master_key=master_key,
            base_url=BASE_URL,
            jobs_in_process=workers == 0,
        )
        start = time.perf_counter()
        with Session(engine, expire_on_commit=False) as session:
            job = bulk.create_job(
                session,
                issuer=world.issuer,
                micro_credential=world.mc,
                rows=bulk.parse_csv(csv_file.read_text()),
            )
            jobs.enqueue_job(session, job.uuid)  # as the API does: tasks with the rows
            session.commit()
        stored = time.perf_counter() - start
        engine_jobs = jobs.Jobs(settings, engine, world.master_key)
        processes = [_worker(settings, n) for n in range(workers)]
        try:
            engine_jobs.run(job.uuid, progress=lambda _job: None)
        finally:
            for process in processes:
                process.send_signal(signal.SIGTERM)
            for process in processes:
                process.wait(timeout=120)
        seconds = time.perf_counter() - start
        _check(engine, rows)
        engine.dispose()
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {
        "rows": rows,
        "seconds": seconds,
        "per_second": rows / seconds,
        "store_seconds": stored,
        "signing_share": timed.seconds / seconds if workers == 0 else -1.0,
        "peak_rss_mb": own,
        "worker_peak_rss_mb": children if workers else 0.0,
    }


def _no_mail() -> None:
    """Issuing figures, as issue 16 measures them: the claim e-mails (a task of their own,
    two commits each) are left out."""
    setattr(jobs, "deliver", lambda *_args, **_kwargs: None)  # noqa: B010  (the task's name)
    setattr(jobs.Jobs, "deliver_now", lambda *_args, **_kwargs: None)  # noqa: B010


WORKER = (
    "import sys; sys.path.insert(0, {root!r}); "
    "from benchmarks.scale import _no_mail; _no_mail(); "
    "from skillshub.cli import app; app()"
)


def _worker(settings: Settings, number: int) -> subprocess.Popen[bytes]:
    """One `skillshub worker` process, as on a host of its own (its own data directory)."""
    env = os.environ | {
        "PYTHONPATH": str(ROOT),
        "SKILLSHUB_DATA_DIR": str(settings.data_dir / f"host-{number}"),
        "SKILLSHUB_DATABASE_URL": settings.database_url or "",
        "SKILLSHUB_MASTER_KEY": settings.master_key or "",
        "SKILLSHUB_BASE_URL": settings.base_url,
        "SKILLSHUB_JOBS_IN_PROCESS": "false",
        "SKILLSHUB_LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-c", WORKER.format(root=str(ROOT)), "worker"]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def bulk_line(kind: str, rows: int, workers: int = 0) -> str:
    done = subprocess.run(
        [
            sys.executable,
            __file__,
            "--bulk-child",
            kind,
            "--rows",
            str(rows),
            "--workers",
            str(workers),
        ],
        capture_output=True,
        text=True,
    )
    if done.returncode:
        return f"bulk ({kind}) failed: {done.stderr[-2000:]}"
    f = json.loads(done.stdout.splitlines()[-1])
    how = f"{workers} skillshub worker processes" if workers else "in-process engine"
    line = (
        f"bulk {f['rows']:,} DI from CSV, {kind}, {how}: {f['per_second']:.0f} credentials/s "
        f"({f['seconds']:.0f} s, of which storing the job {f['store_seconds']:.1f} s); "
        f"peak RSS {f['peak_rss_mb']:.0f} MB"
    )
    if workers:
        line += f", largest worker {f['worker_peak_rss_mb']:.0f} MB"
    else:
        rest = f["seconds"] * (1 - f["signing_share"])
        line += (
            f"; signing step {f['signing_share']:.0%} of the time, the rest of the pipeline "
            f"{f['rows'] / rest:.0f} credentials/s"
        )
    return line + "   [goal >= 1,000/s, RSS < 300 MB]"


# --- POST /api/v1/verify with serve --workers N ----------------------------------------------


def _serve(data_dir: str, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = os.environ | {
        "PYTHONPATH": str(ROOT),
        "SKILLSHUB_DATA_DIR": data_dir,
        "SKILLSHUB_MASTER_KEY": generate_master_key(),
        "SKILLSHUB_FETCH_OFFLINE": "true",
        "SKILLSHUB_RATE_LIMIT_ENABLED": "false",
        "SKILLSHUB_LOG_LEVEL": "WARNING",
    }
    env.pop("SKILLSHUB_DATABASE_URL", None)
    process = subprocess.Popen(
        [*CLI, "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            httpx.get(f"{base}/healthz", timeout=1)
            time.sleep(2)  # the other workers finish starting
            return process, base
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the server did not start")


def _client(url: str, body: bytes, seconds: float) -> int:
    deadline = time.monotonic() + seconds
    done = 0
    with httpx.Client(timeout=30) as client:
        while time.monotonic() < deadline:
            answer = client.post(url, content=body, headers={"content-type": "application/json"})
            assert answer.status_code == 200 and answer.json()["verdict"] == "valid", answer.text
            done += 1
    return done


def verify_line(workers: int, clients: int, seconds: float) -> str:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from verify import CREDENTIAL, signed_pair  # the same DI credential as benchmarks/verify.py

    if not CREDENTIAL.is_file():
        return f"verify: skipped, reference credential missing: {CREDENTIAL}"
    body = json.dumps(signed_pair()[0]).encode()
    with tempfile.TemporaryDirectory() as data_dir:
        process, base = _serve(data_dir, workers)
        try:
            _client(f"{base}/api/v1/verify", body, 1.0)  # warm every worker's caches
            start = time.monotonic()
            with ProcessPoolExecutor(clients) as pool:
                url = f"{base}/api/v1/verify"
                total = sum(
                    pool.map(_client, [url] * clients, [body] * clients, [seconds] * clients)
                )
            rate = total / (time.monotonic() - start)
        finally:
            process.terminate()
            process.wait(timeout=30)
    return (
        f"POST /api/v1/verify, DI, serve --workers {workers}, {clients} client processes: "
        f"{rate:.0f} requests/s   [goal >= 400]"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2, help="worker / web processes")
    parser.add_argument("--clients", type=int, default=2, help="verify load processes")
    parser.add_argument("--seconds", type=float, default=10.0, help="verify load duration")
    parser.add_argument("--only", choices=("bulk", "workers", "verify"))
    parser.add_argument("--bulk-child", choices=("sqlite", "postgresql"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bulk_child:
        print(json.dumps(bulk_child(args.bulk_child, args.rows, args.workers)))
        return
    print(f"before: {uptime()}", flush=True)
    reason = postgres_unreachable_reason()
    kinds = ["sqlite"] + ([] if reason else ["postgresql"])
    if reason:
        print(f"(PostgreSQL figures skipped: {reason})")
    if args.only in (None, "bulk"):
        for kind in kinds:
            print(bulk_line(kind, args.rows), flush=True)
    if args.only in (None, "workers") and not reason:
        print(bulk_line("postgresql", args.rows, args.workers), flush=True)
    if args.only in (None, "verify"):
        for workers in sorted({1, args.workers}):  # one web process: the anchor
            print(verify_line(workers, args.clients, args.seconds), flush=True)
    print(f"after: {uptime()}")


if __name__ == "__main__":
    main()
