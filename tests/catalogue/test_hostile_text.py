"""Catalogue text from outside: single-line fields refuse line breaks and controls, multi-line
fields take LF and TAB, nothing takes NUL or a lone surrogate. API, JSON import, ESCO import."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy.engine import Engine
from sqlmodel import Session

from badges.issuing import create_issuer
from catalogue.errors import InvalidInput
from catalogue.esco import import_esco
from catalogue.organisations import create_organisation
from catalogue.schemas import MicroCredentialIn
from keys.sealing import MasterKey
from skillshub.db import session_scope
from tests.support.catalogue import bearer, course_payload, micro_credential_payload, provider_token

COURSE = "thermal-management-of-battery-packs"
MC = "thermal-management-basics"


def _send(client: TestClient, method: str, url: str, token: str, body: Any) -> Any:
    # json.dumps escapes a lone surrogate as "\ud800", as a hostile client would send it.
    return client.request(
        method,
        url,
        content=json.dumps(body),
        headers=bearer(token) | {"content-type": "application/json"},
    )


@pytest.fixture
def token(client: TestClient, session: Session, demo: dict) -> str:
    token = provider_token(session, "thermo-academy")
    response = client.post("/api/v1/courses", json=course_payload(), headers=bearer(token))
    assert response.status_code == 201, response.text
    return token


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"title": "\ud800"}, "title: holds a lone surrogate (U+D800)"),
        ({"title": "Basics\r\nBcc: x@example.org"}, "title: must be a single line"),
        ({"title": "Basics\u2028more"}, "title: must be a single line"),
        ({"slug": "a\x00b"}, "slug: holds a control character (U+0000)"),
        ({"description": "fine\nlines\x0b"}, "description: holds a control"),
        ({"criteria_narrative": "\udfff"}, "criteria_narrative: holds a lone"),
        (
            {"learning_outcomes": [{"text": "x\x1b[31m"}]},
            "learning_outcomes.1.text: holds a control character (U+001B)",
        ),
        ({"languages": ["en\t"]}, "languages.1: holds a control character"),
    ],
)
def test_micro_credential_text_is_checked(
    client: TestClient, token: str, changes: dict[str, Any], problem: str
) -> None:
    body = micro_credential_payload(COURSE, **changes)
    created = _send(client, "POST", "/api/v1/micro-credentials", token, body)
    assert created.status_code == 422, created.text
    assert problem in created.json()["error"]["message"]
    assert client.get(f"/api/v1/micro-credentials/{MC}").status_code == 404
    valid = _send(
        client, "POST", "/api/v1/micro-credentials", token, micro_credential_payload(COURSE)
    )
    assert valid.status_code == 201, valid.text
    for method in ("PUT", "PATCH"):
        changed = body if method == "PUT" else changes
        response = _send(client, method, f"/api/v1/micro-credentials/{MC}", token, changed)
        assert response.status_code == 422, (method, response.text)


def test_multi_line_fields_keep_line_feeds_and_tabs(client: TestClient, token: str) -> None:
    body = micro_credential_payload(
        COURSE, description="First line\r\nsecond\tline", prerequisites="a\nb"
    )
    created = _send(client, "POST", "/api/v1/micro-credentials", token, body)
    assert created.status_code == 201, created.text
    assert created.json()["description"] == "First line\nsecond\tline"
    assert created.json()["prerequisites"] == "a\nb"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": "Thermal\ud800"}, "title"),
        ({"description": "\x00"}, "description"),
        ({"region": "Bavaria\n"}, "region"),
        ({"url": "https://a.example/\r\nX: y"}, "url"),
        ({"price": {"amount": "1", "currency": "EUR\x85"}}, "price.currency"),
    ],
)
def test_course_text_is_checked(
    client: TestClient, token: str, changes: dict[str, Any], field: str
) -> None:
    response = _send(client, "POST", "/api/v1/courses", token, course_payload(slug="c2", **changes))
    assert response.status_code == 422, response.text
    message = response.json()["error"]["message"]
    assert re.fullmatch(rf"{re.escape(field)}: (holds|must be a single line) .+", message), message
    patched = _send(client, "PATCH", f"/api/v1/courses/{COURSE}", token, changes)
    assert patched.status_code == 422, patched.text


def test_catalogue_import_refuses_a_lone_surrogate(client: TestClient, token: str) -> None:
    document = client.get("/api/v1/catalogue/export", headers=bearer(token)).json()
    before = json.dumps(document)
    document["courses"][0]["title"] = "\ud800"
    response = _send(client, "POST", "/api/v1/catalogue/import", token, document)
    assert response.status_code == 422, response.text
    assert "lone surrogate" in response.json()["error"]["message"]
    after = client.get("/api/v1/catalogue/export", headers=bearer(token)).json()
    assert json.dumps(after) == before


def test_the_schema_covers_every_caller() -> None:
    # The CLI and the JSON import build the same model: no route is needed to refuse it.
    with pytest.raises(ValidationError, match="single line"):
        MicroCredentialIn.model_validate(micro_credential_payload(COURSE, title="a\rb"))


def test_esco_rows_with_control_characters_are_reported(engine: Engine, tmp_path: Path) -> None:
    skill = "http://data.europa.eu/esco/skill/"
    header = "conceptType,conceptUri,skillType,reuseLevel,preferredLabel,altLabels,description\n"
    rows = [
        f'KnowledgeSkillCompetence,{skill}a1,skill/competence,transversal,good,"x\ny",ok\n',
        f"KnowledgeSkillCompetence,{skill}a2,skill/competence,transversal,bad\x00nul,,\n",
        f'KnowledgeSkillCompetence,{skill}a3,skill/competence,transversal,"two\nlines",,\n',
        f"KnowledgeSkillCompetence,{skill}a4,skill/competence,transversal,esc,,\x1b[2J\n",
    ]
    (tmp_path / "skills_en.csv").write_text(header + "".join(rows), encoding="utf-8")
    with session_scope(engine) as session:
        report = import_esco(session, tmp_path)
    problems = {p.line: p.message for p in report.problems}
    assert problems == {
        4: "preferredLabel holds a control character (U+0000)",
        5: "preferredLabel must be a single line (it holds a line break, U+000A)",
        7: "description holds a control character (U+001B)",
    }
    assert report.skills.inserted == 1


def test_organisations_and_issuers_refuse_control_characters(
    session: Session, master_key: str
) -> None:
    # Made by the CLI, without a schema: the service checks the text itself.
    with pytest.raises(InvalidInput, match="legal_name: must be a single line"):
        create_organisation(session, legal_name="Volt\r\nBcc: x", country="DE")
    org = create_organisation(session, legal_name="Volt GmbH", country="DE")
    with pytest.raises(InvalidInput, match="name: holds a lone surrogate"):
        create_issuer(
            session,
            MasterKey(master_key),
            organisation=org,
            name="\ud800",
            slug="volt",
            base_url="http://testserver",
            public_https=False,
        )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        # SQLite cannot hold 10**30 (an OverflowError, a 500); a smaller one overflowed the
        # date arithmetic of issuing.
        ({"valid_for_months": 10**30}, "valid_for_months: must be at most 1200"),
        (
            {"valid_for_months": None, "valid_for_days": 10**9},
            "valid_for_days: must be at most 36525",
        ),
        ({"ects": 1e308}, "ects: must be at most 1000000"),
        ({"workload_hours": 1e300}, "workload_hours: must be at most 1000000"),
    ],
)
def test_numbers_past_any_sense_are_refused(
    client: TestClient, token: str, changes: dict[str, Any], message: str
) -> None:
    body = micro_credential_payload(COURSE, **changes)
    response = _send(client, "POST", "/api/v1/micro-credentials", token, body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["message"] == message
