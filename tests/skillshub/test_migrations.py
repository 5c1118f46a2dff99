"""Migrations build every table on both databases, and the models match them exactly."""

import uuid
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from catalogue.models import HAND_MADE_SCHEMA_PREFIXES
from skillshub.db import (
    MIGRATIONS_DIR,
    alembic_config,
    current_revision,
    head_revision,
    make_engine,
    upgrade,
)
from skillshub.devsupport import create_postgres_database, drop_postgres_database
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


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)  # a PostgreSQL setting
def test_signed_credentials_use_lz4_where_the_server_has_it(engine: Engine) -> None:
    with engine.connect() as conn:
        has_lz4 = conn.execute(
            text(
                "SELECT 'lz4' = ANY(enumvals) FROM pg_settings"
                " WHERE name = 'default_toast_compression'"
            )
        ).scalar()
        method = conn.execute(
            text(
                "SELECT attcompression FROM pg_attribute"
                " WHERE attrelid = 'issued_credential'::regclass AND attname = 'signed'"
            )
        ).scalar()
    assert method == ("l" if has_lz4 else "")


def test_upgrade_is_idempotent(engine: Engine) -> None:
    upgrade(engine)
    upgrade(engine)
    assert current_revision(engine) == head_revision()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_each_migration_upgrades_a_database_holding_data(
    backend: str, tmp_path: Path, postgres_skip_reason: str | None
) -> None:
    """Walk every revision in order with rows present, as a deployment upgrades: SQLite's
    table rebuilds must not trip over the foreign keys pointing at the rebuilt table."""
    if backend == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'walk.db'}")
    elif postgres_skip_reason:
        pytest.skip(postgres_skip_reason)
    else:
        name = f"skillshub_walk_{uuid.uuid4().hex[:8]}"
        engine = make_engine(create_postgres_database(name))
    try:
        _walk_with_data(engine)
    finally:
        engine.dispose()
        if backend == "postgresql":
            drop_postgres_database(name)


def _walk_with_data(engine: Engine) -> None:
    revisions = list(reversed(list(ScriptDirectory(str(MIGRATIONS_DIR)).walk_revisions())))
    seeded = False
    for revision in revisions:
        command.upgrade(alembic_config(engine), revision.revision)
        tables = set(inspect(engine).get_table_names())
        if not seeded and {"organisation", "issuer", "issuer_key"} <= tables:
            with engine.begin() as conn:
                conn.execute(
                    text(
                        "INSERT INTO organisation (id, slug, legal_name, country, created_at) "
                        "VALUES (1, 'volt', 'Volt GmbH', 'DE', CURRENT_TIMESTAMP)"
                    )
                )
                conn.execute(
                    text(
                        "INSERT INTO issuer (id, organisation_id, slug, name, did, created_at) "
                        "VALUES (1, 1, 'volt', 'Volt', 'did:key:z6Mk', CURRENT_TIMESTAMP)"
                    )
                )
                conn.execute(
                    text(
                        "INSERT INTO issuer_key (issuer_id, kid, algorithm, controller, "
                        "public_multibase, sealed_private_key, active, created_at) VALUES "
                        "(1, 'k', 'Ed25519', 'did:key:z6Mk', 'z6Mk', :key, true, CURRENT_TIMESTAMP)"
                    ),
                    {"key": b"\x00"},
                )
                conn.execute(
                    text(
                        "INSERT INTO api_token (organisation_id, name, prefix, token_hash, "
                        "created_at) VALUES (1, 'ci', 'shub_abcdef', :hash, CURRENT_TIMESTAMP)"
                    ),
                    {"hash": "0" * 64},
                )
            seeded = True
    assert seeded and current_revision(engine) == head_revision()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT name FROM issuer")).scalar_one() == "Volt"
        assert conn.execute(text("SELECT count(*) FROM issuer_key")).scalar_one() == 1
        # A token from before expiry existed keeps working: no expiry, not revoked.
        token = conn.execute(text("SELECT name, expires_at, revoked_at FROM api_token")).one()
        assert tuple(token) == ("ci", None, None)
        if engine.dialect.name == "sqlite":
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
