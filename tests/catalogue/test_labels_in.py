"""A skill's label in a language: the catalogue's own label in that language where it holds
one (`SkillLabel`), else the primary label; one query however many skills are asked for."""

from __future__ import annotations

from sqlmodel import Session

from catalogue import skills
from catalogue.base import pk
from catalogue.models import Skill, SkillLabel

BATTERIES = "http://data.europa.eu/esco/skill/labels-in-1"
CELLS = "http://data.europa.eu/esco/skill/labels-in-2"


def _skill(session: Session, iri: str, slug: str, label: str, **labels: str) -> Skill:
    skill = Skill(iri=iri, slug=slug, preferred_label=label)
    session.add(skill)
    session.flush()
    for language, text in labels.items():
        session.add(SkillLabel(skill_id=pk(skill), language=language, preferred_label=text))
    session.commit()
    return skill


def test_the_label_in_the_language_asked_for_else_the_primary_one(session: Session) -> None:
    _skill(session, BATTERIES, "batteries", "Assemble batteries", de="Batterien montieren")
    _skill(session, CELLS, "cells", "Test cells", fr="Tester des cellules")
    unknown = "https://example.org/not-in-the-catalogue"
    asked = [BATTERIES, CELLS, unknown, BATTERIES]
    assert skills.labels_in(session, asked, "de") == {
        BATTERIES: "Batterien montieren",
        CELLS: "Test cells",
    }
    assert skills.labels_in(session, asked, "fr") == {
        BATTERIES: "Assemble batteries",
        CELLS: "Tester des cellules",
    }
    assert skills.labels_in(session, asked, "en") == {
        BATTERIES: "Assemble batteries",
        CELLS: "Test cells",
    }
    assert skills.labels_in(session, [], "de") == {}


def test_one_query_for_many_skills(session: Session, statements: list[str]) -> None:
    iris = [f"https://example.org/skill/many-{n}" for n in range(60)]
    for n, iri in enumerate(iris):
        extra = {"de": f"Fähigkeit {n}"} if n % 2 else {}
        _skill(session, iri, f"many-{n}", f"Skill {n}", **extra)
    statements.clear()
    found = skills.labels_in(session, iris, "de")
    assert [s for s in statements if s != "BEGIN"] == [statements[-1]]
    assert statements[-1].startswith("SELECT")
    assert found[iris[0]] == "Skill 0"
    assert found[iris[1]] == "Fähigkeit 1"
    assert len(found) == 60
