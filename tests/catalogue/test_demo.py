"""The demo catalogue: real ESCO concepts, complete micro-credentials, idempotent loading."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session, col
from sqlmodel import select as sql_select

from catalogue import micro_credentials
from catalogue.demo import MICRO_CREDENTIALS, SKILLS, load_demo_catalogue
from catalogue.models import Course
from skillshub.models import metadata
from tests.support.reference import reference

CATALOGUE_TABLES = [
    t
    for t in metadata.sorted_tables
    if t.name
    in {
        "organisation",
        "skill",
        "skill_label",
        "job_role",
        "job_role_skill",
        "course",
        "course_skill",
        "micro_credential",
        "learning_outcome",
        "learning_outcome_skill",
        "search_document",
    }
]


def _snapshot(session: Session) -> dict[str, list[tuple]]:
    return {
        t.name: sorted(tuple(map(str, row)) for row in session.connection().execute(select(t)))
        for t in CATALOGUE_TABLES
    }


def test_loading_twice_changes_nothing(session: Session) -> None:
    first = load_demo_catalogue(session)
    session.commit()
    before = _snapshot(session)
    assert load_demo_catalogue(session) == first
    session.commit()
    assert _snapshot(session) == before
    assert len(before["course"]) == first["courses"] == 6
    assert len(before["micro_credential"]) == first["micro-credentials"] == 6
    assert len(before["organisation"]) == first["organisations"] == 3


def test_loading_again_restores_an_edited_entry(session: Session, demo: dict) -> None:
    course = session.exec(
        sql_select(Course).where(col(Course.slug) == "battery-cell-chemistry-and-design")
    ).one()
    course.title = "Edited"
    session.add(course)
    session.commit()
    load_demo_catalogue(session)
    session.commit()
    session.refresh(course)
    assert course.title == "Battery Cell Chemistry and Design"


def test_skills_are_real_esco_concepts(demo: dict) -> None:
    """Every demo skill's URI and label is in the ESCO sample (where the sample is present)."""
    import csv

    path = reference("elm", "esco", "esco_sample_skills.csv")
    with path.open(encoding="utf-8") as f:
        esco = {r["conceptUri"]: r["preferredLabel"] for r in csv.DictReader(f)}
    for uuid, label, _type, _reuse in SKILLS:
        assert esco[f"http://data.europa.eu/esco/skill/{uuid}"] == label


def test_every_micro_credential_has_the_mandatory_elements(session: Session, demo: dict) -> None:
    for fields in MICRO_CREDENTIALS:
        view = micro_credentials.micro_credential_view(
            session, micro_credentials.get_micro_credential(session, fields["slug"])
        )
        assert view.title and view.country and view.awarding_body
        assert view.learning_outcomes and all(o.skills for o in view.learning_outcomes)
        assert view.ects is not None or view.workload_hours is not None
        assert view.eqf_level and view.assessment_type and view.mode and view.quality_assurance
        assert view.supervision and view.grade_scheme and view.criteria_narrative
