"""badges: VC-API credentials recorded (source, their own id); micro-credential and e-mail
optional

Revision ID: b627ad834643
Revises: 0385839e6f90
Create Date: 2026-12-05 02:47:22.265380

A credential signed through VC-API `/credentials/issue` is stored like an award, with its
status entries, so it can be looked up, revoked and suspended. It may award none of our
micro-credentials and names no e-mail address, so those columns become nullable.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "b627ad834643"
down_revision: str | None = "0385839e6f90"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("issued_credential", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "source",
                sqlmodel.sql.sqltypes.AutoString(length=12),
                server_default="catalogue",
                nullable=False,
            )
        )
        batch_op.add_column(
            sa.Column("credential_id", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True)
        )
        batch_op.alter_column("micro_credential_id", existing_type=sa.INTEGER(), nullable=True)
        batch_op.alter_column(
            "recipient_email", existing_type=sa.VARCHAR(length=320), nullable=True
        )
        batch_op.alter_column("identity_hash", existing_type=sa.VARCHAR(length=100), nullable=True)
        batch_op.create_index(
            batch_op.f("ix_issued_credential_credential_id"), ["credential_id"], unique=False
        )


def downgrade() -> None:
    # The older schema cannot hold VC-API credentials (no micro-credential, no e-mail): their
    # rows go, with what hangs on them, before the columns become required again.
    vc_api = sa.text("SELECT id FROM issued_credential WHERE source = 'vc-api'")
    op.execute(sa.text(f"DELETE FROM claim_token WHERE credential_id IN ({vc_api})"))
    op.execute(sa.text("DELETE FROM issued_credential WHERE source = 'vc-api'"))
    with op.batch_alter_table("issued_credential", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_issued_credential_credential_id"))
        batch_op.alter_column("identity_hash", existing_type=sa.VARCHAR(length=100), nullable=False)
        batch_op.alter_column(
            "recipient_email", existing_type=sa.VARCHAR(length=320), nullable=False
        )
        batch_op.alter_column("micro_credential_id", existing_type=sa.INTEGER(), nullable=False)
        batch_op.drop_column("credential_id")
        batch_op.drop_column("source")
