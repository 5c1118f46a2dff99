"""Skill labels for verification reports, in a language or the primary ones, cached across
requests until the skill or skill_label table changes, in this process or any other (the
change counter the database's triggers bump)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from catalogue import skills
from catalogue.base import pk
from catalogue.models import Skill, SkillLabel
from skillshub.db import make_engine

IRI = "http://data.europa.eu/esco/skill/labels-test-1"
OTHER = "http://data.europa.eu/esco/skill/labels-test-2"


def _add(session: Session, iri: str, label: str, slug: str) -> None:
    session.add(Skill(iri=iri, slug=slug, preferred_label=label))
    session.commit()


def test_labels_are_read_once_then_served_from_the_cache(
    session: Session, statements: list[str]
) -> None:
    _add(session, IRI, "Assemble batteries", "assemble-batteries")
    unknown = "https://example.org/not-in-the-catalogue"
    assert skills.skill_labels(session, [IRI, unknown]) == {IRI: "Assemble batteries"}
    statements.clear()
    assert skills.skill_labels(session, [IRI, unknown, IRI]) == {IRI: "Assemble batteries"}
    # Only the change counter is read: the label and the miss both come from the cache.
    assert len(statements) == 1
    assert "catalogue_version" in statements[0]


def test_a_change_made_by_another_process_is_seen(session: Session, db_url: str) -> None:
    _add(session, IRI, "Assemble batteries", "assemble-batteries")
    assert skills.skill_labels(session, [IRI, OTHER]) == {IRI: "Assemble batteries"}
    session.commit()
    # Another process: its own engine, its own (empty) caches; it writes, we must notice.
    other = make_engine(db_url)
    try:
        with Session(other) as theirs:
            skill = theirs.exec(select(Skill).where(Skill.iri == IRI)).one()
            skill.preferred_label = "Assemble battery packs"
            theirs.add(skill)
            theirs.add(Skill(iri=OTHER, slug="test-cells", preferred_label="Test cells"))
            theirs.commit()
    finally:
        other.dispose()
    assert skills.skill_labels(session, [IRI, OTHER]) == {
        IRI: "Assemble battery packs",
        OTHER: "Test cells",
    }
    session.commit()
    session.connection().execute(text("DELETE FROM skill WHERE iri = :iri").bindparams(iri=IRI))
    session.commit()
    assert skills.skill_labels(session, [IRI, OTHER]) == {OTHER: "Test cells"}


def test_the_cache_is_bounded(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    _add(session, IRI, "Assemble batteries", "assemble-batteries")
    skills.skill_labels(session, [IRI])
    cache = skills._label_cache(session)
    hostile = [f"https://example.org/skill/{n}" for n in range(skills._LABEL_CACHE_SIZE + 100)]
    skills.skill_labels(session, hostile)
    assert len(cache.labels) <= skills._LABEL_CACHE_SIZE


def _label(session: Session, iri: str, language: str, label: str) -> None:
    skill = session.exec(select(Skill).where(Skill.iri == iri)).one()
    session.add(SkillLabel(skill_id=pk(skill), language=language, preferred_label=label))
    session.commit()


def test_labels_are_kept_per_language(session: Session, statements: list[str]) -> None:
    _add(session, IRI, "Assemble batteries", "assemble-batteries")
    _add(session, OTHER, "Test cells", "test-cells")
    _label(session, IRI, "de", "Batterien montieren")
    assert skills.skill_labels(session, [IRI, OTHER], "de") == {
        IRI: "Batterien montieren",
        OTHER: "Test cells",  # no German label: the primary one
    }
    assert skills.skill_labels(session, [IRI, OTHER]) == {
        IRI: "Assemble batteries",
        OTHER: "Test cells",
    }
    statements.clear()
    assert skills.skill_labels(session, [IRI], "de") == {IRI: "Batterien montieren"}
    assert skills.skill_labels(session, [IRI]) == {IRI: "Assemble batteries"}
    assert all("catalogue_version" in s for s in statements if s != "BEGIN")


def test_a_label_written_on_its_own_is_seen(session: Session, db_url: str) -> None:
    """An ESCO import of one more language may write skill_label rows and leave every skill
    row as it was: its triggers move the counter too."""
    _add(session, IRI, "Assemble batteries", "assemble-batteries")
    assert skills.skill_labels(session, [IRI], "de") == {IRI: "Assemble batteries"}
    session.commit()
    other = make_engine(db_url)
    try:
        with Session(other) as theirs:
            skill = theirs.exec(select(Skill).where(Skill.iri == IRI)).one()
            theirs.add(SkillLabel(skill_id=pk(skill), language="de", preferred_label="Montieren"))
            theirs.commit()
        assert skills.skill_labels(session, [IRI], "de") == {IRI: "Montieren"}
        session.commit()
        with Session(other) as theirs:
            theirs.connection().execute(
                text("UPDATE skill_label SET preferred_label = 'Batterien montieren'")
            )
            theirs.commit()
        assert skills.skill_labels(session, [IRI], "de") == {IRI: "Batterien montieren"}
        session.commit()
        with Session(other) as theirs:
            theirs.connection().execute(text("DELETE FROM skill_label"))
            theirs.commit()
    finally:
        other.dispose()
    assert skills.skill_labels(session, [IRI], "de") == {IRI: "Assemble batteries"}
