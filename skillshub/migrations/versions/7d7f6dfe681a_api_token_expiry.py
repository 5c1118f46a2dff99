"""api tokens: expiry

Revision ID: 7d7f6dfe681a
Revises: 670f2e58bbc9
Create Date: 2026-12-04 23:55:00.000000

Learner sessions need no schema change: they are `claim_token` rows (purpose "session",
hashed), and their lifetime is checked against `created_at` and the current setting at
every request, so sessions minted with the old 365-day lifetime end with this release.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7d7f6dfe681a"
down_revision: str | None = "670f2e58bbc9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable: existing tokens keep working (no expiry) until someone revokes them.
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.drop_column("expires_at")
