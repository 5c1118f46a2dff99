"""The `skillshub` command: the Typer `app` with every command module registered on it.

`common` holds the app and the helpers the command modules share; each command module imports
`common` and registers its commands on the app when it is imported here.
"""

# isort: off
# The order of registration is the order of `skillshub --help`.
from skillshub.cli import foundation  # noqa: F401
from skillshub.cli import issuer  # noqa: F401
from skillshub.cli import badges  # noqa: F401
from skillshub.cli import catalogue  # noqa: F401
from skillshub.cli import europass  # noqa: F401
from skillshub.cli import learner  # noqa: F401
from skillshub.cli import wallet  # noqa: F401
from skillshub.cli import community  # noqa: F401
from skillshub.cli import users  # noqa: F401
from skillshub.cli import ops  # noqa: F401

# isort: on
from skillshub.cli.common import app

__all__ = ["app"]
