"""Skill labels for verification reports, cached across requests until the skill table
changes, in this process or any other (the change counter the database's triggers bump)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from catalogue import skills
from catalogue.models import Skill
from skillshub.db import make_engine

IRI = "http://data.europa.eu/esco/skill/labels-test-1"
OTHER = "http://data.europa.eu/esco/skill/labels-test-2"


@pytest.fixture
def statements(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


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
