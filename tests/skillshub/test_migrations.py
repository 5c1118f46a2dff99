"""Migrations build every table on both databases, and the models match them exactly."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
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


def test_the_hand_made_schema_objects_exist_at_head(engine: Engine) -> None:
    """The comparison above leaves these out, so a SQLite batch rebuild that silently dropped
    one (the expression index cannot be reflected) would otherwise go unnoticed."""
    sqlite = engine.dialect.name == "sqlite"
    expected = {"catalogue_version", "ix_issued_credential_recipient_lower"}
    expected |= {"search_fts"} if sqlite else {"ix_search_document_fts", "procrastinate_jobs"}
    # The change counters' triggers: SQLite's one per table and event (and the full-text
    # index's), PostgreSQL's one per counter on all its tables.
    if sqlite:
        triggers = {
            f"{name}_{event}"
            for name in (
                "catalogue_version_skill",
                "catalogue_version_skill_label",
                "catalogue_version_register_issuer",
                "catalogue_version_register_organisation",
                "search_fts",
            )
            for event in ("insert", "update", "delete")
        }
    else:
        triggers = {
            "catalogue_version_skill",
            "catalogue_version_skill_label",
            "catalogue_version_register",
        }
    tables = set(inspect(engine).get_table_names())
    with engine.connect() as conn:
        if sqlite:
            found = {
                name: kind
                for name, kind in conn.execute(text("SELECT name, type FROM sqlite_master"))
            }
            indexes = {name for name, kind in found.items() if kind == "index"}
            present_triggers = {name for name, kind in found.items() if kind == "trigger"}
        else:
            indexes = set(conn.execute(text("SELECT indexname FROM pg_indexes")).scalars())
            present_triggers = set(
                conn.execute(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")).scalars()
            )
            if conn.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")).first():
                expected.add("ix_issued_credential_search_trgm")
    assert expected - (tables | indexes) == set()
    assert triggers - present_triggers == set()
    assert all(name.startswith(HAND_MADE_SCHEMA_PREFIXES) for name in expected)


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


@contextmanager
def _empty_database(
    backend: str, tmp_path: Path, postgres_skip_reason: str | None
) -> Iterator[Engine]:
    """A database of its own with no table yet (the migrations under test make them)."""
    name = f"skillshub_empty_{uuid.uuid4().hex[:8]}"
    if backend == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    elif postgres_skip_reason:
        pytest.skip(postgres_skip_reason)
    else:
        engine = make_engine(create_postgres_database(name))
    try:
        yield engine
    finally:
        engine.dispose()
        if backend == "postgresql":
            drop_postgres_database(name)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_each_migration_upgrades_a_database_holding_data(
    backend: str, tmp_path: Path, postgres_skip_reason: str | None
) -> None:
    """Walk every revision in order with rows present, as a deployment upgrades: SQLite's
    table rebuilds must not trip over the foreign keys pointing at the rebuilt table."""
    with _empty_database(backend, tmp_path, postgres_skip_reason) as engine:
        _walk_with_data(engine)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_every_migration_downgrades_to_the_start_and_upgrades_again(
    backend: str, tmp_path: Path, postgres_skip_reason: str | None
) -> None:
    """An operator rolling back finds every downgrade working, on both databases (SQLite's lost
    expression index once made 8c4aefc02ab0's downgrade fail there)."""
    with _empty_database(backend, tmp_path, postgres_skip_reason) as engine:
        upgrade(engine)
        command.downgrade(alembic_config(engine), "base")
        assert current_revision(engine) is None
        upgrade(engine)
        assert current_revision(engine) == head_revision()


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
