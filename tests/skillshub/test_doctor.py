"""`skillshub doctor` (issue 19): findings in order of harm; exit 1 on an error."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from badges.models import BulkJob
from catalogue.base import pk
from keys import eseal
from keys.eseal_models import SealCertificate
from skillshub.cli import app
from skillshub.db import make_engine
from skillshub.ops.doctor import Level, diagnose
from skillshub.settings import Settings
from tests.support.world import make_world

ORDER = [
    "base url",
    "e-mail",
    "e-seal",
    "seal trust anchors",
    "time-stamping",
    "master key file",
    "database file",
    "file modes",
    "migrations",
    "jobs",
]


def _topics(findings: list) -> list[str]:
    return [f.topic for f in findings]


def test_a_local_trial_has_warnings_only(settings: Settings, engine: Engine) -> None:
    local = settings.model_copy(update={"base_url": "http://127.0.0.1:8000"})
    if engine.url.database:  # the test's copy of the template: owner-only as `init` makes it
        for path in (Path(engine.url.database), Path(f"{engine.url.database}-wal")):
            if path.exists():
                path.chmod(0o600)
    findings = diagnose(local, engine)
    assert not [f for f in findings if f.level is Level.ERROR]
    warned = {f.topic for f in findings if f.level is Level.WARNING}
    assert {"base url", "e-mail", "seal trust anchors", "time-stamping"} <= warned
    topics = _topics(findings)
    assert topics == sorted(topics, key=ORDER.index)


def test_errors_come_in_order_of_harm_and_fail_the_command(
    tmp_path: Path, db_url: str, session: Session, master_key: str
) -> None:
    world = make_world(session, master_key)
    eseal.ensure_demo_seals(session, world.master_key)
    now = datetime.now(UTC)
    seal = session.exec(select(SealCertificate)).first()
    assert seal is not None
    seal.not_after = now + timedelta(days=10)
    session.add(seal)
    session.add(
        BulkJob(
            uuid=str(uuid.uuid4()),
            issuer_id=pk(world.issuer),
            micro_credential_id=pk(world.mc),
            format="ldp",
            status="running",
            created_at=now - timedelta(hours=3),
        )
    )
    session.commit()
    data = tmp_path / "data"
    data.mkdir()
    (data / "master.key").write_text(master_key + "\n")
    (data / "master.key").chmod(0o644)
    env = {
        "SKILLSHUB_DATA_DIR": str(data),
        "SKILLSHUB_DATABASE_URL": db_url,
        "SKILLSHUB_BASE_URL": "http://badges.example.org",
    }
    ran = CliRunner().invoke(app, ["doctor"], env=env)
    assert ran.exit_code == 1, ran.output
    lines = [line for line in ran.output.splitlines() if line[:1] in ("E", "W", "o")]
    assert lines[0].startswith("ERROR") and "did:key issuers instead of did:web" in lines[0]
    assert any("expires in 9 days" in line or "expires in 10 days" in line for line in lines)
    assert any(line.startswith("ERROR") and "chmod 600" in line for line in lines)
    assert any(line.startswith("WARNING") and "over an hour" in line for line in lines)
    topics = [line.split(":")[0].split(None, 1)[1] for line in lines]
    assert topics == sorted(topics, key=ORDER.index)


def test_expired_seals_and_pending_migrations_are_errors(
    settings: Settings, session: Session, engine: Engine, master_key: str, tmp_path: Path
) -> None:
    world = make_world(session, master_key)
    eseal.ensure_demo_seals(session, world.master_key)
    seal = session.exec(select(SealCertificate)).first()
    assert seal is not None
    seal.not_after = datetime.now(UTC) - timedelta(days=1)
    session.add(seal)
    session.commit()
    errors = [f for f in diagnose(settings, engine) if f.level is Level.ERROR]
    assert any(f.topic == "e-seal" and "expired" in f.message for f in errors)
    blank = make_engine(f"sqlite:///{tmp_path / 'blank.db'}")
    pending = [f for f in diagnose(settings, blank) if f.topic == "migrations"]
    assert pending[0].level is Level.ERROR and "pending" in pending[0].message
