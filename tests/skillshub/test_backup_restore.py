"""`skillshub backup` / `restore` (issue 19): a round trip on both databases, the refusals
before anything is written, an interrupted restore, and a backup under a load of parallel
issues and revocations that restores to a database where everything still verifies."""

from __future__ import annotations

import json
import shutil
import stat
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from badges import issuing
from badges.models import IssuedCredential
from badges.report import Verdict
from badges.status.lists import change_status
from badges.verifying import verify
from keys.sealing import MasterKey, generate_master_key
from keys.store import ensure_master_key
from skillshub.cli import app
from skillshub.db import make_engine
from skillshub.devsupport import create_postgres_database, drop_postgres_database
from skillshub.ops import backup as ops_backup
from skillshub.ops.backup import BackupError, RestoreRefused, backup, is_empty, restore
from skillshub.settings import Settings
from skillshub.verifier import verification_context
from skillshub.web.app import create_app
from tests.skillshub.test_observability import _LiveServer
from tests.support.present import present
from tests.support.world import World, make_world


@pytest.fixture
def world(session: Session, master_key: str) -> World:
    return make_world(session, master_key)


@pytest.fixture
def target(db_url: str, tmp_path: Path) -> Iterator[Engine]:
    """An empty database of the same kind as the source: nothing in it, not even migrated."""
    if db_url.startswith("sqlite"):
        engine = make_engine(f"sqlite:///{tmp_path / 'restored' / 'skillshub.db'}")
        yield engine
        engine.dispose()
        return
    name = f"skillshub_restore_{uuid.uuid4().hex[:8]}"
    engine = make_engine(create_postgres_database(name))
    yield engine
    engine.dispose()
    drop_postgres_database(name)


def _issue_some(session: Session, world: World, n: int = 6) -> list[IssuedCredential]:
    records = []
    for i in range(n):
        records.append(
            issuing.issue(
                session,
                world.master_key,
                issuer=world.issuer,
                micro_credential=world.mc,
                recipient=issuing.Recipient(name=f"Learner {i}", email=f"l{i}@example.org"),
                base_url="http://testserver",
                fmt="jwt" if i % 3 == 2 else "ldp",
                status_purposes=("revocation", "suspension"),
            )
        )
        session.commit()
    for record, action in ((records[0], "revoke"), (records[1], "suspend")):
        change_status(
            session,
            world.master_key,
            credential_uuid=record.uuid,
            action=action,
            organisation_id=None,
            actor="test",
            base_url="http://testserver",
        )
        session.commit()
    return records


def _verdicts(engine: Engine, settings: Settings) -> dict[str, tuple[Verdict, str]]:
    """Every credential of the database verified there: its verdict and status check."""
    found = {}
    with Session(engine) as session:
        context = verification_context(settings).bound(session)
        for record in session.exec(select(IssuedCredential)):
            report = verify(context, record.signed)
            status = next((c.message for c in report.checks if c.id == "status"), "")
            found[record.uuid] = (report.verdict, status)
    return found


def _states(engine: Engine) -> dict[str, tuple[bool, bool]]:
    with Session(engine) as session:
        return {
            r.uuid: (r.revoked_at is not None, r.suspended)
            for r in session.exec(select(IssuedCredential))
        }


def test_round_trip_keeps_every_credential_and_status(
    engine: Engine,
    session: Session,
    world: World,
    target: Engine,
    settings: Settings,
    tmp_path: Path,
) -> None:
    records = _issue_some(session, world)
    out = tmp_path / "backup"
    taken = backup(engine, world.master_key, out)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["counts"]["issued_credential"] == 6
    assert manifest["includes_master_key"] is False and not (out / "master.key").exists()
    for name, facts in manifest["files"].items():
        assert (out / name).stat().st_size == facts["size"] == taken.size
        assert stat.S_IMODE((out / name).stat().st_mode) == 0o600
    assert present(settings.master_key) not in (out / "manifest.json").read_text()

    result = restore(target, world.master_key, out, verification_context(settings))
    assert result.ok, result.problems
    assert result.credentials_checked == 6 and result.status_lists_checked >= 2
    assert result.counts == manifest["counts"]

    before, after = _verdicts(engine, settings), _verdicts(target, settings)
    assert before == after and _states(engine) == _states(target)
    revoked, suspended = records[0].uuid, records[1].uuid
    assert after[revoked][0] is Verdict.INVALID and "revoked" in after[revoked][1]
    assert after[suspended][0] is Verdict.INVALID and "suspended" in after[suspended][1]
    assert sum(v is Verdict.VALID for v, _ in after.values()) == 4


