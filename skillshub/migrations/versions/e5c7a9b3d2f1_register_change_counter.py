"""verifier: a change counter for the register (organisations, issuers), bumped by triggers

Revision ID: e5c7a9b3d2f1
Revises: d8b2e4f6a1c3
Create Date: 2026-12-05 09:30:00

Every verification compares the badge's issuer with the register (is it a provider of this
hub, does it borrow a provider's name): badges.verifying.trust keeps the register per
database and reads it again only when this counter moved, whichever process wrote.
"""

import secrets
from collections.abc import Sequence

from alembic import op

revision: str = "e5c7a9b3d2f1"
down_revision: str | None = "d8b2e4f6a1c3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("organisation", "issuer")
EVENTS = ("insert", "update", "delete")
_BUMP = "UPDATE catalogue_version SET version = version + 1 WHERE name = 'register'"


def upgrade() -> None:
    # A random start, as the skill counter's (a4f1c9e2b7d3): a database made again does not
    # repeat a version a cache may still hold.
    start = secrets.randbelow(2**40)
    op.execute(f"INSERT INTO catalogue_version (name, version) VALUES ('register', {start})")
    if op.get_bind().dialect.name == "sqlite":
        for table in TABLES:
            for event in EVENTS:
                op.execute(
                    f"CREATE TRIGGER catalogue_version_register_{table}_{event} AFTER "
                    f"{event.upper()} ON {table} BEGIN {_BUMP}; END"
                )
        return
    op.execute(
        "CREATE FUNCTION catalogue_version_bump_register() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ BEGIN {_BUMP}; RETURN NULL; END $$"
    )
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER catalogue_version_register AFTER INSERT OR UPDATE OR DELETE OR "
            f"TRUNCATE ON {table} FOR EACH STATEMENT "
            "EXECUTE FUNCTION catalogue_version_bump_register()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in TABLES:
            for event in EVENTS:
                op.execute(f"DROP TRIGGER IF EXISTS catalogue_version_register_{table}_{event}")
    else:
        for table in TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS catalogue_version_register ON {table}")
        op.execute("DROP FUNCTION IF EXISTS catalogue_version_bump_register()")
    op.execute("DELETE FROM catalogue_version WHERE name = 'register'")
