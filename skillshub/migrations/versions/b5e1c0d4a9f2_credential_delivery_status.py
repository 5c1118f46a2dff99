"""badges: the claim e-mail's delivery status on each issued credential

Revision ID: b5e1c0d4a9f2
Revises: 7d7f6dfe681a
Create Date: 2026-12-05 00:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "b5e1c0d4a9f2"
down_revision: str | None = "7d7f6dfe681a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("issued_credential", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("delivery_status", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=True)
        )
        batch_op.add_column(
            sa.Column("delivery_error", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("issued_credential", schema=None) as batch_op:
        batch_op.drop_column("delivery_error")
        batch_op.drop_column("delivery_status")
