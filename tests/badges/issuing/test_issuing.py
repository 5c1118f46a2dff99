"""Issuing through the service and the real app: DI and JWT, checks, idempotency, bulk."""

from __future__ import annotations

import json

import jsonschema
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from badges.issuing import service as issuing
from badges.models import IssuedCredential, StatusAllocation
from badges.proofs import eddsa_rdfc_2022, vc_jwt
from catalogue import micro_credentials
from catalogue.errors import DomainError, InvalidInput, NotFound
from keys.did import resolve_did_key
from openbadges_schemas.ob3 import validate_structure
from skillshub.settings import Settings
from skillshub.web.app import create_app
from tests.support.reference import reference
from tests.support.world import World, make_world


def _auth(world: World) -> dict[str, str]:
    return {"authorization": f"Bearer {world.token}"}


def _issue(client: TestClient, world: World, **fields) -> dict:
    body = {"micro_credential": world.mc.slug, "name": "Ada Lovelace", "email": "Ada@Example.org"}
    response = client.post(
        f"/api/v1/issuers/{world.issuer.slug}/credentials", json=body | fields, headers=_auth(world)
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_di_credential_verifies_and_has_the_ob3_shape(client: TestClient, world: World) -> None:
    out = _issue(client, world, grade="A", evidence_url="https://portfolio.example/ada")
    credential = out["credential"]
    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert credential["id"] == f"http://testserver/credentials/{out['id']}"
    assert credential["issuer"]["id"] == world.issuer.did.split("#")[0]
    achievement = credential["credentialSubject"]["achievement"]
    assert achievement["id"] == f"http://testserver/micro-credentials/{world.mc.slug}"
    assert achievement["achievementType"] == "MicroCredential"
    assert "creditsAvailable" not in achievement  # credit hours in OB 3.0, not ECTS
    assert achievement["euMicroCredential"]["ectsCredits"] == 3
    assert achievement["alignment"][0]["targetFramework"] == "ESCO"
    identifier = credential["credentialSubject"]["identifier"][0]
    expected = issuing.identity_hash("ada@example.org", identifier["salt"])
    assert identifier["identityHash"] == expected
    assert "ada@example.org" not in json.dumps(credential).lower()
    name = credential["credentialSubject"]["identifier"][1]
    assert (name["identityType"], name["identityHash"], name["hashed"]) == (
        "name",
        "Ada Lovelace",
        False,
    )
    assert credential["credentialSubject"]["result"][0]["value"] == "A"
    # One status entry by default (revocation): an object, as the OB 3.0 schema wants.
    assert credential["credentialStatus"]["type"] == "BitstringStatusListEntry"
    assert credential["credentialStatus"]["statusPurpose"] == "revocation"
    assert validate_structure(credential) == []
    [proof] = credential["proof"]
    _, public_key = resolve_did_key(proof["verificationMethod"])
    assert eddsa_rdfc_2022.verify_proof(credential, proof, public_key).ok
    tampered = json.loads(json.dumps(credential))
    tampered["credentialSubject"]["achievement"]["name"] += "!"
    assert not eddsa_rdfc_2022.verify_proof(tampered, proof, public_key).ok


def _official_schema_errors(credential: dict) -> list[str]:
    schema_path = reference(
        "ob3", "schemas", "1edtech-gh-pages-2024-07", "achievementcredential.json"
    )
    schema = json.loads(schema_path.read_text())
    validator = jsonschema.Draft201909Validator(schema)
    return [f"{e.json_path}: {e.message}" for e in validator.iter_errors(credential)]


def test_single_status_credential_matches_official_schema(world: World, session: Session) -> None:
    record = issuing.issue(
        session,
        world.master_key,
        issuer=world.issuer,
        micro_credential=world.mc,
        recipient=issuing.Recipient("Ada", "ada@example.org", grade="B+"),
        base_url="http://testserver",
        status_purposes=("revocation",),
    )
    credential = json.loads(record.signed)
    assert credential["credentialStatus"]["statusPurpose"] == "revocation"
    assert _official_schema_errors(credential) == []


def test_the_default_credential_passes_the_official_schema(
    client: TestClient, world: World
) -> None:
    """Issue 15: through the real app with default settings, the credential has one
    credentialStatus entry and 1EdTech's JSON Schema accepts it as it is."""
    credential = _issue(client, world, grade="B+", evidence_url="https://p.example/ada")[
        "credential"
    ]
    assert isinstance(credential["credentialStatus"], dict)
    assert _official_schema_errors(credential) == []


def test_two_status_entries_differ_from_schema_only_in_status_cardinality(
    world: World, session: Session
) -> None:
    """With suspension too (SKILLSHUB_STATUS_PURPOSES), VC DM 2.0's list of entries is what
    OB 3.0's schema refuses, and only that: the README's trade-off."""
    record = issuing.issue(
        session,
        world.master_key,
        issuer=world.issuer,
        micro_credential=world.mc,
        recipient=issuing.Recipient("Ada", "ada@example.org", grade="B+"),
        base_url="http://testserver",
        status_purposes=("revocation", "suspension"),
    )
    credential = json.loads(record.signed)
    assert [e["statusPurpose"] for e in credential["credentialStatus"]] == [
        "revocation",
        "suspension",
    ]
    errors = _official_schema_errors(credential)
    assert len(errors) == 1 and errors[0].startswith("$.credentialStatus:"), errors


def test_given_and_family_names_are_stored_apart_and_the_credential_is_unchanged(
    client: TestClient, world: World, session: Session
) -> None:
    both = _issue(client, world, name=None, given_name=" Ada ", family_name="King  Lovelace")
    assert (both["recipient_name"], both["recipient_given_name"]) == ("Ada King Lovelace", "Ada")
    assert both["recipient_family_name"] == "King Lovelace"
    printed = _issue(
        client, world, email="li@example.org", name="LI Wei", given_name="Wei", family_name="Li"
    )
    assert printed["recipient_name"] == "LI Wei"  # the printed form is the provider's
    only_full = _issue(client, world, email="m@example.org", name="Madonna", contact_consent=True)
    assert only_full["contact_consent"] and not both["contact_consent"]  # off unless asked
    assert (only_full["recipient_given_name"], only_full["recipient_family_name"]) == (None, None)
    stored = session.exec(select(IssuedCredential).where(IssuedCredential.uuid == both["id"])).one()
    assert (stored.recipient_given_name, stored.recipient_family_name) == ("Ada", "King Lovelace")
    # OB 3.0 has no slot for the parts: the credential names the full name only, as before.
    subject = both["credential"]["credentialSubject"]
    assert [i["identityType"] for i in subject["identifier"]] == ["emailAddress", "name"]
    assert subject["identifier"][1]["identityHash"] == "Ada King Lovelace"
    assert json.dumps(both["credential"]).count("King Lovelace") == 1
    assert validate_structure(both["credential"]) == []
    assert _official_schema_errors(both["credential"]) == []


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": None}, "name"),
        ({"name": " ", "given_name": " ", "family_name": ""}, "name"),
        ({"name": None, "given_name": "Ada\nLovelace"}, "given_name"),
        ({"family_name": "x" * 301}, "family_name"),
    ],
)
def test_a_recipient_without_a_usable_name_is_refused(
    client: TestClient, world: World, session: Session, fields: dict, field: str
) -> None:
    body = {"micro_credential": world.mc.slug, "name": "Ada", "email": "ada@example.org"}
    response = client.post(
        f"/api/v1/issuers/{world.issuer.slug}/credentials",
        json=body | fields,
        headers=_auth(world),
    )
    assert response.status_code == 422, response.text
    assert field in response.text
    assert session.exec(select(IssuedCredential)).all() == []


