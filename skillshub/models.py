"""Every table of every domain package, gathered into one metadata for Alembic."""

from sqlmodel import SQLModel

import accounts.models  # noqa: F401 - imported for its tables
import backpack.models  # noqa: F401
import badges.models
import badges.wallet.models  # noqa: F401
import catalogue.models
import keys.eseal_models
import keys.models  # noqa: F401

metadata = SQLModel.metadata


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Leave out of autogenerate and model comparison what migrations make by hand."""
    return not (name or "").startswith(catalogue.models.HAND_MADE_SCHEMA_PREFIXES)
