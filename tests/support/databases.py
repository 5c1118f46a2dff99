"""PostgreSQL for the tests: is a server there, and fresh databases on it (the helpers live in
skillshub.devsupport, which the benchmarks use without pytest)."""

from skillshub.devsupport import (
    POSTGRES_ADMIN_URL,
    create_postgres_database,
    drop_postgres_database,
)
from skillshub.devsupport import postgres_unreachable_reason as _postgres_reachable

__all__ = [
    "POSTGRES_ADMIN_URL",
    "_postgres_reachable",
    "create_postgres_database",
    "drop_postgres_database",
]
