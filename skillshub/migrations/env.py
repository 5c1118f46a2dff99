"""Alembic environment: the engine is handed in by `skillshub.db`."""

from alembic import context

from catalogue.base import UTCDateTime
from skillshub.models import include_name, metadata

config = context.config
engine = config.attributes["engine"]


def render_item(type_: str, obj: object, autogen_context: object) -> str | bool:
    # Migrations name plain SQLAlchemy types, so they never import application modules.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime()"
    return False


with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    raw = connection.connection.driver_connection if sqlite else None
    if raw is not None:
        # pysqlite commits before each DDL statement on its own, so a failed migration would
        # leave half its tables behind; here we open the one transaction ourselves. Foreign
        # keys go off for batch mode's table rebuilds (copy, drop, rename) and are checked
        # before the commit; the pragma only works outside a transaction, hence first.
        raw.isolation_level = None
        raw.execute("PRAGMA foreign_keys=OFF")
        raw.execute("BEGIN")
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=sqlite,
        compare_type=True,
        render_item=render_item,
        include_name=include_name,
    )
    try:
        with context.begin_transaction():
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
            if raw.in_transaction:
                raw.execute("ROLLBACK")
            raw.execute("PRAGMA foreign_keys=ON")
            raw.isolation_level = ""