def test_jwt_credential_verifies(client: TestClient, world: World) -> None:
    """ES256 by default, for a did:key issuer too: with its P-256 key, whose did:key
    (did:key:zDn…) the kid names."""
    token = _issue(client, world, format="jwt", did="did:example:ada")["credential"]
    header, payload = vc_jwt.decode_unverified(token)
    assert header["alg"] == "ES256" and header["kid"].startswith("did:key:zDn")
    _, public_key = resolve_did_key(header["kid"])
    verified = vc_jwt.verify(token, public_key)
    assert verified["iss"] == world.issuer.did
    assert verified["sub"] == "did:example:ada"
    assert verified["jti"] == payload["id"]
    assert "vc" not in verified
    jwks = client.get("/.well-known/jwks.json").json()
    assert header["kid"] in {k["kid"] for k in jwks["keys"]}
    # This deployment's verifier ties that key to the issuer (its records say whose it is).
    report = client.post("/api/v1/verify", content=token, headers={"content-type": "text/plain"})
    checks = {c["id"]: c for c in report.json()["checks"]}
    assert report.json()["verdict"] == "valid", checks
    assert "a key this deployment holds for the issuer" in checks["issuer_key"]["message"]


def test_jwt_eddsa_by_option(settings: Settings, engine: Engine, world: World) -> None:
    eddsa = settings.model_copy(update={"jwt_algorithm": "EdDSA"})
    with TestClient(create_app(eddsa, engine=engine)) as client:
        token = _issue(client, world, format="jwt")["credential"]
        header, _ = vc_jwt.decode_unverified(token)
        assert (header["alg"], header["kid"]) == (
            "EdDSA",
            world.issuer.did + "#" + world.issuer.did[8:],
        )
        report = client.post(
            "/api/v1/verify", content=token, headers={"content-type": "text/plain"}
        )
    assert report.json()["verdict"] == "valid"


