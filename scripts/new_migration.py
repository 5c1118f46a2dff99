"""Write an Alembic migration for the difference between the models and the migrations.

Usage: .venv/bin/python scripts/new_migration.py "what changed"
"""

import sys
import tempfile
from pathlib import Path

from alembic import command

from skillshub.db import alembic_config, make_engine, upgrade

with tempfile.TemporaryDirectory() as tmp:
    engine = make_engine(f"sqlite:///{Path(tmp) / 'autogen.db'}")
    upgrade(engine)
    command.revision(alembic_config(engine), message=sys.argv[1], autogenerate=True)
