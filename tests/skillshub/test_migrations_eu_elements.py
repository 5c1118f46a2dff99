"""The EU-element migrations on a database holding rows, on both databases: what existing rows
become (nothing is guessed)."""

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import Engine

from skillshub.db import alembic_config, make_engine, upgrade
from skillshub.devsupport import create_postgres_database, drop_postgres_database

BEFORE = "0eb3b06056d5"  # the head before the learner's names were kept apart


@pytest.fixture(params=["sqlite", "postgresql"])
def old_engine(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_skip_reason: str | None
) -> Iterator[Engine]:
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    elif postgres_skip_reason:
        pytest.skip(postgres_skip_reason)
    else:
        name = f"skillshub_eu_{uuid.uuid4().hex[:8]}"
        engine = make_engine(create_postgres_database(name))
    command.upgrade(alembic_config(engine), BEFORE)
    try:
        yield engine
    finally:
        engine.dispose()
        if request.param == "postgresql":
            drop_postgres_database(name)


def _seed(engine: Engine) -> None:
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
                "INSERT INTO course (id, organisation_id, slug, title, languages, mode, country, "
                "start_dates, state, created_at, updated_at) VALUES (1, 1, 'hv', 'HV', '[]', "
                "'online', 'DE', '[]', 'published', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO micro_credential (id, course_id, slug, title, country, ects, "
                "eqf_level, assessment_type, mode, quality_assurance, achievement_type, "
                "languages, state, created_at, updated_at) VALUES (1, 1, 'hv-safety', 'HV', "
                "'DE', 2, 4, 'portfolio', 'online', 'program-quality-assurance', "
                "'MicroCredential', '[\"en\"]', 'published', CURRENT_TIMESTAMP, "
                "CURRENT_TIMESTAMP)"
            )
        )
        for number, name in enumerate(("Ana Andromeda", "Li Wei", "Madonna"), 1):
            conn.execute(
                text(
                    "INSERT INTO issued_credential (uuid, issuer_id, format, recipient_name, "
                    "recipient_email, valid_from, signed, public, suspended, created_at) VALUES "
                    "(:uuid, 1, 'ldp', :name, :email, CURRENT_TIMESTAMP, '{}', false, false, "
                    "CURRENT_TIMESTAMP)"
                ),
                {"uuid": f"00000000-0000-4000-8000-00000000000{number}", "name": name,
                 "email": f"l{number}@example.org"},
            )  # fmt: skip


def test_existing_recipients_keep_their_full_name_and_are_not_split(old_engine: Engine) -> None:
    _seed(old_engine)
    upgrade(old_engine)
    with old_engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT recipient_name, recipient_given_name, recipient_family_name "
                "FROM issued_credential ORDER BY uuid"
            )
        ).all()
    # "Li Wei" may well be family name first: no split is unambiguous from the text alone.
    assert [tuple(row) for row in rows] == [
        ("Ana Andromeda", None, None),
        ("Li Wei", None, None),
        ("Madonna", None, None),
    ]


def test_existing_recipients_have_not_consented_to_their_e_mail_in_europass(
    old_engine: Engine,
) -> None:
    _seed(old_engine)
    upgrade(old_engine)
    with old_engine.connect() as conn:
        consents = conn.execute(
            text("SELECT recipient_contact_consent FROM issued_credential")
        ).scalars()
        assert list(consents) == [False, False, False]


def test_existing_micro_credentials_name_no_duration_and_no_body(old_engine: Engine) -> None:
    """Nothing is made up for them: the EDC keeps naming the provider as accrediting agent
    (with a note on export) until the provider names the body."""
    _seed(old_engine)
    upgrade(old_engine)
    with old_engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT title, maximum_duration, quality_assurance_body_name, "
                "quality_assurance_body_country, quality_assurance_body_homepage, "
                "quality_assurance_body_uri FROM micro_credential"
            )
        ).one()
    assert tuple(row) == ("HV", None, None, None, None, None)
