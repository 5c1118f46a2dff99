"""Endorsements (issue 20): signed EndorsementCredentials, revocable in the endorser's list.

Revision ID: 3954a26f913d
Revises: 3954649e3f9f
Create Date: 2026-12-05 06:01:24.869559
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "3954a26f913d"
down_revision: str | None = "3954649e3f9f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "endorsement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("endorser_id", sa.Integer(), nullable=False),
        sa.Column("issuer_id", sa.Integer(), nullable=False),
        sa.Column("subject_kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("subject_ref_id", sa.Integer(), nullable=False),
        sa.Column("subject_uri", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("valid_from", sa.DateTime(), nullable=False),
        sa.Column("valid_until", sa.DateTime(), nullable=True),
        sa.Column("signed_ldp", sa.Text(), nullable=False),
        sa.Column("signed_jwt", sa.Text(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["endorser_id"], ["organisation.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["issuer_id"],
            ["issuer.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("endorsement", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_endorsement_endorser_id"), ["endorser_id"], unique=False
        )
        batch_op.create_index(
            "ix_endorsement_subject", ["subject_kind", "subject_ref_id", "revoked_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_endorsement_uuid"), ["uuid"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("endorsement", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_endorsement_uuid"))
        batch_op.drop_index("ix_endorsement_subject")
        batch_op.drop_index(batch_op.f("ix_endorsement_endorser_id"))

    op.drop_table("endorsement")
