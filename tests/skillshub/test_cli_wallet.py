"""`skillshub offer`: the offer link a wallet redeems, on both databases."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session
from typer.testing import CliRunner

from badges import issuing
from badges.issuing import Recipient
from skillshub.cli import app
from tests.support.wallet import PRE_AUTHORIZED, offer_path
from tests.support.world import World, make_world

runner = CliRunner()
BASE_URL = "http://testserver"


@pytest.fixture
def world(session: Session, master_key: str) -> World:
    return make_world(session, master_key)


@pytest.fixture
def env(tmp_path: Path, db_url: str, master_key: str) -> dict[str, str]:
    return {
        "SKILLSHUB_DATABASE_URL": db_url,
        "SKILLSHUB_MASTER_KEY": master_key,
        "SKILLSHUB_DATA_DIR": str(tmp_path / "data"),
        "SKILLSHUB_BASE_URL": BASE_URL,
        "SKILLSHUB_EMAIL_BACKEND": "file",
    }


def _award(session: Session, world: World, email: str = "ada@example.org") -> str:
    record = issuing.issue(
        session,
        world.master_key,
        issuer=world.issuer,
        micro_credential=world.mc,
        recipient=Recipient(name="Ada Lovelace", email=email),
        base_url=BASE_URL,
    )
    session.commit()
    return record.uuid


def test_offer_prints_a_link_the_wallet_redeems(
    world: World, session: Session, env: dict[str, str], client: TestClient, tmp_path: Path
) -> None:
    uuid = _award(session, world)
    result = runner.invoke(app, ["offer", f"{BASE_URL}/credentials/{uuid}"], env=env)
    assert result.exit_code == 0, result.output
    link = result.stdout.strip()
    assert link.startswith("openid-credential-offer://?credential_offer_uri=")
    offered = client.get(offer_path(link)).json()
    assert offered["credential_issuer"] == BASE_URL
    assert f"{world.mc.slug}_ldp_vc" in offered["credential_configuration_ids"]
    assert "tx_code" not in offered["grants"][PRE_AUTHORIZED]
    assert not (tmp_path / "data" / "outbox").exists()

    mailed = runner.invoke(app, ["offer", uuid, "--tx-code"], env=env)
    assert mailed.exit_code == 0, mailed.output
    grant = client.get(offer_path(mailed.stdout.strip())).json()["grants"][PRE_AUTHORIZED]
    assert grant["tx_code"]["length"] == 6
    assert len(list((tmp_path / "data" / "outbox").glob("*.eml"))) == 1


def test_offer_refusals_are_clear(world: World, session: Session, env: dict[str, str]) -> None:
    missing = runner.invoke(app, ["offer", "no-such-credential"], env=env)
    assert missing.exit_code == 1 and "does not exist" in missing.output
    uuid = _award(session, world)
    record = issuing.get_credential(session, uuid)
    record.suspended = True
    session.add(record)
    session.commit()
    refused = runner.invoke(app, ["offer", uuid], env=env)
    assert refused.exit_code == 1 and "suspended" in refused.output
