"""`skillshub token create --expires-days`, `token list` and `token revoke` (both databases)."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from keys.sealing import generate_master_key
from skillshub.cli import app

runner = CliRunner()


def _env(tmp_path: Path, db_url: str) -> dict[str, str]:
    return {
        "SKILLSHUB_DATA_DIR": str(tmp_path / "data"),
        "SKILLSHUB_DATABASE_URL": db_url,
        "SKILLSHUB_MASTER_KEY": generate_master_key(),
    }


def _create(env: dict[str, str], *args: str) -> str:
    result = runner.invoke(app, ["token", "create", "--org", "volt", *args], env=env)
    assert result.exit_code == 0, result.output
    return result.stdout.strip().splitlines()[-1]


def test_list_and_revoke(tmp_path: Path, db_url: str, client: TestClient) -> None:
    env = _env(tmp_path, db_url)
    assert runner.invoke(app, ["org", "create", "Volt", "--country", "DE"], env=env).exit_code == 0
    empty = runner.invoke(app, ["token", "list", "--org", "volt"], env=env)
    assert empty.exit_code == 0 and "no API tokens" in empty.output
    ci = _create(env, "--name", "ci", "--expires-days", "30")
    laptop = _create(env, "--name", "laptop")
    used = client.get("/api/v1/organisations/me", headers={"authorization": f"Bearer {ci}"})
    assert used.status_code == 200

    listed = runner.invoke(app, ["token", "list", "--org", "volt", "--json"], env=env)
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.stdout)
    assert [(r["name"], r["state"], r["revoked_at"]) for r in rows] == [
        ("ci", "active", None),
        ("laptop", "active", None),
    ]
    assert rows[0]["expires_at"] and rows[1]["expires_at"] is None
    assert rows[0]["last_used_at"] and rows[1]["last_used_at"] is None
    text = runner.invoke(app, ["token", "list", "--org", "volt"], env=env).output
    for output in (listed.output, text):
        for secret in (ci, laptop):
            assert secret not in output and secret[len("shub_") + 6 :] not in output
    assert "expires never" in text and "last used never" in text

    revoked = runner.invoke(app, ["token", "revoke", str(rows[1]["id"])], env=env)
    assert revoked.exit_code == 0, revoked.output
    assert f"token {rows[1]['id']}" in revoked.output and "revoked on" in revoked.output
    again = runner.invoke(app, ["token", "revoke", str(rows[1]["id"])], env=env)
    assert again.exit_code == 0 and again.output == revoked.output  # the first time stays
    refused = client.get("/api/v1/organisations/me", headers={"authorization": f"Bearer {laptop}"})
    assert refused.status_code == 401 and "revoked" in refused.json()["error"]["message"]
    after = json.loads(
        runner.invoke(app, ["token", "list", "--org", "volt", "--json"], env=env).stdout
    )
    assert [r["state"] for r in after] == ["active", "revoked"] and after[1]["revoked_at"]
    assert "revoked" in runner.invoke(app, ["token", "list", "--org", "volt"], env=env).output


def test_clear_errors(tmp_path: Path, db_url: str) -> None:
    env = _env(tmp_path, db_url)
    unknown = runner.invoke(app, ["token", "revoke", "999"], env=env)
    assert unknown.exit_code == 1
    assert "error: token 999 does not exist" in unknown.output
    assert "Traceback" not in unknown.output
    no_org = runner.invoke(app, ["token", "list", "--org", "nope"], env=env)
    assert no_org.exit_code == 1 and "does not exist" in no_org.output
    assert runner.invoke(app, ["org", "create", "Volt", "--country", "DE"], env=env).exit_code == 0
    for days in ("0", "-3", "99999"):
        bad = runner.invoke(
            app, ["token", "create", "--org", "volt", "--expires-days", days], env=env
        )
        assert bad.exit_code == 2, bad.output
    assert runner.invoke(app, ["token", "revoke", "abc"], env=env).exit_code == 2