def test_restore_refuses_a_wrong_master_key_a_full_target_or_a_damaged_file(
    engine: Engine,
    session: Session,
    world: World,
    target: Engine,
    settings: Settings,
    tmp_path: Path,
) -> None:
    _issue_some(session, world, 3)
    out = tmp_path / "backup"
    backup(engine, world.master_key, out)
    context = verification_context(settings)
    with pytest.raises(RestoreRefused, match="not the one this backup"):
        restore(target, MasterKey(generate_master_key()), out, context)
    assert is_empty(target)
    with pytest.raises(RestoreRefused, match="not empty"):
        restore(engine, world.master_key, out, context)  # the source itself: full
    damaged = tmp_path / "damaged"
    shutil.copytree(out, damaged)
    [dump] = [p for p in damaged.iterdir() if p.name != "manifest.json"]
    with dump.open("r+b") as handle:
        handle.seek(dump.stat().st_size // 2)
        handle.write(b"\0garbage\0")
    with pytest.raises(RestoreRefused, match="checksum"):
        restore(target, world.master_key, damaged, context)
    assert is_empty(target)
    with pytest.raises(Exception, match="exists and is not an empty directory"):
        backup(engine, world.master_key, out)  # never over an earlier backup


def test_an_interrupted_restore_leaves_the_target_empty_and_a_retry_works(
    engine: Engine,
    session: Session,
    world: World,
    target: Engine,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _issue_some(session, world, 3)
    out = tmp_path / "backup"
    backup(engine, world.master_key, out)
    context = verification_context(settings)
    if engine.url.get_backend_name() == "sqlite":

        def cut(reader: Any, writer: Any, length: int = 0) -> None:
            writer.write(reader.read(4096))
            raise KeyboardInterrupt  # the process killed mid-copy

        monkeypatch.setattr(ops_backup.shutil, "copyfileobj", cut)
        with pytest.raises(KeyboardInterrupt):
            restore(target, world.master_key, out, context)
    else:
        # pg_restore dies half-way through its input (a truncated dump past the checks).
        real = ops_backup._load_postgres

        def cut_load(engine_: Engine, source: Path) -> None:
            half = tmp_path / "half.pgdump"
            half.write_bytes(source.read_bytes()[: source.stat().st_size // 2])
            real(engine_, half)

        monkeypatch.setattr(ops_backup, "_load_postgres", cut_load)
        with pytest.raises(BackupError, match="pg_restore failed"):
            restore(target, world.master_key, out, context)
    monkeypatch.undo()
    assert is_empty(target)
    result = restore(target, world.master_key, out, context)
    assert result.ok, result.problems
    assert _states(target) == _states(engine)


def test_cli_backup_includes_the_master_key_only_when_asked(
    db_url: str, tmp_path: Path, engine: Engine, session: Session, world: World, master_key: str
) -> None:
    ensure_master_key(session, master_key)  # as `skillshub init` records it
    session.commit()
    env = {
        "SKILLSHUB_DATA_DIR": str(tmp_path / "data"),
        "SKILLSHUB_DATABASE_URL": db_url,
        "SKILLSHUB_MASTER_KEY": master_key,
    }
    plain = CliRunner().invoke(app, ["backup", "--out", str(tmp_path / "a")], env=env)
    assert plain.exit_code == 0, plain.output
    assert (
        "master key not included" in plain.output and not (tmp_path / "a" / "master.key").exists()
    )
    keyed = CliRunner().invoke(
        app, ["backup", "--out", str(tmp_path / "b"), "--include-master-key"], env=env
    )
    assert keyed.exit_code == 0, keyed.output
    assert "anyone who reads it can sign" in keyed.output
    key_file = tmp_path / "b" / "master.key"
    assert key_file.read_text().strip() == master_key
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    wrong = env | {"SKILLSHUB_MASTER_KEY": generate_master_key()}
    refused = CliRunner().invoke(app, ["backup", "--out", str(tmp_path / "c")], env=wrong)
    assert refused.exit_code == 1 and "does not match" in refused.output


@pytest.mark.slow
def test_a_backup_under_parallel_issues_and_revocations_restores_whole(
    engine: Engine,
    session: Session,
    world: World,
    target: Engine,
    settings: Settings,
    tmp_path: Path,
) -> None:
    """A live server; four threads issue and revoke through the API while the backup runs.
    In the restored database every credential verifies (valid, or invalid because revoked),
    and every revocation answered before the backup started is in force."""
    application = create_app(
        settings.model_copy(update={"rate_limit_enabled": False}), engine=engine
    )
    stop = threading.Event()
    revoked_before: set[str] = set()
    backup_started = threading.Event()
    errors: list[str] = []

    def worker(base: str, n: int) -> None:
        auth = {"authorization": f"Bearer {world.token}"}
        with httpx.Client(base_url=base, headers=auth, timeout=60) as http:
            i = 0
            while not stop.is_set():
                i += 1
                answer = http.post(
                    f"/api/v1/issuers/{world.issuer.slug}/credentials",
                    json={
                        "micro_credential": world.mc.slug,
                        "name": f"L {n}-{i}",
                        "email": f"l{n}-{i}@example.org",
                    },
                )
                if answer.status_code != 201:
                    errors.append(answer.text)
                    continue
                if i % 2 == 0:
                    uuid_ = answer.json()["id"]
                    revoked = http.post(f"/api/v1/credentials/{uuid_}/revoke")
                    if revoked.status_code != 200:
                        errors.append(revoked.text)
                    elif not backup_started.is_set():  # answered before the backup began
                        revoked_before.add(uuid_)

    with _LiveServer(application) as base:
        threads = [threading.Thread(target=worker, args=(base, n)) for n in range(4)]
        for thread in threads:
            thread.start()
        while len(revoked_before) < 8 and not errors:
            threading.Event().wait(0.1)
        backup_started.set()
        taken = backup(engine, world.master_key, tmp_path / "backup")
        threading.Event().wait(1.0)  # the load goes on after the snapshot
        stop.set()
        for thread in threads:
            thread.join()
    assert not errors, errors[:3]
    total = taken.manifest.counts["issued_credential"]
    print(f"\nbackup under load: {total} credentials, {taken.size} bytes, {taken.seconds:.2f} s")

    result = restore(target, world.master_key, tmp_path / "backup", verification_context(settings))
    assert result.ok, result.problems[:5]
    verdicts, states = _verdicts(target, settings), _states(target)
    assert len(verdicts) == total and _states(engine).keys() >= states.keys()
    for credential_id, (verdict, status) in verdicts.items():
        revoked, _ = states[credential_id]
        if revoked:
            assert verdict is Verdict.INVALID and "revoked" in status, credential_id
        else:
            assert verdict is Verdict.VALID, (credential_id, status)
    assert revoked_before and all(states[u][0] for u in revoked_before)
    print(f"restore: {result.seconds:.2f} s, {result.credentials_checked} credentials checked")


def test_is_empty_sees_a_new_database(target: Engine) -> None:
    assert is_empty(target)


def test_cli_restore_into_a_new_data_directory_with_the_backups_key(
    engine: Engine,
    session: Session,
    world: World,
    target: Engine,
    tmp_path: Path,
    master_key: str,
) -> None:
    ensure_master_key(session, master_key)
    session.commit()
    _issue_some(session, world, 3)
    backup(engine, world.master_key, tmp_path / "b", master_key_text=master_key)
    fresh = tmp_path / "fresh"
    env = {
        "SKILLSHUB_DATA_DIR": str(fresh),
        "SKILLSHUB_DATABASE_URL": target.url.render_as_string(hide_password=False),
        "SKILLSHUB_BASE_URL": "http://testserver",
    }
    done = CliRunner().invoke(app, ["restore", str(tmp_path / "b")], env=env)
    assert done.exit_code == 0, done.output
    assert "checked 3 credential(s)" in done.output and "restore checked" in done.output
    assert (fresh / "master.key").read_text().strip() == master_key
    again = CliRunner().invoke(app, ["restore", str(tmp_path / "b")], env=env)
    assert again.exit_code == 1 and "not empty" in again.output
    assert _states(target) == _states(engine)
