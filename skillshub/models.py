"""Every table of every domain package, gathered into one metadata for Alembic."""

from sqlmodel import SQLModel

import badges.models  # noqa: F401 - imported for its tables
import catalogue.models  # noqa: F401
import keys.models  # noqa: F401

metadata = SQLModel.metadata
