"""Hub operators: a user flag above organisations (issue 20).

Revision ID: e3f55c335ac8
Revises: cb743a89deb4
Create Date: 2026-12-05 05:39:57.591779
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e3f55c335ac8"
down_revision: str | None = "cb743a89deb4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("console_user", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("is_operator", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("console_user", schema=None) as batch_op:
        batch_op.drop_column("is_operator")