def test_signed_text_is_stored_verbatim(client: TestClient, world: World, session: Session) -> None:
    out = _issue(client, world)
    record = session.exec(select(IssuedCredential).where(IssuedCredential.uuid == out["id"])).one()
    assert json.loads(record.signed) == out["credential"]
    again = client.get(f"/api/v1/credentials/{out['id']}", headers=_auth(world)).json()
    assert again["credential"] == out["credential"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"name": "  "}, "name"),
        ({"did": "mailto:x"}, "did"),
        ({"evidence_url": "javascript:alert(1)"}, "evidence_url"),
    ],
)
def test_bad_recipient_is_422_and_writes_nothing(
    client: TestClient, world: World, session: Session, fields: dict, field: str
) -> None:
    body = {"micro_credential": world.mc.slug, "name": "Ada", "email": "ada@example.org"} | fields
    response = client.post(
        f"/api/v1/issuers/{world.issuer.slug}/credentials", json=body, headers=_auth(world)
    )
    assert response.status_code == 422
    assert response.json()["error"]["message"].startswith(field)
    assert session.exec(select(IssuedCredential)).all() == []
    assert session.exec(select(StatusAllocation)).all() == []


def test_unknown_micro_credential_is_404(client: TestClient, world: World) -> None:
    body = {"micro_credential": "nope", "name": "Ada", "email": "ada@example.org"}
    response = client.post(
        f"/api/v1/issuers/{world.issuer.slug}/credentials", json=body, headers=_auth(world)
    )
    assert response.status_code == 404


def test_other_organisation_cannot_issue(
    client: TestClient, world: World, session: Session, master_key: str
) -> None:
    other = make_world(session, master_key, slug="otherco")
    response = client.post(
        f"/api/v1/issuers/{world.issuer.slug}/credentials",
        json={"micro_credential": world.mc.slug, "name": "A", "email": "a@example.org"},
        headers=_auth(other),
    )
    assert response.status_code == 403
    # Nor may an issuer award another provider's micro-credential.
    response = client.post(
        f"/api/v1/issuers/{other.issuer.slug}/credentials",
        json={"micro_credential": world.mc.slug, "name": "A", "email": "a@example.org"},
        headers=_auth(other),
    )
    assert response.status_code == 403


def test_another_organisations_credential_is_answered_as_unknown(
    client: TestClient, world: World, session: Session, master_key: str
) -> None:
    """A 403 would tell a stranger that the id exists: it is the same 404 as an unknown id."""
    out = _issue(client, world)
    other = make_world(session, master_key, slug="otherco")
    unknown_id = "00000000-0000-4000-8000-000000000000"
    foreign = client.get(f"/api/v1/credentials/{out['id']}", headers=_auth(other))
    unknown = client.get(f"/api/v1/credentials/{unknown_id}", headers=_auth(other))
    assert foreign.status_code == unknown.status_code == 404
    assert foreign.json() == {
        "error": {"code": "not_found", "message": f"credential {out['id']!r} does not exist"}
    }
    assert unknown.json()["error"]["message"] == f"credential {unknown_id!r} does not exist"
    assert client.get(f"/api/v1/credentials/{out['id']}", headers=_auth(world)).status_code == 200


def test_duplicate_external_id_issues_nothing_twice(
    client: TestClient, world: World, session: Session
) -> None:
    first = _issue(client, world, external_id="enrol-1")
    body = {
        "micro_credential": world.mc.slug,
        "name": " Ada  Lovelace",  # spacing and case are not another award
        "email": "ada@example.org",
        "external_id": "enrol-1",
    }
    path = f"/api/v1/issuers/{world.issuer.slug}/credentials"
    # The same award again (a retry): the first credential, answered 200, nothing new.
    again = client.post(path, json=body, headers=_auth(world))
    assert again.status_code == 200, again.text
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["id"] == first["id"]
    # Another award under the same external id is a conflict naming the first.
    response = client.post(path, json=body | {"grade": "B"}, headers=_auth(world))
    assert response.status_code == 409
    assert response.json()["error"]["details"]["credential"] == first["id"]
    assert len(session.exec(select(IssuedCredential)).all()) == 1


def test_undefined_term_in_evidence_is_refused(world: World, session: Session) -> None:
    """An undefined JSON-LD term must be an error, never silently left unsigned."""
    credential = issuing.build_credential(
        session,
        credential_uuid="00000000-0000-4000-8000-000000000000",
        issuer=world.issuer,
        org=world.org,
        mc=world.mc,
        recipient=issuing.check_recipient(issuing.Recipient("Ada", "ada@example.org")),
        salt="00",
        valid_from=world.issuer.created_at,
        urls=issuing.Urls("http://testserver"),
    )
    credential["evidence"] = [{"id": "https://e.example/1", "type": ["Evidence"], "foo": "bar"}]
    with pytest.raises(InvalidInput, match="foo"):
        issuing.sign(session, world.master_key, world.issuer, credential, "ldp")


