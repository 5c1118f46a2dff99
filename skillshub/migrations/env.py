"""Alembic environment: the engine is handed in by `skillshub.db`."""

import warnings
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.exc import SAWarning

from catalogue.base import UTCDateTime
from skillshub.models import include_name, metadata

config = context.config
engine = config.attributes["engine"]


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    # Migrations name plain SQLAlchemy types, so they never import application modules.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime()"
    return False


from skillshub.db import writer  # noqa: E402  (after Alembic's config is read)

# The writer engine: on SQLite the migration's transaction holds the write lock from its
# BEGIN, so two processes starting at once migrate one after the other.
with writer(engine).connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    raw = connection.connection.driver_connection if sqlite else None
    if raw is not None:
        # The engine's connections run in autocommit mode and the engine emits BEGIN itself
        # (skillshub.db), so DDL cannot commit half a migration. Foreign keys go off for batch
        # mode's table rebuilds (copy, drop, rename) and are checked before the commit; the
        # pragma only works outside a transaction, hence before anything else.
        raw.execute("PRAGMA foreign_keys=OFF")
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=sqlite,
        compare_type=True,
        render_item=render_item,
        include_name=include_name,
    )
    try:
        with context.begin_transaction(), warnings.catch_warnings():
            # SQLite batch mode reflects the table it alters, and SQLAlchemy cannot reflect an
            # expression index: a migration that rebuilds issued_credential must create
            # ix_issued_credential_recipient_lower again (as f2b4d6a8c1e3 did), which
            # test_the_hand_made_schema_objects_exist_at_head checks.
            warnings.filterwarnings(
                "ignore", "Skipped unsupported reflection of expression-based index", SAWarning
            )
            context.run_migrations()
            if raw is not None:
                broken = raw.execute("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"migration left broken foreign keys: {broken[:5]}")
        connection.commit()
    except BaseException:
        connection.rollback()
        raise
    finally:
        if raw is not None:
            raw.execute("PRAGMA foreign_keys=ON")
