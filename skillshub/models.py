"""Every table of every domain package, gathered into one metadata for Alembic."""

from sqlmodel import SQLModel

import badges.models
import catalogue.models
import keys.models  # noqa: F401

metadata = SQLModel.metadata