def test_bulk_csv_good_rows_issue_bad_row_reported(
    client: TestClient, world: World, session: Session
) -> None:
    csv_text = (
        "name,email,external_id,grade\n"
        "Ada,ada@example.org,e1,A\n"
        "Bob,not-an-email,e2,B\n"
        "Cy,cy@example.org,e3,\n"
    )
    response = client.post(
        f"/api/v1/issuers/{world.issuer.slug}/credentials/bulk",
        params={"micro_credential": world.mc.slug},
        content=csv_text,
        headers=_auth(world) | {"content-type": "text/csv"},
    )
    assert response.status_code == 202, response.text
    job = client.get(response.json()["href"], headers=_auth(world)).json()
    assert job["status"] == "done"
    assert (job["issued"], job["failed"], job["total"]) == (2, 1, 3)
    bad = next(r for r in job["rows"] if r["status"] == "failed")
    assert bad["line"] == 3 and "email" in bad["error"]
    # Rerunning the same file issues nobody twice.
    again = client.post(
        f"/api/v1/issuers/{world.issuer.slug}/credentials/bulk",
        params={"micro_credential": world.mc.slug},
        content=csv_text,
        headers=_auth(world) | {"content-type": "text/csv"},
    )
    job2 = client.get(again.json()["href"], headers=_auth(world)).json()
    assert (job2["issued"], job2["duplicates"], job2["failed"]) == (0, 2, 1)
    assert len(session.exec(select(IssuedCredential)).all()) == 2


def test_bulk_csv_with_given_and_family_name_columns(
    client: TestClient, world: World, session: Session
) -> None:
    csv_text = (
        "given_name,family_name,email,contact_consent\n"
        "Ada,Lovelace,ada@example.org,yes\n"
        ",,bob@example.org,\n"
        "Cy,Young,cy@example.org,maybe\n"
        "Di,Ng,di@example.org,\n"
    )
    response = client.post(
        f"/api/v1/issuers/{world.issuer.slug}/credentials/bulk",
        params={"micro_credential": world.mc.slug},
        content=csv_text,
        headers=_auth(world) | {"content-type": "text/csv"},
    )
    assert response.status_code == 202, response.text
    job = client.get(response.json()["href"], headers=_auth(world)).json()
    assert (job["issued"], job["failed"]) == (2, 2)
    errors = {r["line"]: r["error"] for r in job["rows"] if r["status"] == "failed"}
    assert "name" in errors[3] and "contact_consent: answer yes or no" in errors[4]
    ada, di = session.exec(select(IssuedCredential).order_by(col(IssuedCredential.id))).all()
    assert (ada.recipient_name, ada.recipient_given_name, ada.recipient_family_name) == (
        "Ada Lovelace",
        "Ada",
        "Lovelace",
    )
    assert ada.recipient_contact_consent and not di.recipient_contact_consent


def test_bulk_rejects_malformed_json_and_wrong_type(client: TestClient, world: World) -> None:
    url = f"/api/v1/issuers/{world.issuer.slug}/credentials/bulk"
    params = {"micro_credential": world.mc.slug}
    bad_json = client.post(
        url,
        params=params,
        content=b"[{",
        headers=_auth(world) | {"content-type": "application/json"},
    )
    assert bad_json.status_code == 422 and "malformed JSON" in bad_json.json()["error"]["message"]
    wrong = client.post(
        url, params=params, content=b"x", headers=_auth(world) | {"content-type": "text/xml"}
    )
    assert wrong.status_code == 415


def test_bulk_rejects_malformed_csv(client: TestClient, world: World) -> None:
    oversized = 'name,email\n"' + "a" * 200_000 + '",ada@example.org\n'
    response = client.post(
        f"/api/v1/issuers/{world.issuer.slug}/credentials/bulk",
        params={"micro_credential": world.mc.slug},
        content=oversized.encode(),
        headers=_auth(world) | {"content-type": "text/csv"},
    )
    assert response.status_code == 422
    assert response.json()["error"]["message"].startswith("malformed CSV at line 2")


def test_service_errors_are_domain_errors(world: World, session: Session) -> None:
    with pytest.raises(NotFound):
        micro_credentials.get_micro_credential(session, "missing")
    with pytest.raises(DomainError):
        issuing.issue(
            session,
            world.master_key,
            issuer=world.issuer,
            micro_credential=world.mc,
            recipient=issuing.Recipient("Ada", "ada@example.org"),
            base_url="http://testserver",
            fmt="xml",
        )
