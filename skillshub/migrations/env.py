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


with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=render_item,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()
