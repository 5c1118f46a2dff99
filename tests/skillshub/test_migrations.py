"""Migrations build every table on both databases, and the models match them exactly."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Engine

from catalogue.models import HAND_MADE_SCHEMA_PREFIXES
from skillshub.db import current_revision, head_revision, upgrade
from skillshub.models import metadata


def _hand_made(entry: tuple) -> bool:
    """Full-text search objects the migrations create by hand (FTS5 tables, GIN index)."""
    obj = entry[1]
    name = getattr(obj, "name", "") or ""
    return name.startswith(HAND_MADE_SCHEMA_PREFIXES)


def test_database_is_at_head(engine: Engine) -> None:
    assert current_revision(engine) == head_revision()


def test_every_model_table_exists(engine: Engine) -> None:
    tables = set(inspect(engine).get_table_names())
    assert {t.name for t in metadata.sorted_tables} <= tables


def test_models_and_migrations_agree(engine: Engine) -> None:
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": False}), metadata
        )
    assert [entry for entry in diff if not _hand_made(entry)] == []


def test_upgrade_is_idempotent(engine: Engine) -> None:
    upgrade(engine)
    upgrade(engine)
    assert current_revision(engine) == head_revision()
