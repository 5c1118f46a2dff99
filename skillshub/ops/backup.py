"""Backup and restore: a consistent snapshot with a manifest, restored only into an empty target.

A backup directory holds the database (`skillshub.db`, SQLite's online backup API; or
`database.pgdump`, `pg_dump`'s custom format), `manifest.json` (format, revision, master-key
fingerprint, row counts per table, each file's size and SHA-256) and, only when asked,
`master.key`. Without the master key a backup is useless to a thief for signing, and also to
you: keep the key somewhere else, as safely (docs/OPERATIONS.md).

Consistency: SQLite's backup copies every page in one step under one read transaction;
PostgreSQL's counts are read in a REPEATABLE READ transaction whose snapshot `pg_dump`
shares (`--snapshot`), so the manifest counts exactly what the dump holds.

Restore checks, in this order, before it writes anything: the files' checksums, that the
configured master key is the backup's (its fingerprint and the sealed check value), that the
target is empty. SQLite is written to a temporary file renamed into place; PostgreSQL is
loaded in one transaction (`pg_restore --single-transaction`): an interrupted restore leaves
the target as it was, empty, and a retry starts afresh. Afterwards it compares the row counts,
opens every sealed value, verifies a sample of credentials against their stored proofs and
every status list's signature.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, col, select

from badges.models import IssuedCredential, StatusList
from badges.report import Status
from badges.verifying import VerificationContext, verify
from catalogue.errors import Conflict, DomainError, InvalidInput
from keys.models import MasterKeyCheck
from keys.sealing import MasterKey, SealingError
from skillshub.db import current_revision
from skillshub.files import private_dir
from skillshub.models import metadata
from skillshub.ops.sealed import unopened

FORMAT = "skillshub-backup/1"
MANIFEST = "manifest.json"
SQLITE_FILE = "skillshub.db"
PG_FILE = "database.pgdump"
KEY_FILE = "master.key"
CHECK_KEY_ID = "master-key-check"
SAMPLE = 200  # credentials verified after a restore (all of them when fewer)


class BackupError(DomainError):
    code = "backup_error"


class RestoreRefused(Conflict):
    """The target is not empty, the master key is not the backup's, a file is damaged."""

    code = "restore_refused"


def _tables() -> list[str]:
    return [table.name for table in metadata.sorted_tables]


def _counts(conn: Connection) -> dict[str, int]:
    present = set(inspect(conn).get_table_names())
    return {
        name: int(conn.execute(text(f'SELECT COUNT(*) FROM "{name}"')).scalar_one())
        for name in _tables()
        if name in present
    }


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _libpq(engine: Engine) -> tuple[str, dict[str, str]]:
    """The SQLAlchemy URL as libpq reads it (no `+psycopg`, no password) and the environment
    with the password (PGPASSWORD): never on a command line others can list."""
    url = engine.url.set(drivername="postgresql", password=None)
    env = {"PGPASSWORD": str(engine.url.password)} if engine.url.password else {}
    return url.render_as_string(hide_password=False), env


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} is not installed: install the PostgreSQL client tools of your server's "
            "version (Debian: postgresql-client), or follow the manual procedure in "
            "docs/OPERATIONS.md"
        )
    return found


def _run(args: list[str], engine: Engine) -> None:
    """A PostgreSQL client tool against `engine`'s database; its last error line on failure."""
    url, env = _libpq(engine)
    done = subprocess.run(
        [args[0], f"--dbname={url}", *args[1:]],
        env=os.environ | env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise BackupError(f"{Path(args[0]).name} failed: {detail[-1] if detail else 'no output'}")


@dataclass
class Manifest:
    database: str  # sqlite | postgresql
    revision: str | None
    master_key_fingerprint: str
    counts: dict[str, int]
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    includes_master_key: bool = False
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())
    format: str = FORMAT

    def to_json(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "created_at": self.created_at,
            "database": self.database,
            "revision": self.revision,
            "master_key_fingerprint": self.master_key_fingerprint,
            "includes_master_key": self.includes_master_key,
            "counts": self.counts,
            "files": self.files,
        }

    @classmethod
    def read(cls, directory: Path) -> Manifest:
        try:
            data = json.loads((directory / MANIFEST).read_text())
            if data.get("format") != FORMAT:
                raise RestoreRefused(f"{directory} is not a Skills Hub backup ({FORMAT})")
            return cls(
                database=data["database"],
                revision=data["revision"],
                master_key_fingerprint=data["master_key_fingerprint"],
                counts={k: int(v) for k, v in data["counts"].items()},
                files=data["files"],
                includes_master_key=bool(data.get("includes_master_key")),
                created_at=data["created_at"],
            )
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise RestoreRefused(f"{directory / MANIFEST} cannot be read: {exc}") from None


