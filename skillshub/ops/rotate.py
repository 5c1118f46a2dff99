"""`skillshub master-key rotate`: every sealed value re-sealed under a new master key at once.

Order, so that no moment loses a key:

1. the new key is written to `DATA_DIR/master.key.new` (0600) before anything changes;
2. one transaction opens every sealed value (`skillshub.ops.sealed.SEALED`: issuer keys, e-seal
   keys, second-factor secrets, the check value) with the old key and seals it with the new
   one; on PostgreSQL the sealed tables are locked against writers for its length;
3. after the commit, the key file is switched: `master.key` → `master.key.previous`,
   `master.key.new` → `master.key`.

Interrupted before the commit, the database is untouched and the old key works (the stray
`.new` file is replaced by the next run). Interrupted between the commit and the switch, the
database is under the new key: running the command again finds `master.key.new` opens it and
finishes the switch. With SKILLSHUB_MASTER_KEY set (no key file), step 3 is the operator's:
the command prints where the new key is.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from catalogue.errors import DomainError
from keys.models import MasterKeyCheck
from keys.sealing import MasterKey, SealingError, generate_master_key
from keys.store import open_master_key
from skillshub.db import session_scope
from skillshub.ops.sealed import SEALED, sealed_rows

NEW_SUFFIX = ".new"
CHECK_KEY_ID = "master-key-check"
PREVIOUS_SUFFIX = ".previous"


class RotationError(DomainError):
    code = "master_key_rotation_error"


@dataclass
class Rotation:
    resealed: dict[str, int]
    new_key_path: Path
    switched: bool  # the key file now holds the new key
    finished_earlier_run: bool = False


def _write_new_key(path: Path) -> str:
    key = generate_master_key()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # the data directory
    path.unlink(missing_ok=True)  # a run interrupted before its commit left it: unused
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return key


def opens_database(engine: Engine, key_text: str | None) -> bool:
    """Whether the key opens the database's check value (writes nothing); a database without
    one (never started) has nothing the key could fail to open."""
    try:
        key = MasterKey(key_text)
        with Session(engine) as session:
            check = session.get(MasterKeyCheck, 1)
            if check is None:
                return True
            key.unseal(check.sealed, key_id=CHECK_KEY_ID)
        return True
    except SealingError:
        return False


def reseal(session: Session, old: MasterKey, new: MasterKey) -> dict[str, int]:
    """Re-seal every sealed value in the session's transaction; the caller commits."""
    if session.get_bind().dialect.name == "postgresql":
        tables = ", ".join(f'"{entry.model.__tablename__}"' for entry in SEALED)
        session.execute(text(f"LOCK TABLE {tables} IN SHARE ROW EXCLUSIVE MODE"))
    counts: dict[str, int] = {}
    for entry in SEALED:
        n = 0
        for row in list(sealed_rows(session, entry)):
            key_id = entry.key_id(row)
            try:
                plain = old.unseal(getattr(row, entry.column), key_id=key_id)
            except SealingError as exc:
                raise RotationError(
                    f"{entry.name} #{row.id} does not open with the current master key ({exc}); "
                    "nothing was changed"
                ) from None
            setattr(row, entry.column, new.seal(plain, key_id=key_id))
            session.add(row)
            n += 1
        session.flush()
        counts[entry.name] = n
    return counts


def rotate_master_key(
    engine: Engine, old_text: str | None, key_file: Path, *, key_in_file: bool
) -> Rotation:
    """Rotate from `old_text` (the configured key). `key_file` is DATA_DIR/master.key;
    `key_in_file`: the key is configured by that file (not SKILLSHUB_MASTER_KEY)."""
    new_path = key_file.with_name(key_file.name + NEW_SUFFIX)
    # An earlier run committed the new key and stopped before switching the key file.
    committed = not opens_database(engine, old_text) and new_path.is_file()
    if committed and opens_database(engine, new_path.read_text().strip()):
        switched = _switch(key_file, new_path, configured_by_file=key_in_file)
        return Rotation({}, new_path, switched, finished_earlier_run=True)
    old = open_master_key(old_text)
    if not opens_database(engine, old_text):
        raise RotationError(
            "the configured master key does not match this database; nothing was changed"
        )
    new = MasterKey(_write_new_key(new_path))
    with session_scope(engine) as session:
        counts = reseal(session, old, new)
    switched = _switch(key_file, new_path, configured_by_file=key_in_file)
    return Rotation(counts, new_path, switched)


def _switch(key_file: Path, new_path: Path, *, configured_by_file: bool) -> bool:
    if not configured_by_file:
        return False  # SKILLSHUB_MASTER_KEY: the operator puts the new key there
    if key_file.is_file():
        os.replace(key_file, key_file.with_name(key_file.name + PREVIOUS_SUFFIX))
    os.replace(new_path, key_file)
    return True
