"""Owner-only files: the data directory, the SQLite database and its WAL files, the master key,
and the e-mail outbox (its messages hold live claim links)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from badges.mail import FileMailer
from keys.store import init_master_key
from skillshub.cli import app as cli
from skillshub.db import make_engine
from skillshub.settings import Settings
from skillshub.web.app import prepare


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    # The common 022 would leave new files world-readable: what the code must not rely on.
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_sqlite_database_and_its_wal_files_are_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "data" / "skillshub.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.connect() as conn:  # -wal and -shm exist while a connection is open
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
        conn.commit()
        files = [path, path.with_name("skillshub.db-wal"), path.with_name("skillshub.db-shm")]
        assert {p.name: mode(p) for p in files} == {p.name: 0o600 for p in files}
    engine.dispose()
    assert mode(path.parent) == 0o700


def test_an_existing_database_file_is_left_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "kept.db"
    path.touch(mode=0o640)
    make_engine(f"sqlite:///{path}").dispose()
    assert mode(path) == 0o640


def test_the_app_creates_the_data_directory_owner_only(settings: Settings, engine: Engine) -> None:
    assert not settings.data_dir.exists()
    prepare(settings, engine)
    assert mode(settings.data_dir) == 0o700


def test_init_creates_an_owner_only_data_directory_and_master_key(tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = CliRunner().invoke(cli, ["init"], env={"SKILLSHUB_DATA_DIR": str(data)})
    assert result.exit_code == 0, result.output
    assert mode(data) == 0o700
    assert mode(data / "master.key") == 0o600
    assert mode(data / "skillshub.db") == 0o600


def test_master_key_file_alone(tmp_path: Path) -> None:
    path = tmp_path / "fresh" / "master.key"
    assert init_master_key(None, path)
    assert (mode(path.parent), mode(path)) == (0o700, 0o600)


def test_outbox_and_messages_are_owner_only(tmp_path: Path) -> None:
    outbox = tmp_path / "data" / "outbox"
    message = EmailMessage()
    message["To"] = "ada@example.org"
    message["Subject"] = "Your badge"
    message.set_content("Claim it: https://hub.example/credentials/x/claim?token=secret")
    FileMailer(outbox).send(message)
    (sent,) = outbox.iterdir()
    assert sent.suffix == ".eml"
    assert (mode(outbox.parent), mode(outbox), mode(sent)) == (0o700, 0o700, 0o600)
