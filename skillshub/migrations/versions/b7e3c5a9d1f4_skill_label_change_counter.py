"""catalogue: writes to skill_label bump the skill table's change counter too

Revision ID: b7e3c5a9d1f4
Revises: f2b4d6a8c1e3
Create Date: 2026-12-05 15:20:00

The verify page shows the catalogue's label of a skill in the page's language (a SkillLabel
row, else the skill's primary label); catalogue.skills.skill_labels caches those per language
until the 'skill' counter moves, so a label written on its own (an ESCO import of one more
language may leave every skill row as it was) must move it as well.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "b7e3c5a9d1f4"
down_revision: str | None = "f2b4d6a8c1e3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EVENTS = ("insert", "update", "delete")
_BUMP = "UPDATE catalogue_version SET version = version + 1 WHERE name = 'skill'"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for event in EVENTS:
            op.execute(
                f"CREATE TRIGGER catalogue_version_skill_label_{event} AFTER {event.upper()} "
                f"ON skill_label BEGIN {_BUMP}; END"
            )
        return
    # The skill table's function (a4f1c9e2b7d3), once per statement.
    op.execute(
        "CREATE TRIGGER catalogue_version_skill_label AFTER INSERT OR UPDATE OR DELETE OR "
        "TRUNCATE ON skill_label FOR EACH STATEMENT "
        "EXECUTE FUNCTION catalogue_version_bump_skill()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for event in EVENTS:
            op.execute(f"DROP TRIGGER IF EXISTS catalogue_version_skill_label_{event}")
    else:
        op.execute("DROP TRIGGER IF EXISTS catalogue_version_skill_label ON skill_label")
