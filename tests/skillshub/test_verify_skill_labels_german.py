"""The verify page's skills in the page's language: the catalogue's German label where it
holds one, else its primary label; the JSON API's report keeps the primary label."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from catalogue.base import pk
from catalogue.models import Skill, SkillLabel
from skillshub.settings import Settings
from skillshub.web.app import create_app
from tests.support.own import ESCO_SKILL, Signer, credential

ENGLISH = "maintain batteries"
GERMAN = "Batterien warten"


@pytest.fixture
def web(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    offline = settings.model_copy(update={"fetch_offline": True})
    with TestClient(create_app(offline, engine=engine)) as client:
        yield client


@pytest.fixture(scope="module")
def signed() -> dict[str, Any]:
    signer = Signer.ed25519()
    return signer.data_integrity(credential(signer.did))


def _skill(session: Session, *, german: bool) -> None:
    skill = Skill(iri=ESCO_SKILL, slug="maintain-batteries", preferred_label=ENGLISH)
    session.add(skill)
    session.flush()
    if german:
        session.add(SkillLabel(skill_id=pk(skill), language="de", preferred_label=GERMAN))
    session.commit()


def _page(web: TestClient, signed: dict[str, Any], language: str) -> str:
    response = web.post(f"/verify?lang={language}", data={"credential": json.dumps(signed)})
    assert response.status_code == 200, response.text[:500]
    assert f'<html lang="{language}">' in response.text
    return response.text


def _shown(page: str, label: str) -> bool:
    return f'rel="nofollow noopener noreferrer">{label}</a>' in page


def test_the_verify_page_shows_the_german_label_on_german_pages(
    web: TestClient, session: Session, signed: dict[str, Any]
) -> None:
    _skill(session, german=True)
    english, german = _page(web, signed, "en"), _page(web, signed, "de")
    assert _shown(english, ENGLISH) and GERMAN not in english
    assert _shown(german, GERMAN) and not _shown(german, ENGLISH)
    # Asked again: the labels now come from the cache, each language its own.
    assert _shown(_page(web, signed, "de"), GERMAN)
    assert _shown(_page(web, signed, "en"), ENGLISH)
    # The JSON report keeps the primary label, whatever language the client prefers.
    for headers in ({}, {"accept-language": "de"}):
        response = web.post("/api/v1/verify?lang=de", json=signed, headers=headers)
        assert response.status_code == 200
        [skill] = response.json()["summary"]["skills"]
        assert skill["catalogue_label"] == ENGLISH


def test_without_a_german_label_the_german_page_shows_the_primary_one(
    web: TestClient, session: Session, signed: dict[str, Any]
) -> None:
    _skill(session, german=False)
    assert _shown(_page(web, signed, "de"), ENGLISH)
