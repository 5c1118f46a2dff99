"""Skill labels in the page's language: on German pages a skill is labelled with the
catalogue's German label where it holds one (else its primary, English, label), its link
unchanged; English pages are byte for byte what they were before any German label existed."""

from __future__ import annotations

import html
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from catalogue import skills
from catalogue.base import pk
from catalogue.demo import SKILL_IRIS, load_demo_catalogue
from catalogue.models import Skill, SkillLabel

HTML = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
ROLE = "battery-system-engineer"
MC = "battery-cell-specialist"
GERMAN = "Batteriedesign"


@pytest.fixture
def demo(session: Session) -> None:
    load_demo_catalogue(session)
    session.commit()


def _design(session: Session) -> Skill:
    return skills.get_skill(session, SKILL_IRIS["battery design"])


def _label_in_german(session: Session) -> Skill:
    skill = _design(session)
    session.add(
        SkillLabel(
            skill_id=pk(skill),
            language="de",
            preferred_label=GERMAN,
            alt_labels="Batterieentwicklung\nBatterieauslegung",
        )
    )
    session.commit()
    return skill


def _urls(session: Session) -> dict[str, str]:
    skill = _design(session)
    course = skills.courses_teaching(session, [skill.iri])[0]
    gap = urlencode([("job_role", ROLE), ("show", "1")])
    return {
        "job role": f"/job-roles/{ROLE}",
        "course": f"/courses/{course.slug}",
        "micro-credential": f"/micro-credentials/{MC}",
        "gap": f"/gap?{gap}",
        "skill": f"/skills/{skill.slug}",
    }


def _get(client: TestClient, url: str, language: str) -> str:
    joiner = "&" if "?" in url else "?"
    response = client.get(f"{url}{joiner}lang={language}", headers=HTML)
    assert response.status_code == 200, response.text[:500]
    assert f'<html lang="{language}">' in response.text
    return response.text


def _link(slug: str, label: str) -> str:
    """How a list shows a skill: a link to its page (a tag may add its level after a ` · `)."""
    return f'href="/skills/{slug}">{html.escape(label)}'


def test_english_pages_are_unchanged_by_a_german_label(
    client: TestClient, session: Session, demo: None
) -> None:
    urls = _urls(session)
    before = {name: _get(client, url, "en") for name, url in urls.items()}
    _label_in_german(session)
    after = {name: _get(client, url, "en") for name, url in urls.items()}
    for name in urls:
        if name == "skill":  # its table of labels in other languages gains the German one
            continue
        assert after[name] == before[name], name
        assert GERMAN not in after[name], name
    assert f"<h1>{_design(session).preferred_label}</h1>" in after["skill"]


def test_german_pages_show_the_german_label_where_the_catalogue_holds_one(
    client: TestClient, session: Session, demo: None
) -> None:
    skill = _label_in_german(session)
    other = skills.get_skill(session, SKILL_IRIS["battery chemistry"])  # no German label
    urls = _urls(session)
    for name, url in urls.items():
        german = _get(client, url, "de")
        english = _get(client, url, "en")
        if name == "skill":
            assert f"<h1>{GERMAN}</h1>" in german and f"<title>{GERMAN}" in german
            assert "Batterieentwicklung, Batterieauslegung</dd>" in german
            assert f"<h1>{skill.preferred_label}</h1>" in english
            continue
        # The same link, labelled in German on the German page only.
        assert _link(skill.slug, GERMAN) in german, name
        assert _link(skill.slug, skill.preferred_label) not in german, name
        assert _link(skill.slug, skill.preferred_label) in english, name
        assert GERMAN not in english, name
        # A skill the catalogue holds no German label for keeps its English one.
        if name != "micro-credential":
            assert _link(other.slug, other.preferred_label) in german, name


def test_a_skill_without_a_german_label_keeps_its_english_heading(
    client: TestClient, session: Session, demo: None
) -> None:
    _label_in_german(session)
    other = skills.get_skill(session, SKILL_IRIS["battery chemistry"])
    german = _get(client, f"/skills/{other.slug}", "de")
    assert f"<h1>{other.preferred_label}</h1>" in german
    assert GERMAN not in german


def test_german_labels_cost_one_query_per_page(
    client: TestClient, session: Session, demo: None, statements: list[str]
) -> None:
    _label_in_german(session)
    counts: dict[str, int] = {}
    for language in ("en", "de"):
        statements.clear()
        _get(client, f"/job-roles/{ROLE}", language)
        counts[language] = sum(1 for s in statements if s.lstrip().upper().startswith("SELECT"))
    role = skills.job_role_view(session, skills.get_job_role(session, ROLE))
    assert len(role.skills) > 10  # many skills, and courses teaching them
    assert counts["de"] == counts["en"] + 1
