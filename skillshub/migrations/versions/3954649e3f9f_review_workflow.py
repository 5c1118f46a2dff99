"""Review workflow (issue 20): submitted and changes-requested states, submissions and their
conversation.

Revision ID: 3954649e3f9f
Revises: e3f55c335ac8
Create Date: 2026-12-05 05:48:34.006929
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "3954649e3f9f"
down_revision: str | None = "e3f55c335ac8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_OLD_CHECK = "state IN ('draft', 'published')"
_NEW_CHECK = "state IN ('draft', 'submitted', 'changes_requested', 'published')"


def _states(check: str, length: int) -> None:
    for table in ("course", "micro_credential"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f"ck_{table}_state", type_="check")
            batch_op.alter_column(
                "state",
                existing_type=sqlmodel.sql.sqltypes.AutoString(length=30 - length),
                type_=sqlmodel.sql.sqltypes.AutoString(length=length),
                existing_nullable=False,
                existing_server_default="published",
            )
            batch_op.create_check_constraint(f"ck_{table}_state", check)


def upgrade() -> None:
    _states(_NEW_CHECK, 20)
    op.create_table(
        "submission",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("ref_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("submitted_by", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decided_by", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True),
        sa.CheckConstraint(
            "kind IN ('course', 'micro_credential', 'job_role')", name="ck_submission_kind"
        ),
        sa.CheckConstraint(
            "state IN ('submitted', 'changes_requested', 'approved', 'withdrawn')",
            name="ck_submission_state",
        ),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_submission_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_submission_ref_id"), ["ref_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_submission_state"), ["state"], unique=False)

    op.create_table(
        "submission_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("author_side", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("author_label", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["submission_id"], ["submission.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("submission_message", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_submission_message_submission_id"), ["submission_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("submission_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_submission_message_submission_id"))

    op.drop_table("submission_message")
    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_submission_state"))
        batch_op.drop_index(batch_op.f("ix_submission_ref_id"))
        batch_op.drop_index(batch_op.f("ix_submission_organisation_id"))

    op.drop_table("submission")
    op.execute(
        "UPDATE course SET state = 'draft' WHERE state IN ('submitted', 'changes_requested')"
    )
    op.execute(
        "UPDATE micro_credential SET state = 'draft' "
        "WHERE state IN ('submitted', 'changes_requested')"
    )
    _states(_OLD_CHECK, 10)
