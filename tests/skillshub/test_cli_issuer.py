"""`skillshub issuer rotate-key` (both databases): new credentials are signed with the new
keys, old ones still verify, and the DID document and JWKS list both generations."""

from __future__ import annotations

import json
from pathlib import Path

from sqlmodel import Session
from typer.testing import CliRunner

from badges import issuing
from badges.issuing.issuers import jwks
from badges.proofs.vc_jwt import decode_unverified
from badges.verifying import verify
from skillshub.cli import app
from skillshub.settings import Settings
from skillshub.verifier import verification_context
from tests.support.world import World, make_world

runner = CliRunner()
BASE_URL = "https://voltacademy.example"


def _env(tmp_path: Path, db_url: str, master_key: str) -> dict[str, str]:
    return {
        "SKILLSHUB_DATA_DIR": str(tmp_path / "data"),
        "SKILLSHUB_DATABASE_URL": db_url,
        "SKILLSHUB_MASTER_KEY": master_key,
    }


def _issue(session: Session, world: World, fmt: str) -> str:
    record = issuing.issue(
        session,
        world.master_key,
        issuer=world.issuer,
        micro_credential=world.mc,
        recipient=issuing.Recipient("Ada", "ada@example.org"),
        base_url=BASE_URL,
        fmt=fmt,
    )
    session.commit()
    return record.signed


def _key_ids(signed_ldp: str, signed_jwt: str) -> tuple[str, str]:
    return json.loads(signed_ldp)["proof"][0]["verificationMethod"], decode_unverified(signed_jwt)[
        0
    ]["kid"]


def test_rotate_key_signs_anew_and_old_credentials_still_verify(
    tmp_path: Path, db_url: str, session: Session, master_key: str
) -> None:
    world = make_world(session, master_key, public_https=True)
    session.commit()
    old = (_issue(session, world, "ldp"), _issue(session, world, "jwt"))

    result = runner.invoke(
        app, ["issuer", "rotate-key", "voltacademy"], env=_env(tmp_path, db_url, master_key)
    )
    assert result.exit_code == 0, result.output
    assert "new Ed25519 key" in result.output and "new P-256 key" in result.output
    assert "old keys stay published" in result.output

    session.expire_all()
    new = (_issue(session, world, "ldp"), _issue(session, world, "jwt"))
    old_ids, new_ids = _key_ids(*old), _key_ids(*new)
    assert old_ids[0] != new_ids[0] and old_ids[1] != new_ids[1]

    document = issuing.did_document(session, world.issuer)
    methods = [vm["id"] for vm in document["verificationMethod"]]
    kids = {k["kid"] for k in jwks(session, world.issuer)["keys"]}
    assert methods.index(new_ids[0]) < methods.index(old_ids[0])  # the current key first
    assert {old_ids[1], new_ids[1]} <= kids

    settings = Settings(data_dir=tmp_path, base_url=BASE_URL, fetch_offline=True)
    context = verification_context(settings).bound(session)
    for signed in (*old, *new):
        presented = json.loads(signed) if signed.startswith("{") else signed
        report = verify(context, presented)
        assert report.verdict == "valid", report.checks


def test_rotate_key_refuses_an_unknown_issuer_and_a_did_key_issuer(
    tmp_path: Path, db_url: str, session: Session, master_key: str
) -> None:
    make_world(session, master_key, public_https=False)
    session.commit()
    env = _env(tmp_path, db_url, master_key)

    unknown = runner.invoke(app, ["issuer", "rotate-key", "nobody"], env=env)
    assert unknown.exit_code == 1
    assert "issuer 'nobody' does not exist" in unknown.output

    did_key = runner.invoke(app, ["issuer", "rotate-key", "voltacademy"], env=env)
    assert did_key.exit_code == 1
    assert "only did:web issuers can rotate keys" in did_key.output
