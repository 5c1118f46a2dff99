"""issued_credential: the lower(recipient_email) index again where a SQLite rebuild lost it

Revision ID: f2b4d6a8c1e3
Revises: e5c7a9b3d2f1
Create Date: 2026-12-05 11:40:00

Migration d5e7ef2c6558 added a column to issued_credential in SQLite's batch mode, which
rebuilt the table from its reflection; SQLAlchemy cannot reflect an expression index, so the
rebuilt table lacked ix_issued_credential_recipient_lower and a learner's backpack scanned every
credential. PostgreSQL altered the table in place and kept it: IF NOT EXISTS serves both.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "f2b4d6a8c1e3"
down_revision: str | None = "e5c7a9b3d2f1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_issued_credential_recipient_lower "
        "ON issued_credential (lower(recipient_email))"
    )


def downgrade() -> None:
    # The index belongs to 8c4aefc02ab0, whose downgrade drops it.
    pass
