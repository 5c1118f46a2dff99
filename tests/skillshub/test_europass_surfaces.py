"""Europass surfaces: `skillshub seal import|list`, `skillshub export-europass`, and
`GET /credentials/{id}/europass` (issuer token or the learner's session)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import unquote

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from badges import issuing
from badges.models import Issuer
from badges.verifying import edc as europass
from catalogue.base import pk
from catalogue.models import MicroCredential, Organisation
from keys import eseal
from keys.store import ensure_master_key
from keys.tokens import create_token
from skillshub.cli import app
from skillshub.demo import load_demo
from skillshub.settings import Settings
from tests.support.present import one, present

runner = CliRunner()
EXPORTABLE = "bms-engineer"  # a demo micro-credential with ECTS and an EQF level


def _env(tmp_path: Path, db_url: str, master_key: str, **extra: str) -> dict[str, str]:
    return {
        "SKILLSHUB_DATA_DIR": str(tmp_path / "data"),
        "SKILLSHUB_DATABASE_URL": db_url,
        "SKILLSHUB_MASTER_KEY": master_key,
    } | extra


def _award(session: Session, settings: Settings, slug: str = EXPORTABLE) -> str:
    master_key = ensure_master_key(session, settings.resolved_master_key())
    mc = session.exec(select(MicroCredential).where(MicroCredential.slug == slug)).one()
    issuer = present(session.exec(select(Issuer).order_by(col(Issuer.id))).first())
    assert issuer is not None
    record = issuing.issue(
        session,
        master_key,
        issuer=issuer,
        micro_credential=mc,
        recipient=issuing.Recipient(name="Ana Andromeda", email="ana@example.org"),
        base_url=settings.base_url,
    )
    return record.uuid


def _demo_with_award(engine: Engine, settings: Settings) -> tuple[str, str]:
    """(credential uuid, an API token of its organisation), committed."""
    with Session(engine, expire_on_commit=False) as session:
        load_demo(session, settings)
        uuid = _award(session, settings)
        record = issuing.get_credential(session, uuid)
        issuer = one(session, Issuer, record.issuer_id)
        token, _ = create_token(session, issuer.organisation_id, "europass")
        session.commit()
    return uuid, token


# --- CLI -----------------------------------------------------------------------------------


def test_export_europass_writes_a_sealed_credential(
    tmp_path: Path, db_url: str, engine: Engine, settings: Settings
) -> None:
    uuid, _token = _demo_with_award(engine, settings)
    target = tmp_path / "edc.jsonld"
    result = runner.invoke(
        app,
        ["export-europass", uuid, "--out", str(target)],
        env=_env(tmp_path, db_url, settings.master_key or ""),
    )
    assert result.exit_code == 0, result.output
    assert "sealed (JAdES-B-B)" in result.output and "self-signed TEST" in result.output
    report = europass.verify_edc(target.read_text())
    assert report.intact and report.status_of("signature") == "ok"


def test_export_europass_takes_the_credential_id_url(
    tmp_path: Path, db_url: str, engine: Engine, settings: Settings
) -> None:
    """Issue 15: the id `issue` prints ({BASE_URL}/credentials/UUID) names the credential."""
    uuid, _token = _demo_with_award(engine, settings)
    target = tmp_path / "edc.jsonld"
    env = _env(tmp_path, db_url, settings.master_key or "", SKILLSHUB_BASE_URL=settings.base_url)
    url = f"{settings.base_url}/credentials/{uuid}"
    result = runner.invoke(app, ["export-europass", url, "--out", str(target)], env=env)
    assert result.exit_code == 0, result.output
    assert europass.verify_edc(target.read_text()).intact


def test_export_europass_of_an_unknown_credential_fails_clearly(
    tmp_path: Path, db_url: str, settings: Settings
) -> None:
    result = runner.invoke(
        app,
        ["export-europass", "no-such-id"],
        env=_env(tmp_path, db_url, settings.master_key or ""),
    )
    assert result.exit_code == 1 and "does not exist" in result.output


def _p12(tmp_path: Path, org: Organisation, password: bytes) -> Path:
    cert, key = eseal.generate_test_seal(org)
    path = tmp_path / "seal.p12"
    path.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"seal", key, cert, None, serialization.BestAvailableEncryption(password)
        )
    )
    return path


def test_seal_import_from_pkcs12_and_its_refusals(
    tmp_path: Path, db_url: str, engine: Engine, settings: Settings
) -> None:
    with Session(engine, expire_on_commit=False) as session:
        load_demo(session, settings)
        org = present(session.exec(select(Organisation).order_by(col(Organisation.id))).first())
        session.commit()
    assert org is not None
    p12 = _p12(tmp_path, org, b"right")
    env = _env(tmp_path, db_url, settings.master_key or "", SEAL_PW="wrong")

    wrong = runner.invoke(
        app,
        ["seal", "import", "--org", org.slug, "--pkcs12", str(p12), "--password-env", "SEAL_PW"],
        env=env,
    )
    assert wrong.exit_code == 1 and "wrong password" in wrong.output

    no_key = runner.invoke(app, ["seal", "import", "--org", org.slug, "--cert", str(p12)], env=env)
    assert no_key.exit_code == 2 and "without a private key" in no_key.output

    env["SEAL_PW"] = "right"
    ok = runner.invoke(
        app,
        ["seal", "import", "--org", org.slug, "--pkcs12", str(p12), "--password-env", "SEAL_PW"],
        env=env,
    )
    assert ok.exit_code == 0, ok.output
    assert "self-signed" in ok.output and "qualified" in ok.output

    listed = runner.invoke(app, ["seal", "list", "--org", org.slug, "--json"], env=env)
    rows = json.loads(listed.stdout)
    assert [r["active"] for r in rows] == [True, False]  # the demo's TEST seal is kept, inactive


# --- web -----------------------------------------------------------------------------------


def test_issuer_downloads_the_sealed_europass_credential(
    client, engine: Engine, settings: Settings
) -> None:
    uuid, token = _demo_with_award(engine, settings)
    response = client.get(
        f"/credentials/{uuid}/europass", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.text
    assert response.headers["x-europass-sealed"] == "true"
    assert response.headers["x-europass-seal-level"] == "JAdES-B-B"  # no TSA configured
    assert "attachment" in response.headers["content-disposition"]
    assert europass.verify_edc(response.content).intact


def test_europass_download_needs_a_token_or_the_learner_session(
    client, engine: Engine, settings: Settings
) -> None:
    uuid, _token = _demo_with_award(engine, settings)
    anonymous = client.get(f"/credentials/{uuid}/europass")
    assert anonymous.status_code == 401
    with Session(engine) as session:
        other = session.exec(select(Organisation).order_by(col(Organisation.id).desc())).first()
        assert other is not None
        other_token, _ = create_token(session, pk(other), "other")
        session.commit()
    foreign = client.get(
        f"/credentials/{uuid}/europass", headers={"Authorization": f"Bearer {other_token}"}
    )
    assert foreign.status_code == 404  # as for an unknown id: existence is not revealed


def test_learner_session_downloads_the_europass_credential(
    client, engine: Engine, settings: Settings
) -> None:
    from badges.sharing import delivery
    from skillshub.web.routes.learner import COOKIE

    class Capture:
        sent: list = []

        def send(self, message) -> None:
            self.sent.append(message)

    uuid, _token = _demo_with_award(engine, settings)
    mailer = Capture()
    with Session(engine) as session:
        record = issuing.get_credential(session, uuid)
        delivery.send_claim_link(session, settings, record, mailer=mailer)
        text = mailer.sent[0].get_body(("plain",)).get_content()
        claim = present(re.search(r"token=(\S+)", text)).group(1)
        _record, session_token = delivery.redeem_claim(session, uuid, unquote(claim))
        session.commit()
    client.cookies.set(COOKIE, session_token, path=f"/credentials/{uuid}")
    page = client.get(f"/credentials/{uuid}/manage")
    # The demo's seal is a TEST certificate, which Europass refuses: the page says so rather
    # than offering the file; the export itself still answers (the provider may test with it).
    assert f'href="/credentials/{uuid}/europass"' not in page.text
    assert "is a test certificate" in page.text
    response = client.get(f"/credentials/{uuid}/europass")
    assert response.status_code == 200, response.text
    assert europass.verify_edc(response.content).intact


def test_seal_trust_anchors_setting_confirms_the_chain(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    """Without trust anchors the chain check is a warning; with the demo's (test) certificate
    named in SKILLSHUB_SEAL_TRUST_ANCHORS, the verifier confirms the chain."""
    from fastapi.testclient import TestClient

    from keys.eseal_models import SealCertificate
    from skillshub.web.app import create_app

    uuid, token = _demo_with_award(engine, settings)

    def chain_check(app_settings: Settings) -> dict:
        with TestClient(create_app(app_settings, engine=engine)) as client:
            edc = client.get(
                f"/credentials/{uuid}/europass", headers={"Authorization": f"Bearer {token}"}
            ).content
            report = client.post(
                "/api/v1/verify", content=edc, headers={"content-type": "application/json"}
            ).json()
        return next(c for c in report["checks"] if c["id"] == "chain")

    assert chain_check(settings)["status"] == "warning"
    with Session(engine) as session:
        record = issuing.get_credential(session, uuid)
        issuer = one(session, Issuer, record.issuer_id)
        seal = present(
            session.exec(
                select(SealCertificate).where(
                    SealCertificate.organisation_id == issuer.organisation_id
                )
            ).first()
        )
    anchors = tmp_path / "anchors.pem"
    anchors.write_text(seal.chain_pem)
    trusted = chain_check(settings.model_copy(update={"seal_trust_anchors": anchors}))
    assert trusted["status"] == "ok" and "trust anchor" in trusted["message"]
