"""SQLite transactions that keep their invariants under parallel requests.

pysqlite, left to itself, opens a transaction only at the first INSERT/UPDATE, so the reads of a
read-modify-write run outside it, and `SELECT … FOR UPDATE` is a no-op on SQLite: two parallel
revocations both read a status list, and the second write dropped the first one's bit. Here the
driver's own transaction handling is turned off and BEGIN is emitted by us, as SQLAlchemy's
pysqlite documentation advises:

- writers (`writer(engine)`) begin with `BEGIN IMMEDIATE`: the write lock is taken before the
  first read, so what a writer reads is what it updates. A deferred writer would instead fail at
  its first write with "database is locked" whenever another write committed after its first
  read, which is what parallel issues answered with;
- readers begin deferred, so a long read (a verification fetching documents) blocks nobody;
- within one process, writers queue first come, first served at a `_FairGate`. SQLite's own
  busy handler polls with sleeps, so a loop that commits and begins again at once (a bulk job)
  would win the lock every time and starve request threads past their busy timeout.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import deque

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError

# Execution option that marks an engine (or a session bound to it) as one that will write.
WRITE_OPTION = "skillshub_write"
BUSY_TIMEOUT_S = 30.0
_HELD = "skillshub_write_gate"


class _FairGate:
    """A first-come, first-served lock: a releasing thread hands it to the oldest waiter."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._waiters: deque[threading.Event] = deque()
        self._held = False

    def acquire(self, timeout: float) -> bool:
        with self._mutex:
            if not self._held:
                self._held = True
                return True
            turn = threading.Event()
            self._waiters.append(turn)
        if turn.wait(timeout):
            return True
        with self._mutex:
            if turn.is_set():  # handed over just as the wait ran out
                return True
            self._waiters.remove(turn)
            return False

    def release(self) -> None:
        with self._mutex:
            if self._waiters:
                self._waiters.popleft().set()  # stays held: ownership passes on
            else:
                self._held = False


_gates: dict[str, _FairGate] = {}
_gates_mutex = threading.Lock()


def _gate_for(database: str) -> _FairGate:
    with _gates_mutex:
        return _gates.setdefault(database, _FairGate())


def writer(engine: Engine) -> Engine:
    """The engine for sessions that change state (PostgreSQL ignores the option: its row locks
    already serialise what must be serialised)."""
    return engine.execution_options(**{WRITE_OPTION: True})


def _connect(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
    cursor.execute("PRAGMA foreign_keys=ON")
    _use_wal(cursor)
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _use_wal(cursor: sqlite3.Cursor) -> None:
    """Switch the database to write-ahead logging (a lasting setting of the file), retrying.
    Two processes opening a new database at once both hold a read lock and want the write lock
    to switch; SQLite answers one of them "database is locked" at once, without waiting, since
    its busy handler could deadlock there. Retrying after that failure released the lock works."""
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    pause = 0.002
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.1)


def install(engine: Engine) -> None:
    """Give a SQLite engine the transaction handling described above."""
    gate = _gate_for(str(engine.url.database or ":memory:"))

    def begin(conn: Connection) -> None:
        if not conn.get_execution_options().get(WRITE_OPTION, False):
            conn.exec_driver_sql("BEGIN")
            return
        if not gate.acquire(BUSY_TIMEOUT_S):
            raise OperationalError("BEGIN IMMEDIATE", {}, Exception("database is locked"))
        conn.info[_HELD] = True
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            _release(conn.info)
            raise

    def _release(info: dict) -> None:
        if info.pop(_HELD, False):
            gate.release()

    def end(conn: Connection) -> None:
        _release(conn.info)

    def checkin(_dbapi_connection, record) -> None:
        # A connection returned or dropped in the middle of a transaction still frees the gate.
        _release(record.info)

    event.listen(engine, "connect", _connect)
    event.listen(engine, "begin", begin)
    event.listen(engine, "commit", end)
    event.listen(engine, "rollback", end)
    event.listen(engine.pool, "checkin", checkin)
    event.listen(engine.pool, "invalidate", lambda _c, record, _e: _release(record.info))
