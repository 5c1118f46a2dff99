"""Bounded verification over HTTP, on both databases: the hostile credential is answered
with a verdict naming the cap, and the skills gap spends one budget on all its credentials."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from catalogue.demo import load_demo_catalogue
from catalogue.models import JobRole
from skillshub.settings import Settings
from skillshub.web.app import create_app
from tests.badges.verifying.test_verify_bounds import HOSTILE_PROOFS, hostile
from tests.support.own import Signer, credential
from tests.support.present import present


def _client(settings: Settings, engine: Engine, **changes: object) -> Iterator[TestClient]:
    changed = settings.model_copy(update={"fetch_offline": True, **changes})
    with TestClient(create_app(changed, engine=engine)) as client:
        yield client


@pytest.fixture
def web(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    yield from _client(settings, engine)


def test_the_hostile_credential_is_answered_with_the_cap(web: TestClient) -> None:
    response = web.post("/api/v1/verify", json=hostile(Signer.ed25519()))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["verdict"] == "indeterminate"
    proof = next(c for c in body["checks"] if c["id"] == "proof")
    assert f"carries {HOSTILE_PROOFS} proofs, more than the 8" in proof["message"]


def test_the_caps_are_settings(settings: Settings, engine: Engine) -> None:
    signer = Signer.ed25519()
    signed = signer.data_integrity(credential(signer.did))
    signed["proof"] = [signed["proof"], signed["proof"]]
    for client in _client(settings, engine, verify_max_proofs=1):
        body = client.post("/api/v1/verify", json=signed).json()
        assert body["verdict"] == "indeterminate"
        proof = next(c for c in body["checks"] if c["id"] == "proof")
        assert "more than the 1 this verifier checks" in proof["message"]


def test_the_gap_spends_one_budget(settings: Settings, engine: Engine, session: Session) -> None:
    load_demo_catalogue(session)
    session.commit()
    role = present(session.exec(select(JobRole).order_by(col(JobRole.id))).first())
    assert role is not None
    signer = Signer.ed25519()
    badges = [signer.data_integrity(credential(signer.did)) for _ in range(20)]
    # A budget spent before the first check: every credential is stopped at once, named.
    for client in _client(settings, engine, verify_budget_seconds=1e-9):
        response = client.post("/api/v1/gap", json={"job_role": role.slug, "credentials": badges})
        assert response.status_code == 200, response.text
        held = response.json()["credentials"]
        assert [h["verdict"] for h in held] == ["indeterminate"] * 20
        assert all("time budget" in h["reason"] for h in held)
