"""`skillshub backup`, `restore`, `master-key rotate` and `doctor`: keeping a deployment
(docs/OPERATIONS.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from catalogue.errors import DomainError
from skillshub.cli.common import app, err, fail, load_settings, out

master_key_app = typer.Typer(
    help="The master key that seals every private key.", no_args_is_help=True
)
app.add_typer(master_key_app, name="master-key")


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    return f"{n / 1024:.1f} KiB" if n < 1024 * 1024 else f"{n / 1024 / 1024:.1f} MiB"


@app.command()
def backup(
    out_dir: Annotated[Path, typer.Option("--out", help="A new (or empty) directory")],
    include_master_key: Annotated[
        bool,
        typer.Option(
            "--include-master-key",
            help="Also write the master key: whoever has the directory can then sign as "
            "every issuer",
        ),
    ] = False,
) -> None:
    """A consistent snapshot of the database while the server runs, with a manifest (row
    counts, SHA-256 of each file). The master key is left out unless asked for."""
    from keys.store import open_master_key
    from skillshub.db import make_engine
    from skillshub.ops.backup import backup as take_backup
    from skillshub.ops.rotate import opens_database

    settings = load_settings()
    try:
        engine = make_engine(settings.sqlalchemy_url)
        key_text = settings.resolved_master_key()
        master_key = open_master_key(key_text)
        if not opens_database(engine, key_text):
            raise fail("the configured master key does not match this database")
        if include_master_key:
            err.print(
                "[yellow]warning:[/] the backup holds the master key: anyone who reads it can "
                "sign credentials as every issuer. Keep it encrypted and apart from other "
                "backups.",
                highlight=False,
            )
        result = take_backup(
            engine, master_key, out_dir, master_key_text=key_text if include_master_key else None
        )
    except DomainError as exc:
        raise fail(exc.message) from None
    total = sum(result.manifest.counts.values())
    key = "INCLUDED" if include_master_key else "not included"
    out.print(
        f"[green]backup written[/]: {result.directory} ({_size(result.size)}, {total} rows, "
        f"{result.seconds:.1f} s); master key {key}",
        highlight=False,
    )


@app.command()
def restore(
    directory: Annotated[Path, typer.Argument(help="A directory written by `skillshub backup`")],
) -> None:
    """Restore a backup into an empty database (a new data directory, or a new PostgreSQL
    database), with the backup's master key configured; then check it."""
    from keys.store import open_master_key
    from skillshub.db import make_engine
    from skillshub.files import private_dir
    from skillshub.ops.backup import KEY_FILE, Manifest
    from skillshub.ops.backup import restore as do_restore
    from skillshub.verifier import verification_context

    settings = load_settings()
    try:
        private_dir(settings.data_dir)
        key_text = settings.resolved_master_key()
        carried = directory / KEY_FILE
        if key_text is None and carried.is_file() and Manifest.read(directory).includes_master_key:
            key_text = carried.read_text().strip()
            _install_key(settings.master_key_path, key_text)
            err.print(f"master key taken from the backup into {settings.master_key_path}")
        master_key = open_master_key(key_text)
        engine = make_engine(settings.sqlalchemy_url)
        result = do_restore(engine, master_key, directory, verification_context(settings))
    except DomainError as exc:
        raise fail(exc.message) from None
    total = sum(result.counts.values())
    out.print(
        f"restored {total} rows in {result.seconds:.1f} s; checked {result.credentials_checked} "
        f"credential(s) against their proofs and {result.status_lists_checked} status list(s)",
        highlight=False,
    )
    if not result.ok:
        for problem in result.problems:
            err.print(f"[red]problem:[/] {problem}", highlight=False)
        raise typer.Exit(1)
    out.print("[green]restore checked[/]: every sealed key opens, every proof checked verifies")


def _install_key(path: Path, key_text: str) -> None:
    import os

    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key_text + "\n")


@master_key_app.command("rotate")
def master_key_rotate() -> None:
    """Re-seal every issuer key, e-seal key and sealed secret under a new master key, in one
    transaction. Stop the servers first (they hold the old key); start them after."""
    from skillshub.db import make_engine, upgrade
    from skillshub.ops.rotate import rotate_master_key

    settings = load_settings()
    try:
        engine = make_engine(settings.sqlalchemy_url)
        upgrade(engine)
        rotation = rotate_master_key(
            engine,
            settings.resolved_master_key(),
            settings.master_key_path,
            key_in_file=settings.master_key is None,
        )
    except DomainError as exc:
        raise fail(exc.message) from None
    if rotation.finished_earlier_run:
        out.print("[green]finished an interrupted rotation[/]: the database was already re-sealed")
    else:
        counts = ", ".join(f"{n} {name}" for name, n in rotation.resealed.items())
        out.print(f"[green]re-sealed[/]: {counts}", highlight=False)
    if rotation.switched:
        out.print(
            f"{settings.master_key_path} holds the new key; the old one is in "
            f"{settings.master_key_path}.previous (delete it once the servers run)",
            highlight=False,
        )
    else:
        err.print(
            f"[yellow]set SKILLSHUB_MASTER_KEY to the new key in {rotation.new_key_path}[/] "
            "(then delete that file) and restart every server: the old key no longer opens "
            "the database",
            highlight=False,
        )


@app.command()
def doctor() -> None:
    """Check the configuration and the database; what to fix, most harmful first. Exits 1
    when there is an error."""
    from skillshub.db import make_engine
    from skillshub.ops.doctor import Level, diagnose

    settings = load_settings()
    try:
        findings = diagnose(settings, make_engine(settings.sqlalchemy_url))
    except DomainError as exc:
        raise fail(exc.message) from None
    style = {
        Level.ERROR: "[red]ERROR  [/]",
        Level.WARNING: "[yellow]WARNING[/]",
        Level.OK: "[green]ok     [/]",
    }
    for finding in findings:
        out.print(f"{style[finding.level]} {finding.topic}: {finding.message}", highlight=False)
    errors = sum(f.level is Level.ERROR for f in findings)
    warnings = sum(f.level is Level.WARNING for f in findings)
    out.print(f"{errors} error(s), {warnings} warning(s)")
    if errors:
        raise typer.Exit(1)
