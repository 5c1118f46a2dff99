"""Bulk upserts with `INSERT … ON CONFLICT` on SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session


def upsert(
    session: Session,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    key: Sequence[str],
    update: Sequence[str] = (),
    touch: Sequence[str] = (),
) -> int:
    """Insert `rows`; on a `key` conflict update the `update` columns (and `touch` ones, e.g.
    `updated_at`) only where an `update` column differs, so an unchanged row stays untouched.
    With no `update` columns an existing row is left as it is. Returns rows inserted or changed.
    """
    if not rows:
        return 0
    conn = session.connection()
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table)
    if update:
        excluded = stmt.excluded
        stmt = stmt.on_conflict_do_update(
            index_elements=list(key),
            set_={c: excluded[c] for c in (*update, *touch)},
            where=or_(*(table.c[c].is_distinct_from(excluded[c]) for c in update)),
        )
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=list(key))
    # RETURNING names exactly the rows written (executemany rowcounts vary by driver).
    result = conn.execute(stmt.returning(table.c[key[0]]), list(rows))
    return len(result.all())
