"""job queue: procrastinate's schema (PostgreSQL only; SQLite runs jobs in-process)

Revision ID: c3f1a7d2e9b4
Revises: 54a687927bf9
Create Date: 2026-12-05 06:00:00

The schema of the pinned procrastinate version (pyproject), applied as procrastinate ships it.
A later procrastinate upgrade adds a migration here that runs the files of its
`procrastinate/sql/migrations/` between the two versions.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "c3f1a7d2e9b4"
down_revision: str | None = "54a687927bf9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DROP_FUNCTIONS = """
DO $$
DECLARE f record;
BEGIN
    FOR f IN SELECT oid::regprocedure AS signature FROM pg_proc
             WHERE proname LIKE 'procrastinate\\_%' LOOP
        EXECUTE 'DROP FUNCTION IF EXISTS ' || f.signature || ' CASCADE';
    END LOOP;
END $$;
"""


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    from procrastinate.schema import SchemaManager

    exists = bind.exec_driver_sql("SELECT to_regclass('procrastinate_jobs')").scalar()
    if exists is None:
        # On the driver connection: the schema text holds '%' signs that are no placeholders.
        bind.connection.driver_connection.execute(SchemaManager.get_schema())  # type: ignore[union-attr]


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    driver = bind.connection.driver_connection
    driver.execute(  # type: ignore[union-attr]
        "DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers, "
        "procrastinate_jobs, procrastinate_workers CASCADE"
    )
    driver.execute(_DROP_FUNCTIONS)  # type: ignore[union-attr]
    driver.execute(  # type: ignore[union-attr]
        "DROP TYPE IF EXISTS procrastinate_job_to_defer_v1, procrastinate_job_event_type, "
        "procrastinate_job_status CASCADE"
    )
