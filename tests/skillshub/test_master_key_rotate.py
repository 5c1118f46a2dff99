"""`skillshub master-key rotate` (issue 19): every sealed value re-sealed in one transaction; an
interruption leaves the old key working; an interrupted switch is finished by a rerun."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select
from typer.testing import CliRunner

from accounts.models import User
from badges import issuing
from keys import eseal
from keys.models import IssuerKey
from keys.sealing import MasterKey
from keys.store import ensure_master_key
from skillshub.cli import app
from skillshub.models import metadata
from skillshub.ops import rotate as ops_rotate
from skillshub.ops.rotate import RotationError, reseal
from skillshub.ops.sealed import SEALED, unopened
from tests.support.world import World, make_world


@pytest.fixture
def world(session: Session, master_key: str) -> World:
    built = make_world(session, master_key)
    ensure_master_key(session, master_key)
    eseal.ensure_demo_seals(session, built.master_key)
    # A second factor's secret, sealed as the accounts package seals it.
    user = User(email="owner@voltacademy.example")
    session.add(user)
    session.flush()
    user.totp_secret = built.master_key.seal(b"JBSWY3DPEHPK3PXP", key_id=f"totp:{user.id}")
    session.commit()
    return built


def _env(tmp_path: Path, db_url: str) -> dict[str, str]:
    return {"SKILLSHUB_DATA_DIR": str(tmp_path / "data"), "SKILLSHUB_DATABASE_URL": db_url}


def _key_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "data" / "master.key"
    path.parent.mkdir(mode=0o700, exist_ok=True)
    path.write_text(text + "\n")
    path.chmod(0o600)
    return path


def _sign_with(engine: Engine, world: World, key: MasterKey) -> None:
    with Session(engine) as session:
        issuer = session.merge(world.issuer)
        issuing.issue(
            session,
            key,
            issuer=issuer,
            micro_credential=session.merge(world.mc),
            recipient=issuing.Recipient(name="Ada", email="ada@example.org"),
            base_url="http://testserver",
        )
        session.commit()


def test_every_sealed_column_is_in_the_rotation_list() -> None:
    listed = {(e.model.__tablename__, e.column) for e in SEALED}
    sealed = {
        (table.name, column.name)
        for table in metadata.sorted_tables
        for column in table.columns
        if column.name.startswith("sealed") or column.name.endswith("_secret")
    }
    assert sealed <= listed, f"sealed columns rotation would miss: {sealed - listed}"
    assert all(issubclass(e.model, SQLModel) for e in SEALED)


def test_rotate_reseals_everything_and_switches_the_key_file(
    tmp_path: Path, db_url: str, engine: Engine, world: World, master_key: str
) -> None:
    key_file = _key_file(tmp_path, master_key)
    done = CliRunner().invoke(app, ["master-key", "rotate"], env=_env(tmp_path, db_url))
    assert done.exit_code == 0, done.output
    with Session(engine) as session:
        keys = len(session.exec(select(IssuerKey)).all())
    assert f"{keys} issuer_key.sealed_private_key" in done.output
    assert "1 seal_certificate.sealed_private_key" in done.output
    assert "1 console_user.totp_secret" in done.output
    new_text = key_file.read_text().strip()
    assert new_text != master_key and stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert (key_file.parent / "master.key.previous").read_text().strip() == master_key
    assert not (key_file.parent / "master.key.new").exists()
    new, old = MasterKey(new_text), MasterKey(master_key)
    with Session(engine) as session:
        assert unopened(session, new) == []
        # the check value, the issuer's keys, the e-seal, the second factor
        assert len(unopened(session, old)) == 3 + keys
    _sign_with(engine, world, new)  # the issuer still signs, with the same key pair


def test_an_interrupted_rotation_leaves_the_old_key_working(
    tmp_path: Path,
    db_url: str,
    engine: Engine,
    world: World,
    master_key: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key_file = _key_file(tmp_path, master_key)
    real = ops_rotate.reseal

    def dies_half_way(session: Session, old: MasterKey, new: MasterKey) -> dict[str, int]:
        monkeypatch.setattr(ops_rotate, "SEALED", SEALED[:2])
        real(session, old, new)  # the check value and the issuer keys are re-sealed …
        raise KeyboardInterrupt  # … and the process dies before the commit

    monkeypatch.setattr(ops_rotate, "reseal", dies_half_way)
    with pytest.raises(KeyboardInterrupt):
        ops_rotate.rotate_master_key(engine, master_key, key_file, key_in_file=True)
    monkeypatch.undo()
    assert key_file.read_text().strip() == master_key
    with Session(engine) as session:
        assert unopened(session, MasterKey(master_key)) == []
    _sign_with(engine, world, MasterKey(master_key))
    # A later run starts afresh (the stray .new file replaced) and completes.
    done = CliRunner().invoke(app, ["master-key", "rotate"], env=_env(tmp_path, db_url))
    assert done.exit_code == 0, done.output
    with Session(engine) as session:
        assert unopened(session, MasterKey(key_file.read_text().strip())) == []


def test_a_rerun_finishes_a_rotation_interrupted_after_its_commit(
    tmp_path: Path,
    db_url: str,
    engine: Engine,
    world: World,
    master_key: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key_file = _key_file(tmp_path, master_key)

    def dies(*_: object, **__: object) -> bool:
        raise KeyboardInterrupt

    monkeypatch.setattr(ops_rotate, "_switch", dies)
    with pytest.raises(KeyboardInterrupt):
        ops_rotate.rotate_master_key(engine, master_key, key_file, key_in_file=True)
    monkeypatch.undo()
    pending = (key_file.parent / "master.key.new").read_text().strip()
    done = CliRunner().invoke(app, ["master-key", "rotate"], env=_env(tmp_path, db_url))
    assert done.exit_code == 0, done.output
    assert "finished an interrupted rotation" in done.output
    assert key_file.read_text().strip() == pending


def test_rotate_refuses_a_key_that_is_not_this_databases(
    engine: Engine, world: World, tmp_path: Path
) -> None:
    from keys.sealing import generate_master_key

    stranger = generate_master_key()
    with pytest.raises(RotationError, match="does not match"):
        ops_rotate.rotate_master_key(
            engine, stranger, _key_file(tmp_path, stranger), key_in_file=True
        )
    with Session(engine) as session, pytest.raises(RotationError, match="nothing was changed"):
        reseal(session, MasterKey(stranger), MasterKey(generate_master_key()))


def test_with_the_key_in_the_environment_the_operator_is_told_where_the_new_one_is(
    tmp_path: Path, db_url: str, world: World, master_key: str
) -> None:
    env = _env(tmp_path, db_url) | {"SKILLSHUB_MASTER_KEY": master_key}
    done = CliRunner().invoke(app, ["master-key", "rotate"], env=env)
    assert done.exit_code == 0, done.output
    assert "set SKILLSHUB_MASTER_KEY to the new key" in done.output
    assert (tmp_path / "data" / "master.key.new").is_file()
