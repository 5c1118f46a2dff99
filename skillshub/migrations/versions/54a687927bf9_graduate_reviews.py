"""Graduate reviews (issue 20): a course review tied to one credential.

Revision ID: 54a687927bf9
Revises: 3954a26f913d
Create Date: 2026-12-05 06:15:30.236311
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "54a687927bf9"
down_revision: str | None = "3954a26f913d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "course_review",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("credential_id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("show_name", sa.Boolean(), nullable=False),
        sa.Column("display_name", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.Column("hidden_at", sa.DateTime(), nullable=True),
        sa.Column("hidden_reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name="ck_course_review_rating"),
        sa.ForeignKeyConstraint(["course_id"], ["course.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["credential_id"], ["issued_credential.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("credential_id"),
    )
    with op.batch_alter_table("course_review", schema=None) as batch_op:
        batch_op.create_index(
            "ix_course_review_course_shown", ["course_id", "hidden_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("course_review", schema=None) as batch_op:
        batch_op.drop_index("ix_course_review_course_shown")

    op.drop_table("course_review")
