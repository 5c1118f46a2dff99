"""SQLite writers read inside their write lock, queue fairly, and never block readers."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import text
from sqlmodel import Session

from skillshub.db import make_engine, upgrade, writer
from skillshub.sqlite_locking import _FairGate


def _engine(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path / 'locking.db'}")
    upgrade(engine)
    with Session(writer(engine)) as session:
        session.execute(text("CREATE TABLE counter (n INTEGER NOT NULL)"))
        session.execute(text("INSERT INTO counter VALUES (0)"))
        session.commit()
    return engine


def test_the_gate_serves_waiters_in_arrival_order() -> None:
    gate = _FairGate()
    assert gate.acquire(1)
    order: list[int] = []
    threads = []

    def enter(n: int) -> None:
        gate.acquire(30)
        order.append(n)

    for n in range(6):
        thread = threading.Thread(target=enter, args=(n,))
        thread.start()
        threads.append(thread)
        while len(gate._waiters) < n + 1:  # queued before the next one arrives
            threading.Event().wait(0.001)
    for _ in range(6):
        gate.release()
        # The lock passes to exactly one waiter per release.
        while len(order) < _ + 1:
            threading.Event().wait(0.001)
    for thread in threads:
        thread.join(10)
    assert order == list(range(6))
    gate.release()
    assert gate.acquire(0)  # free again once everyone has released


def test_a_timed_out_waiter_leaves_the_queue() -> None:
    gate = _FairGate()
    assert gate.acquire(1)
    assert gate.acquire(0.01) is False
    assert not gate._waiters
    gate.release()
    assert gate.acquire(0)


def test_parallel_read_modify_writes_lose_nothing(tmp_path: Path) -> None:
    """Read a value, then write it plus one, from many threads: with the read inside the
    writer's transaction every increment survives (pysqlite's default lost most of them)."""
    engine = _engine(tmp_path)
    workers, rounds = 8, 25
    barrier = threading.Barrier(workers)
    errors: list[BaseException] = []

    def work() -> None:
        barrier.wait()
        try:
            for _ in range(rounds):
                with Session(writer(engine)) as session:
                    n = session.execute(text("SELECT n FROM counter")).scalar_one()
                    session.execute(text("UPDATE counter SET n = :n"), {"n": n + 1})
                    session.commit()
        except BaseException as exc:  # reported below, with the count
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    with Session(engine) as session:
        assert session.execute(text("SELECT n FROM counter")).scalar_one() == workers * rounds
    engine.dispose()


def test_a_reader_is_not_blocked_by_an_open_writer(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    with Session(writer(engine)) as holding:
        holding.execute(text("UPDATE counter SET n = 41"))  # write lock held, not committed
        read: list[int] = []
        reader = threading.Thread(
            target=lambda: read.append(
                Session(engine).execute(text("SELECT n FROM counter")).scalar_one()
            )
        )
        reader.start()
        reader.join(20)
        assert read == [0]  # answered at once, from the last committed state
        holding.commit()
    engine.dispose()


def test_the_gate_is_freed_when_a_writer_rolls_back_or_is_closed(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    with Session(writer(engine)) as session:
        session.execute(text("UPDATE counter SET n = 1"))
        session.rollback()
    session = Session(writer(engine))
    session.execute(text("UPDATE counter SET n = 2"))
    session.close()  # never committed: the connection goes back to the pool
    done: list[int] = []
    thread = threading.Thread(
        target=lambda: done.append(
            Session(writer(engine)).connection().execute(text("UPDATE counter SET n = 3")).rowcount
        )
    )
    thread.start()
    thread.join(20)
    assert done == [1]
    engine.dispose()


def test_a_writer_that_cannot_get_the_lock_is_a_503_that_changed_nothing(
    tmp_path: Path, monkeypatch, master_key: str
) -> None:
    from fastapi.testclient import TestClient

    from skillshub import sqlite_locking
    from skillshub.settings import Settings
    from skillshub.web.app import create_app
    from tests.support.world import make_world

    url = f"sqlite:///{tmp_path / 'busy.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with Session(engine, expire_on_commit=False) as session:
        world = make_world(session, master_key)
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=url,
        master_key=master_key,
        base_url="http://testserver",
    )
    monkeypatch.setattr(sqlite_locking, "BUSY_TIMEOUT_S", 0.05)
    with TestClient(create_app(settings, engine=engine)) as client:
        with Session(writer(engine)) as holder:
            holder.execute(text("SELECT 1"))  # holds the write lock
            answer = client.post(
                f"/api/v1/issuers/{world.issuer.slug}/credentials",
                headers={"Authorization": f"Bearer {world.token}"},
                json={"micro_credential": world.mc.slug, "name": "A", "email": "a@example.org"},
            )
        assert answer.status_code == 503
        assert answer.headers["retry-after"]
        assert answer.json()["error"]["code"] == "unavailable"
        listed = client.post(
            f"/api/v1/issuers/{world.issuer.slug}/credentials",
            headers={"Authorization": f"Bearer {world.token}"},
            json={"micro_credential": world.mc.slug, "name": "A", "email": "a@example.org"},
        )
        assert listed.status_code == 201  # free again; the refused request left nothing behind
    with Session(engine) as session:
        count = session.execute(text("SELECT count(*) FROM issued_credential")).scalar_one()
    assert count == 1
    engine.dispose()
