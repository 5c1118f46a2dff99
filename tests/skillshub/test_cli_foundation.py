"""`skillshub init`, `org create`, `token create` and the clear failures of a bad set-up."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from keys.sealing import generate_master_key
from skillshub.cli import app

runner = CliRunner()


def _env(tmp_path: Path, db_url: str | None = None, **extra: str) -> dict[str, str]:
    env = {"SKILLSHUB_DATA_DIR": str(tmp_path / "data"), "SKILLSHUB_MASTER_KEY": ""}
    if db_url:
        env["SKILLSHUB_DATABASE_URL"] = db_url
    return env | extra


def test_init_creates_master_key_once(tmp_path: Path, db_url: str) -> None:
    env = _env(tmp_path, db_url)
    env.pop("SKILLSHUB_MASTER_KEY")
    first = runner.invoke(app, ["init"], env=env)
    assert first.exit_code == 0, first.output
    key_file = tmp_path / "data" / "master.key"
    key = key_file.read_text()
    assert (key_file.stat().st_mode & 0o777) == 0o600
    second = runner.invoke(app, ["init"], env=env)
    assert second.exit_code == 0
    assert key_file.read_text() == key  # never overwritten


def test_wrong_master_key_fails_and_changes_nothing(tmp_path: Path, db_url: str) -> None:
    env = _env(tmp_path, db_url, SKILLSHUB_MASTER_KEY=generate_master_key())
    assert runner.invoke(app, ["init"], env=env).exit_code == 0
    wrong = env | {"SKILLSHUB_MASTER_KEY": generate_master_key()}
    result = runner.invoke(app, ["init"], env=wrong)
    assert result.exit_code == 1
    assert "master key does not match" in result.output
    assert not (tmp_path / "data" / "master.key").exists()


def test_malformed_master_key_is_refused(tmp_path: Path, db_url: str) -> None:
    result = runner.invoke(app, ["init"], env=_env(tmp_path, db_url, SKILLSHUB_MASTER_KEY="short"))
    assert result.exit_code == 1
    assert "master key" in result.output.lower()
    assert "short" not in result.output


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://root@127.0.0.1/x", "not supported"),
        ("not a url", "not a valid database URL"),
        ("postgresql+psycopg://nobody@127.0.0.1:1/none", "cannot connect"),
    ],
)
def test_bad_database_url_is_a_clear_error(tmp_path: Path, url: str, message: str) -> None:
    result = runner.invoke(app, ["org", "list"], env=_env(tmp_path, url))
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_bad_setting_is_exit_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["org", "list"], env=_env(tmp_path, SKILLSHUB_BASE_URL="ftp://x"))
    assert result.exit_code == 2
    assert "SKILLSHUB_BASE_URL" in result.output


def test_org_and_token_create(tmp_path: Path, db_url: str) -> None:
    env = _env(tmp_path, db_url, SKILLSHUB_MASTER_KEY=generate_master_key())
    created = runner.invoke(app, ["org", "create", "Volt Academy", "--country", "de"], env=env)
    assert created.exit_code == 0, created.output
    duplicate = runner.invoke(app, ["org", "create", "Volt Academy", "--country", "DE"], env=env)
    assert duplicate.exit_code == 1 and "already exists" in duplicate.output
    token = runner.invoke(app, ["token", "create", "--org", "volt-academy"], env=env)
    assert token.exit_code == 0
    assert token.stdout.strip().splitlines()[-1].startswith("shub_")
    missing = runner.invoke(app, ["token", "create", "--org", "nope"], env=env)
    assert missing.exit_code == 1 and "does not exist" in missing.output


def test_help_reads_well() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("init", "serve", "demo", "issue", "revoke"):
        assert command in result.output


def test_verify_that_cannot_check_exits_2_not_invalid(tmp_path: Path, db_url: str) -> None:
    badge = tmp_path / "badge.json"
    badge.write_text("{}")
    env = _env(tmp_path, db_url, SKILLSHUB_PINNED_DOCUMENTS=str(tmp_path / "missing.json"))
    result = runner.invoke(app, ["verify", str(badge)], env=env)
    assert result.exit_code == 2
    assert "SKILLSHUB_PINNED_DOCUMENTS" in " ".join(result.output.split())
    missing = runner.invoke(app, ["verify", str(tmp_path / "nowhere.json")], env=_env(tmp_path))
    assert missing.exit_code == 2
