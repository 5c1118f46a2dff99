"""`skillshub offer`: the offer link a wallet redeems, on both databases."""

from __future__ import annotations

import email
import email.policy
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from badges import issuing
from badges.issuing import Recipient
from badges.wallet.models import WalletOffer
from skillshub.cli import app
from tests.support.mail_language import GREETINGS, plain_text, until_words
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


@pytest.mark.parametrize(
    ("options", "language", "subject", "enter", "works_once"),
    [
        (
            [],
            "en",
            "Your code for adding a badge to your wallet",
            "You asked to add your badge to a digital wallet. When the wallet asks for a "
            "transaction code, enter:",
            "The code works once, until {until}. If you did not ask for it, ignore this message",
        ),
        (
            ["--language", "de"],
            "de",
            "Ihr Code, um ein Badge in Ihre Wallet aufzunehmen",
            "Sie möchten Ihr Badge in eine digitale Wallet aufnehmen. Wenn die Wallet nach "
            "einem Transaktionscode fragt, geben Sie ein:",
            "Der Code gilt einmal, bis zum {until}. Wenn Sie ihn nicht angefordert haben, "
            "ignorieren Sie diese Nachricht",
        ),
    ],
    ids=["en", "de"],
)
def test_offer_emails_the_transaction_code_in_the_language_asked_for(
    world: World,
    session: Session,
    env: dict[str, str],
    tmp_path: Path,
    options: list[str],
    language: str,
    subject: str,
    enter: str,
    works_once: str,
) -> None:
    uuid = _award(session, world)
    result = runner.invoke(app, ["offer", uuid, "--tx-code", *options], env=env)
    assert result.exit_code == 0, result.output
    [path] = (tmp_path / "data" / "outbox").glob("*.eml")
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert message["Subject"] == subject and message["Content-Language"] == language
    text = plain_text(message)
    assert text.startswith(f"{GREETINGS[language]}\n\n{enter}\n\n    ")
    [row] = session.exec(
        select(WalletOffer).where(col(WalletOffer.tx_code_hash).is_not(None))
    ).all()
    assert works_once.format(until=until_words(row.expires_at, language)) in text
    assert re.search(r"^    \d{6}$", text, flags=re.MULTILINE)


def test_offer_refuses_a_language_without_words(
    world: World, session: Session, env: dict[str, str], tmp_path: Path
) -> None:
    uuid = _award(session, world)
    refused = runner.invoke(app, ["offer", uuid, "--tx-code", "--language", "fr"], env=env)
    assert refused.exit_code == 2, refused.output
    words = " ".join(refused.output.replace("│", " ").split())  # rich's box, any width
    assert "'fr' is not one of 'en', 'de'" in words
    assert not (tmp_path / "data" / "outbox").exists()