@dataclass
class BackupResult:
    directory: Path
    manifest: Manifest
    seconds: float

    @property
    def size(self) -> int:
        return sum(int(f["size"]) for f in self.manifest.files.values())


def _prepare_out(out: Path) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InvalidInput(f"{out} exists and is not an empty directory: choose a new one")
    private_dir(out)


def backup(
    engine: Engine,
    master_key: MasterKey,
    out: Path,
    *,
    master_key_text: str | None = None,
) -> BackupResult:
    """Write a snapshot of the database to `out` (new or empty). `master_key_text` given:
    the master key is written beside it (the caller warns)."""
    started = time.perf_counter()
    _prepare_out(out)
    backend = engine.url.get_backend_name()
    if backend == "sqlite":
        counts = _backup_sqlite(engine, out / SQLITE_FILE)
        files = [SQLITE_FILE]
    else:
        counts = _backup_postgres(engine, out / PG_FILE)
        files = [PG_FILE]
    manifest = Manifest(
        database=backend,
        revision=current_revision(engine),
        master_key_fingerprint=master_key.fingerprint.hex(),
        counts=counts,
    )
    if master_key_text is not None:
        fd = os.open(out / KEY_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(master_key_text.strip() + "\n")
        manifest.includes_master_key = True
        files.append(KEY_FILE)
    for name in files:
        path = out / name
        manifest.files[name] = {"size": path.stat().st_size, "sha256": _sha256(path)}
    partial = out / (MANIFEST + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(json.dumps(manifest.to_json(), indent=2) + "\n")
    partial.replace(out / MANIFEST)  # last: a directory without a manifest is no backup
    return BackupResult(out, manifest, time.perf_counter() - started)


def _backup_sqlite(engine: Engine, target: Path) -> dict[str, int]:
    source_path = engine.url.database
    if not source_path:
        raise BackupError("an in-memory SQLite database cannot be backed up")
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    # A connection of our own, not the engine's: the backup API needs the plain sqlite3 one.
    source = sqlite3.connect(source_path, timeout=30)
    destination = sqlite3.connect(target)
    try:
        source.backup(destination)  # all pages in one step: one consistent snapshot
        # One self-contained file (no -wal beside it); the app sets WAL again when it opens it.
        destination.execute("PRAGMA journal_mode=DELETE")
    finally:
        destination.close()
        source.close()
    copy = make_engine_for(target)
    try:
        with copy.connect() as conn:
            return _counts(conn)
    finally:
        copy.dispose()


def make_engine_for(path: Path) -> Engine:
    from sqlalchemy import create_engine

    return create_engine(f"sqlite:///{path}")


def _backup_postgres(engine: Engine, target: Path) -> dict[str, int]:
    pg_dump = _pg_tool("pg_dump")
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            counts = _counts(conn)
            # The transaction stays open while pg_dump reads the same snapshot.
            _run(
                [
                    pg_dump,
                    "--format=custom",
                    "--no-owner",
                    "--no-privileges",
                    f"--snapshot={snapshot}",
                    f"--file={target}",
                ],
                engine,
            )
    os.chmod(target, 0o600)
    return counts


# --- restore ---------------------------------------------------------------------------------


@dataclass
class RestoreResult:
    counts: dict[str, int]
    credentials_checked: int
    status_lists_checked: int
    problems: list[str]
    seconds: float

    @property
    def ok(self) -> bool:
        return not self.problems


def _check_files(directory: Path, manifest: Manifest) -> None:
    for name, facts in manifest.files.items():
        path = directory / name
        if not path.is_file():
            raise RestoreRefused(f"{name} is missing from the backup")
        if path.stat().st_size != int(facts["size"]) or _sha256(path) != facts["sha256"]:
            raise RestoreRefused(f"{name} does not match its checksum: the backup is damaged")


def _check_master_key(directory: Path, manifest: Manifest, master_key: MasterKey) -> None:
    if master_key.fingerprint.hex() != manifest.master_key_fingerprint:
        raise RestoreRefused(
            "the configured master key is not the one this backup's keys are sealed under "
            f"(backup: {manifest.master_key_fingerprint}, configured: "
            f"{master_key.fingerprint.hex()}); nothing was written"
        )
    if manifest.database == "sqlite":  # the sealed check value too, read from the file
        uri = f"file:{directory / SQLITE_FILE}?mode=ro&immutable=1"
        with closing(sqlite3.connect(uri, uri=True)) as conn:
            row = conn.execute("SELECT sealed FROM master_key_check WHERE id = 1").fetchone()
        try:
            if row is not None:
                master_key.unseal(bytes(row[0]), key_id=CHECK_KEY_ID)
        except SealingError:
            raise RestoreRefused(
                "the configured master key does not open this backup; nothing was written"
            ) from None


def is_empty(engine: Engine) -> bool:
    """No table at all: a new SQLite file or a new PostgreSQL database (not even migrated)."""
    with engine.connect() as conn:
        return not inspect(conn).get_table_names()


def restore(
    engine: Engine, master_key: MasterKey, directory: Path, context: VerificationContext
) -> RestoreResult:
    """Restore `directory` into the empty database of `engine`, then check it."""
    started = time.perf_counter()
    manifest = Manifest.read(directory)
    backend = engine.url.get_backend_name()
    if manifest.database != backend:
        raise RestoreRefused(
            f"this is a {manifest.database} backup; the target database is {backend} "
            "(docs/OPERATIONS.md: moving between databases)"
        )
    _check_files(directory, manifest)
    _check_master_key(directory, manifest, master_key)
    if not is_empty(engine):
        raise RestoreRefused(
            "the target database is not empty: restore into a new data directory or a new "
            "database (nothing was written)"
        )
    if backend == "sqlite":
        _load_sqlite(engine, directory / SQLITE_FILE)
    else:
        _load_postgres(engine, directory / PG_FILE)
    result = check_restored(engine, master_key, manifest, context)
    result.seconds = time.perf_counter() - started
    return result


def _load_sqlite(engine: Engine, source: Path) -> None:
    target = Path(engine.url.database or "")
    engine.dispose()  # no pooled connection may keep the empty file open
    partial = target.with_name(target.name + ".restoring")
    partial.unlink(missing_ok=True)  # what an interrupted restore left
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with source.open("rb") as reader, os.fdopen(fd, "wb") as writer:
        shutil.copyfileobj(reader, writer, 1 << 20)
        writer.flush()
        os.fsync(writer.fileno())
    for suffix in ("-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    partial.replace(target)  # atomic: the target is empty or whole, never half
    engine.dispose()


def _load_postgres(engine: Engine, source: Path) -> None:
    pg_restore = _pg_tool("pg_restore")
    # One transaction: interrupted or failing, it leaves the database as it was (empty).
    _run(
        [
            pg_restore,
            "--single-transaction",
            "--exit-on-error",
            "--no-owner",
            "--no-privileges",
            str(source),
        ],
        engine,
    )
    engine.dispose()


def check_restored(
    engine: Engine,
    master_key: MasterKey,
    manifest: Manifest,
    context: VerificationContext,
    *,
    sample: int = SAMPLE,
) -> RestoreResult:
    problems: list[str] = []
    with engine.connect() as conn:
        counts = _counts(conn)
    for table, expected in manifest.counts.items():
        if counts.get(table) != expected:
            problems.append(f"{table}: {counts.get(table)} rows, the backup had {expected}")
    with Session(engine) as session:
        if session.get(MasterKeyCheck, 1) is None and manifest.counts.get("master_key_check"):
            problems.append("the master key check value is missing")
        problems += [f"{u.what}: {u.reason}" for u in unopened(session, master_key)]
        bound = context.bound(session)
        checked = 0
        for record in _sample(session, sample):
            checked += 1
            failed = _proof_failure(bound, record.signed)
            if failed:
                problems.append(f"credential {record.uuid}: {failed}")
        lists = 0
        for status_list in session.exec(select(StatusList).order_by(col(StatusList.id))):
            lists += 1
            for form in (status_list.credential_ldp, status_list.credential_jwt):
                failed = _proof_failure(bound, form)
                if failed:
                    problems.append(f"status list {status_list.id}: {failed}")
    return RestoreResult(counts, checked, lists, problems, 0.0)


def _sample(session: Session, size: int) -> Iterator[IssuedCredential]:
    # An erased credential (its learner left) keeps no signed text to check.
    ids = list(
        session.exec(select(IssuedCredential.id).where(col(IssuedCredential.erased_at).is_(None)))
    )
    chosen = ids if len(ids) <= size else random.sample(ids, size)
    for credential_id in sorted(i for i in chosen if i is not None):
        record = session.get(IssuedCredential, credential_id)
        if record is not None:
            yield record


def _proof_failure(context: VerificationContext, signed: str) -> str | None:
    """None when the document's proof checks out against the restored keys."""
    report = verify(context, signed)
    proof = [c for c in report.checks if c.id == "proof"]
    if proof and all(c.status is Status.OK for c in proof):
        return None
    said = "; ".join(f"{c.id}: {c.message}" for c in (proof or report.checks)[:3])
    return f"the proof does not verify ({said})"
