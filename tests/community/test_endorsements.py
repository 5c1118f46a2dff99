"""Endorsements (issue 20), on both databases: an organisation's token endorses another's
micro-credential with a signed EndorsementCredential; awards issued afterwards carry it; our
verifier checks it (proof, issuer, status); revoking it shows at the next verification;
nobody endorses as another organisation or their own offer."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from accounts.models import AuditEvent
from accounts.roles import Role
from badges.proofs import vc_jwt
from tests.support.world import World, make_world


def _auth(world: World) -> dict[str, str]:
    return {"authorization": f"Bearer {world.token}"}


@pytest.fixture
def worlds(session: Session, master_key: str) -> tuple[World, World]:
    provider = make_world(session, master_key)
    alliance = make_world(session, master_key, slug="alliance")
    # Codes of the EU vocabularies, as the public page names them (make_world's are short).
    provider.mc.assessment_type = "practical-assessment"
    provider.mc.quality_assurance = "program-quality-assurance"
    session.add(provider.mc)
    session.commit()
    return provider, alliance


def endorse(client: TestClient, endorser: World, slug: str, **fields: Any) -> dict[str, Any]:
    body = {"comment": "Meets the alliance's battery-safety profile."} | fields
    made = client.post(
        f"/api/v1/micro-credentials/{slug}/endorsements", json=body, headers=_auth(endorser)
    )
    assert made.status_code == 201, made.text
    return made.json()


def issue(client: TestClient, world: World, fmt: str = "ldp") -> Any:
    body = {
        "micro_credential": world.mc.slug,
        "name": "Ada Lovelace",
        "email": "ada@example.org",
        "format": fmt,
    }
    made = client.post(
        f"/api/v1/issuers/{world.issuer.slug}/credentials", json=body, headers=_auth(world)
    )
    assert made.status_code == 201, made.text
    return made.json()["credential"]


def verify(client: TestClient, credential: Any) -> dict[str, Any]:
    payload = credential if isinstance(credential, str) else json.dumps(credential)
    answer = client.post(
        "/api/v1/verify",
        content=payload,
        headers={"content-type": "application/json"}
        if not isinstance(credential, str)
        else {"content-type": "application/jwt"},
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def _check(report: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in report["checks"] if c["id"] == name)


def test_an_award_carries_the_endorsement_and_it_verifies(
    client: TestClient, session: Session, worlds: tuple[World, World]
) -> None:
    provider, alliance = worlds
    before = issue(client, provider)
    assert "endorsement" not in before["credentialSubject"]["achievement"]
    made = endorse(client, alliance, provider.mc.slug, valid_until="2035-01-01T00:00:00Z")
    endorsement = made["credential"]
    assert endorsement["type"] == ["VerifiableCredential", "EndorsementCredential"]
    assert endorsement["credentialSubject"] == {
        "id": f"http://testserver/micro-credentials/{provider.mc.slug}",
        "type": ["EndorsementSubject"],
        "endorsementComment": "Meets the alliance's battery-safety profile.",
    }
    assert endorsement["issuer"]["id"] == alliance.issuer.did
    assert endorsement["validUntil"] == "2035-01-01T00:00:00Z"
    assert endorsement["credentialStatus"]["statusPurpose"] == "revocation"
    assert endorsement["credentialStatus"]["statusListCredential"].startswith(
        "http://testserver/status/alliance/revocation/"
    )
    assert verify(client, endorsement)["verdict"] == "valid"
    _header, payload = vc_jwt.decode_unverified(made["credential_jwt"])
    assert payload["vc"]["id"] == made["id"] if "vc" in payload else payload["id"] == made["id"]
    assert verify(client, made["credential_jwt"])["verdict"] == "valid"
    served = client.get(made["id"], headers={"accept": "application/ld+json"})
    assert served.status_code == 200 and served.json() == endorsement
    assert (
        client.get(made["id"], headers={"accept": "application/jwt"}).text == made["credential_jwt"]
    )

    award = issue(client, provider)
    assert award["credentialSubject"]["achievement"]["endorsement"] == [endorsement]
    report = verify(client, award)
    assert report["verdict"] == "valid", report
    assert _check(report, "endorsements")["status"] == "ok"
    [inner] = report["endorsements"]
    assert inner["verdict"] == "valid"
    assert {c["id"]: c["status"] for c in inner["checks"]}["issuer_trust"] == "ok"

    jwt_award = issue(client, provider, fmt="jwt")
    _header, claims = vc_jwt.decode_unverified(jwt_award)
    achievement = claims["credentialSubject"]["achievement"]
    assert achievement["endorsementJwt"] == [made["credential_jwt"]]
    assert verify(client, jwt_award)["endorsements"][0]["verdict"] == "valid"

    # Revoked: the award still verifies; its endorsement does not, and the report says why.
    revoked = client.post(f"/api/v1/endorsements/{made['uuid']}/revoke", headers=_auth(alliance))
    assert revoked.status_code == 200 and revoked.json()["revoked"] is True
    again = verify(client, award)
    assert again["verdict"] == "valid"
    assert _check(again, "endorsements")["status"] == "warning"
    assert "revoked" in _check(again, "endorsements")["message"]
    assert again["endorsements"][0]["verdict"] == "invalid"
    assert "endorsement" not in issue(client, provider)["credentialSubject"]["achievement"]
    twice = client.post(f"/api/v1/endorsements/{made['uuid']}/revoke", headers=_auth(alliance))
    assert twice.status_code == 409
    actions = session.exec(
        select(AuditEvent.action).where(AuditEvent.subject_type == "endorsement")
    )
    assert sorted(actions) == ["endorsement.create", "endorsement.revoke"]


def test_nobody_endorses_as_another_organisation_or_their_own(
    client: TestClient, session: Session, worlds: tuple[World, World]
) -> None:
    provider, alliance = worlds
    own = client.post(
        f"/api/v1/micro-credentials/{provider.mc.slug}/endorsements",
        json={"comment": "We are great."},
        headers=_auth(provider),
    )
    assert own.status_code == 403 and own.json()["error"]["code"] == "self_endorsement"
    # The alliance's token naming the provider's issuer: refused, nothing signed.
    other = client.post(
        f"/api/v1/micro-credentials/{provider.mc.slug}/endorsements",
        json={"comment": "Signed by someone else.", "issuer": provider.issuer.slug},
        headers=_auth(alliance),
    )
    assert other.status_code in (403, 404), other.text
    anonymous = client.post(
        f"/api/v1/micro-credentials/{provider.mc.slug}/endorsements", json={"comment": "x"}
    )
    assert anonymous.status_code == 401
    made = endorse(client, alliance, provider.mc.slug)
    # Revoking: only by the endorser.
    stolen = client.post(f"/api/v1/endorsements/{made['uuid']}/revoke", headers=_auth(provider))
    assert stolen.status_code == 404
    for bad in (
        {"comment": "  "},
        {"comment": "ok", "valid_until": "2001-01-01T00:00:00Z"},
        {"comment": "ok", "valid_from": "2001-01-01T00:00:00Z"},
        {"comment": "x" * 2001},
    ):
        refused = client.post(
            f"/api/v1/micro-credentials/{provider.mc.slug}/endorsements",
            json=bad,
            headers=_auth(alliance),
        )
        assert refused.status_code == 422, (bad, refused.text)
    missing = client.post(
        "/api/v1/micro-credentials/nope/endorsements",
        json={"comment": "ok"},
        headers=_auth(alliance),
    )
    assert missing.status_code == 404
    listed = client.get(f"/api/v1/micro-credentials/{provider.mc.slug}/endorsements").json()
    assert [e["uuid"] for e in listed] == [made["uuid"]]


def test_pages_show_the_endorsement_checked_and_revoked(
    client: TestClient, session: Session, worlds: tuple[World, World]
) -> None:
    provider, alliance = worlds
    made = endorse(client, alliance, provider.mc.slug)
    award = issue(client, provider)
    html = {"accept": "text/html"}
    page = client.get(f"/micro-credentials/{provider.mc.slug}", headers=html).text
    assert "Endorsed by" in page and "(checked)" in page and made["id"] in page
    checked = client.post("/verify", data={"credential": json.dumps(award)}, headers=html)
    assert "Endorsed by Alliance GmbH (checked)" in checked.text

    client.post(f"/api/v1/endorsements/{made['uuid']}/revoke", headers=_auth(alliance))
    page = client.get(f"/micro-credentials/{provider.mc.slug}", headers=html).text
    assert "(checked)" not in page and "not accepted" in page and "revoked" in page
    again = client.post("/verify", data={"credential": json.dumps(award)}, headers=html)
    assert "Endorsed by Alliance GmbH: does not verify" in again.text
    assert "(checked)" not in again.text


def test_console_endorse_and_revoke_roles(
    client: TestClient, session: Session, worlds: tuple[World, World], console_as
) -> None:
    provider, alliance = worlds
    viewer = console_as(alliance.org, Role.viewer)
    assert viewer.client.get(f"/console/orgs/{alliance.org.slug}/endorsements").status_code == 200
    refused = viewer.post(
        f"/console/orgs/{alliance.org.slug}/endorsements",
        {"micro_credential": provider.mc.slug, "comment": "Viewers read only."},
    )
    assert refused.status_code == 403
    # A member of the provider cannot endorse as the alliance through the alliance's page.
    outsider = console_as(provider.org, Role.owner)
    assert (
        outsider.post(
            f"/console/orgs/{alliance.org.slug}/endorsements",
            {"micro_credential": provider.mc.slug, "comment": "As someone else."},
        ).status_code
        == 403
    )
    own = outsider.post(
        f"/console/orgs/{provider.org.slug}/endorsements",
        {"micro_credential": provider.mc.slug, "comment": "Our own."},
    )
    assert own.status_code == 422 and "cannot endorse its own" in own.text
    issuer = console_as(alliance.org, Role.issuer)
    page = issuer.client.get(f"/console/orgs/{alliance.org.slug}/endorsements")
    assert provider.mc.title in page.text
    made = issuer.post(
        f"/console/orgs/{alliance.org.slug}/endorsements",
        {"micro_credential": provider.mc.slug, "comment": "Solid.", "valid_until": "2034-12-31"},
    )
    assert made.status_code == 303, made.text
    session.rollback()
    from badges.models import Endorsement

    row = session.exec(select(Endorsement)).one()
    assert row.valid_until is not None and row.valid_until.year == 2034
    assert (
        viewer.post(f"/console/orgs/{alliance.org.slug}/endorsements/{row.uuid}/revoke").status_code
        == 403
    )
    assert (
        outsider.post(
            f"/console/orgs/{provider.org.slug}/endorsements/{row.uuid}/revoke"
        ).status_code
        == 404
    )
    revoked = issuer.post(f"/console/orgs/{alliance.org.slug}/endorsements/{row.uuid}/revoke")
    assert revoked.status_code == 303
    session.rollback()
    assert session.exec(select(Endorsement)).one().revoked_at is not None
    events = session.exec(
        select(AuditEvent.action, AuditEvent.actor_label).where(
            AuditEvent.subject_type == "endorsement"
        )
    ).all()
    assert sorted(a for a, _ in events) == ["endorsement.create", "endorsement.revoke"]
    assert {label for _, label in events} == {issuer.user.email}


def test_cli_endorse(
    tmp_path, db_url: str, master_key: str, session: Session, worlds: tuple[World, World]
) -> None:
    from typer.testing import CliRunner

    from skillshub.cli import app

    provider, alliance = worlds
    env = {
        "SKILLSHUB_DATA_DIR": str(tmp_path / "data"),
        "SKILLSHUB_DATABASE_URL": db_url,
        "SKILLSHUB_MASTER_KEY": master_key,
        "SKILLSHUB_BASE_URL": "http://testserver",
    }
    out = tmp_path / "endorsement.json"
    ENDORSE = ["endorse", provider.mc.slug]
    session.rollback()
    done = CliRunner().invoke(
        app,
        [*ENDORSE, "--org", alliance.org.slug, "--comment", "Good.", "--out", str(out)],
        env=env,
    )
    assert done.exit_code == 0, done.output
    written = json.loads(out.read_text())
    assert written["type"] == ["VerifiableCredential", "EndorsementCredential"]
    assert written["credentialSubject"]["endorsementComment"] == "Good."
    own = CliRunner().invoke(
        app, ["endorse", provider.mc.slug, "--org", provider.org.slug], env=env
    )
    assert own.exit_code == 1 and "cannot endorse its own" in own.output
