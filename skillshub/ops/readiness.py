"""Is this instance ready for traffic? Each part answers "ok" or what is wrong with it."""

from __future__ import annotations

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from catalogue.errors import DomainError
from keys.sealing import MasterKey
from skillshub.db import check_connection, head_revision
from skillshub.ops.sealed import unopened

OK = "ok"
# Sealed values opened per table per check: enough to catch a wrong or damaged key, bounded
# work for a probe that runs every few seconds.
SAMPLE = 200


def readiness(engine: Engine, master_key: MasterKey | None) -> dict[str, str]:
    """database, migrations, master_key, jobs: "ok" or the failure in words (no secrets)."""
    checks = {"database": OK, "migrations": OK, "master_key": OK}
    try:
        check_connection(engine)
    except DomainError as exc:
        checks["database"] = exc.message
        checks["migrations"] = checks["master_key"] = "not checked: the database does not answer"
        return checks | {"jobs": "not checked: the database does not answer"}
    checks["migrations"] = migration_problem(engine) or OK
    checks["master_key"] = _master_key(engine, master_key)
    return checks | {"jobs": _jobs(engine)}


def migration_problem(engine: Engine) -> str | None:
    """None when the database is at this code's head revision; else which way it is off."""
    current, head = _revision(engine), head_revision()
    if current == head:
        return None
    if current is not None and not _known(current):
        return (
            f"the database is at {current}, a revision this code does not know (a newer "
            f"release migrated it; this code expects {head}): run the newer release"
        )
    return (
        f"pending: the database is at {current or 'no revision'}, the code at {head}; "
        "run `skillshub init` (or restart, which upgrades)"
    )


def _revision(engine: Engine) -> str | None:
    """alembic_version read directly: alembic's MigrationContext logs two lines a call, too
    many for a probe every few seconds."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _known(revision: str) -> bool:
    from alembic.script import ScriptDirectory

    from skillshub.db import MIGRATIONS_DIR

    try:
        return ScriptDirectory(str(MIGRATIONS_DIR)).get_revision(revision) is not None
    except Exception:  # alembic raises its own errors for an unknown revision
        return False


def _master_key(engine: Engine, master_key: MasterKey | None) -> str:
    if master_key is None:
        return "not opened: the app has not started (or the master key is missing)"
    try:
        with Session(engine) as session:
            failures = unopened(session, master_key, limit=SAMPLE)
    except Exception as exc:  # a table missing on an old schema: said, not raised
        return f"cannot read the sealed keys: {type(exc).__name__}"
    if failures:
        first = failures[0]
        return f"{len(failures)} sealed value(s) do not open, e.g. {first.what}: {first.reason}"
    return OK


def _jobs(engine: Engine) -> str:
    """SQLite runs bulk jobs in the process; PostgreSQL's queue is in the same database."""
    if engine.dialect.name != "postgresql":
        return OK + " (in process)"
    try:
        with engine.connect() as conn:
            counts: dict[str, int] = dict(
                conn.execute(
                    text(
                        "SELECT status::text, count(*) FROM procrastinate_jobs "
                        "WHERE status IN ('todo', 'doing') GROUP BY status"
                    )
                ).all()
            )
    except Exception as exc:  # the queue's tables missing: said, not raised
        return f"cannot read the job queue: {type(exc).__name__}"
    return f"{OK} (queue: {counts.get('todo', 0)} waiting, {counts.get('doing', 0)} running)"


def is_ready(checks: dict[str, str]) -> bool:
    return all(value.startswith(OK) for value in checks.values())
