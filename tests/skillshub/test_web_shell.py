"""The app shell: health, docs, JSON errors, token auth, body size cap."""

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from catalogue.base import pk
from catalogue.organisations import create_organisation
from keys.models import ApiToken
from keys.tokens import create_token


def _org_with_token(session: Session, slug: str) -> str:
    org = create_organisation(session, legal_name=f"{slug} GmbH", country="DE", slug=slug)
    token, _ = create_token(session, pk(org))
    session.commit()
    return token


def test_healthz_and_docs(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    docs = client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    assert client.get("/openapi.json").json()["info"]["title"] == "Skills Hub"


def test_home_page_renders(client: TestClient) -> None:
    page = client.get("/", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert "<title>Home · Skills Hub</title>" in page.text


def test_unknown_route_is_json_error(client: TestClient) -> None:
    response = client.get("/api/v1/nope")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_token_missing_wrong_and_right(client: TestClient, session: Session) -> None:
    token = _org_with_token(session, "acme")
    missing = client.get("/api/v1/organisations/me")
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "unauthorized"
    wrong = client.get("/api/v1/organisations/me", headers={"authorization": "Bearer shub_nope"})
    assert wrong.status_code == 401
    right = client.get("/api/v1/organisations/me", headers={"authorization": f"Bearer {token}"})
    assert right.status_code == 200 and right.json()["slug"] == "acme"


def test_token_is_stored_only_as_hash(session: Session) -> None:
    token = _org_with_token(session, "hashco")
    rows = session.exec(select(ApiToken)).all()
    assert len(rows) == 1
    stored = " ".join(str(v) for v in rows[0].model_dump().values())
    assert token not in stored and token[len("shub_") + 6 :] not in stored


def test_revoked_token_is_refused(client: TestClient, session: Session) -> None:
    from keys.tokens import revoke_token

    token = _org_with_token(session, "rev")
    record = session.exec(select(ApiToken)).one()
    revoke_token(session, pk(record), record.organisation_id)
    session.commit()
    response = client.get("/api/v1/organisations/me", headers={"authorization": f"Bearer {token}"})
    assert response.status_code == 401


def test_oversized_body_is_413(client: TestClient, settings) -> None:
    body = b"x" * (settings.max_upload_bytes + 1)
    response = client.post("/api/v1/organisations", content=body)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_public_read_needs_no_token(client: TestClient, session: Session) -> None:
    _org_with_token(session, "pub")
    response = client.get("/api/v1/organisations/pub")
    assert response.status_code == 200 and response.json()["legal_name"] == "pub GmbH"
    assert client.get("/api/v1/organisations/none").status_code == 404


def test_bad_verifier_files_fail_at_start_up(settings, engine, tmp_path) -> None:
    import pytest

    from skillshub.verifier import VerifierSettingsError
    from skillshub.web.app import create_app

    broken = tmp_path / "pinned.json"
    broken.write_text('{"did:web:x.example": "missing.json"}')
    for update in ({"pinned_documents": broken}, {"seal_trust_anchors": tmp_path / "none.pem"}):
        with (
            pytest.raises(VerifierSettingsError, match="SKILLSHUB_"),
            TestClient(create_app(settings.model_copy(update=update), engine=engine)),
        ):
            pass
