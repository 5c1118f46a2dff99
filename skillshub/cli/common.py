"""The `skillshub` Typer app and what every command module shares: settings, the database,
errors, consoles and output files."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from pydantic import ValidationError
from rich.console import Console
from sqlmodel import Session

from catalogue import publishing
from catalogue.checks import plain_message
from catalogue.errors import DomainError
from skillshub.db import make_engine, session_scope, upgrade
from skillshub.settings import Settings

# Every command that takes a credential takes either form (issue 15).
CREDENTIAL_HELP = (
    "the credential: its UUID, its id as `issue` prints it ({BASE_URL}/credentials/UUID), "
    "or the id a VC-API credential was issued with"
)

app = typer.Typer(
    help="Skills Hub: micro-credential catalogue, Open Badges 3.0 issuer and verifier.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)

err = Console(stderr=True, soft_wrap=True)  # never break paths and ids across lines
out = Console(soft_wrap=True)


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        name = f"SKILLSHUB_{str(first['loc'][0]).upper()}"
        err.print(f"[red]error:[/] setting {name}: {plain_message(first)}")
        raise typer.Exit(2) from None


def fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


def write_file(path: Path, content: str | bytes) -> None:
    """Write a command's output file; an unwritable path is a clear error, not a traceback."""
    try:
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    except OSError as exc:
        raise fail(f"cannot write {path}: {exc.strerror or exc}") from None


def check_writable(path: Path) -> None:
    """Refuse an output path up front, before a command does anything it cannot undo."""
    parent = path.parent if str(path.parent) else Path(".")
    if path.is_dir() or not parent.is_dir() or not os.access(parent, os.W_OK):
        raise fail(f"cannot write {path}: no such writable file location")


@contextmanager
def database(settings: Settings | None = None, *, error_code: int = 1) -> Iterator[Session]:
    """A migrated database session; domain errors become a clear message and `error_code`."""
    settings = settings or load_settings()
    try:
        engine = make_engine(settings.sqlalchemy_url)
        upgrade(engine)
        with session_scope(engine) as session:
            publishing.require_review(session, settings.require_review)
            yield session
    except DomainError as exc:
        raise fail(exc.message, error_code) from None
