"""Database engine, sessions and migrations (SQLite by default, PostgreSQL in production)."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from sqlmodel import Session, create_engine

from catalogue.errors import DomainError
from skillshub import sqlite_locking
from skillshub.files import private_file

# Re-exported: callers take engines and sessions from here.
from skillshub.sqlite_locking import writer as writer

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


class DatabaseError(DomainError):
    code = "database_error"


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine for `url`, with a clear error for a URL that cannot work."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseError(f"DATABASE_URL is not a valid database URL: {exc}") from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise DatabaseError(
            f"DATABASE_URL backend {parsed.get_backend_name()!r} is not supported "
            "(use sqlite:///… or postgresql+psycopg://…)"
        )
    try:
        if parsed.get_backend_name() == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                # Created 0600 before SQLite opens it: its -wal and -shm files copy that mode.
                private_file(Path(parsed.database))
            connect_args = {"check_same_thread": False, "timeout": sqlite_locking.BUSY_TIMEOUT_S}
            engine = create_engine(parsed, echo=echo, connect_args=connect_args)
            sqlite_locking.install(engine)
        else:
            engine = create_engine(
                parsed, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=20
            )
    except (NoSuchModuleError, ImportError) as exc:
        raise DatabaseError(f"DATABASE_URL needs a driver that is not installed: {exc}") from None
    return engine


def check_connection(engine: Engine) -> None:
    try:
        with engine.connect():
            pass
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        safe_url = engine.url.render_as_string(hide_password=True)
        raise DatabaseError(f"cannot connect to the database at {safe_url}: {reason}") from None


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


# pg_advisory_lock key of migrations: any number of processes on any hosts migrate one at a time.
MIGRATION_LOCK_KEY = 0x736B696C6C73  # "skills"


def upgrade(engine: Engine) -> None:
    """Apply every pending migration (idempotent), once: under a lock (PostgreSQL's advisory
    lock, a file lock beside a SQLite database), so web workers and job workers starting
    together on a fresh database migrate one after the other, the others finding it done."""
    check_connection(engine)
    if current_revision(engine) == head_revision():
        return
    with migration_lock(engine):
        command.upgrade(alembic_config(engine), "head")


@contextmanager
def migration_lock(engine: Engine) -> Iterator[None]:
    """Held while migrating; a second process waits for it."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
                conn.commit()
        return
    database = engine.url.database
    if not database or database == ":memory:":
        yield
        return
    lock = Path(f"{database}.migrate.lock")
    private_file(lock)
    with lock.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()


@contextmanager
def session_scope(engine: Engine, *, write: bool = True) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error; `write=False` for one
    that only reads (on SQLite it then never waits for, nor holds, the write lock)."""
    with Session(writer(engine) if write else engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
