"""catalogue: draft and published state of courses and micro-credentials

Revision ID: 0385839e6f90
Revises: 4b1001e8bb78
Create Date: 2026-12-05 02:55:00.634049

Every existing entry was public before this release, so existing rows become "published"
(the server default fills them); new drafts are written by the console and the API.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0385839e6f90"
down_revision: str | None = "4b1001e8bb78"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STATE_CHECK = "state IN ('draft', 'published')"


def upgrade() -> None:
    for table in ("course", "micro_credential"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column(
                    "state",
                    sqlmodel.sql.sqltypes.AutoString(length=10),
                    nullable=False,
                    server_default="published",
                )
            )
            batch_op.create_check_constraint(f"ck_{table}_state", _STATE_CHECK)


def downgrade() -> None:
    for table in ("micro_credential", "course"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f"ck_{table}_state", type_="check")
            batch_op.drop_column("state")
