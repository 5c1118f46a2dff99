"""catalogue: a change counter for the skill table, bumped by triggers (label caches)

Revision ID: a4f1c9e2b7d3
Revises: 8c4aefc02ab0
Create Date: 2026-12-05 06:00:00.000000
"""

import secrets
from collections.abc import Sequence

from alembic import op

revision: str = "a4f1c9e2b7d3"
down_revision: str | None = "8c4aefc02ab0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Made by hand (catalogue.models.HAND_MADE_SCHEMA_PREFIXES): no model, so the tests' TRUNCATE of
# every model table leaves the counter (and TRUNCATE skill bumps it on PostgreSQL).
_BUMP = "UPDATE catalogue_version SET version = version + 1 WHERE name = 'skill'"
SQLITE = [
    f"CREATE TRIGGER catalogue_version_skill_{event.lower()} AFTER {event} ON skill "
    f"BEGIN {_BUMP}; END"
    for event in ("INSERT", "UPDATE", "DELETE")
]
SQLITE_DROP = [
    f"DROP TRIGGER IF EXISTS catalogue_version_skill_{event}"
    for event in ("insert", "update", "delete")
]
POSTGRES = [
    "CREATE FUNCTION catalogue_version_bump_skill() RETURNS trigger LANGUAGE plpgsql AS "
    f"$$ BEGIN {_BUMP}; RETURN NULL; END $$",
    # Once per statement: an ESCO import of 14,000 rows bumps it once, not 14,000 times.
    "CREATE TRIGGER catalogue_version_skill AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
    "ON skill FOR EACH STATEMENT EXECUTE FUNCTION catalogue_version_bump_skill()",
]
POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS catalogue_version_skill ON skill",
    "DROP FUNCTION IF EXISTS catalogue_version_bump_skill()",
]


def upgrade() -> None:
    op.execute(
        "CREATE TABLE catalogue_version (name VARCHAR(40) NOT NULL PRIMARY KEY, "
        "version BIGINT NOT NULL)"
    )
    # A random start: a database made again from scratch does not repeat an old version, so a
    # cache that outlived it cannot take its labels for current.
    start = secrets.randbelow(2**40)
    op.execute(f"INSERT INTO catalogue_version (name, version) VALUES ('skill', {start})")
    statements = SQLITE if op.get_bind().dialect.name == "sqlite" else POSTGRES
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    statements = SQLITE_DROP if op.get_bind().dialect.name == "sqlite" else POSTGRES_DROP
    for statement in statements:
        op.execute(statement)
    op.execute("DROP TABLE catalogue_version")
