"""Micro-credentials: what a course awards, with every element of the EU Council Recommendation
on micro-credentials (2022/C 243/02, Annex I). Writes are the owning provider's only."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func
from sqlmodel import Session, col, delete, select

from catalogue import checks, courses, search, vocabularies
from catalogue.base import pk
from catalogue.errors import Forbidden, NotFound
from catalogue.models import (
    Course,
    LearningOutcome,
    LearningOutcomeSkill,
    MicroCredential,
    Organisation,
    Skill,
)
from catalogue.schemas import (
    ConceptRef,
    LearningOutcomeIn,
    LearningOutcomeOut,
    MicroCredentialIn,
    MicroCredentialOut,
    MicroCredentialRef,
    MicroCredentialSummary,
    Page,
    SkillRef,
)


def get_micro_credential(session: Session, slug: str) -> MicroCredential:
    mc = session.exec(select(MicroCredential).where(MicroCredential.slug == slug)).first()
    if mc is None:
        raise NotFound(f"micro-credential {slug!r} does not exist")
    return mc


def own_micro_credential(session: Session, org: Organisation, slug: str) -> MicroCredential:
    mc = get_micro_credential(session, slug)
    course = session.get(Course, mc.course_id)
    if course is None or course.organisation_id != org.id:
        raise Forbidden(f"micro-credential {slug!r} belongs to another organisation")
    return mc


# --- reads -----------------------------------------------------------------------------------


def _concept(scheme: str, code: str | int) -> ConceptRef:
    return ConceptRef.of(vocabularies.concept(scheme, code))


def _optional(scheme: str, code: str | int | None) -> ConceptRef | None:
    return None if code is None else _concept(scheme, code)


def outcomes(session: Session, mc_id: int) -> list[LearningOutcomeOut]:
    rows = list(
        session.exec(
            select(LearningOutcome)
            .where(LearningOutcome.micro_credential_id == mc_id)
            .order_by(col(LearningOutcome.position), col(LearningOutcome.id))
        )
    )
    linked: dict[int, list[SkillRef]] = {}
    for outcome_id, skill in session.exec(
        select(LearningOutcomeSkill.outcome_id, Skill)
        .join(Skill, col(Skill.id) == LearningOutcomeSkill.skill_id)
        .where(col(LearningOutcomeSkill.outcome_id).in_([o.id for o in rows]))
        .order_by(Skill.preferred_label)
    ):
        linked.setdefault(outcome_id, []).append(
            SkillRef(iri=skill.iri, slug=skill.slug, label=skill.preferred_label)
        )
    return [LearningOutcomeOut(text=o.text, skills=linked.get(pk(o), [])) for o in rows]


def micro_credential_view(session: Session, mc: MicroCredential) -> MicroCredentialOut:
    """Every element, controlled values as {iri, label}: what pages, badges and Europass use."""
    course = session.get(Course, mc.course_id)
    assert course is not None  # a foreign key
    org = session.get(Organisation, course.organisation_id)
    assert org is not None
    stack = (
        session.get(MicroCredential, mc.stackable_towards_id) if mc.stackable_towards_id else None
    )
    learning_outcomes = outcomes(session, pk(mc))
    skills = {s.iri: s for o in learning_outcomes for s in o.skills}
    return MicroCredentialOut(
        slug=mc.slug,
        title=mc.title,
        description=mc.description,
        course=MicroCredentialRef(slug=course.slug, title=course.title),
        awarding_body=courses.organisation_ref(org),
        country=_concept("country", mc.country),
        region=mc.region,
        learning_outcomes=learning_outcomes,
        ects=mc.ects,
        credit_system=_concept("credit-system", "ects") if mc.ects is not None else None,
        workload_hours=mc.workload_hours,
        eqf_level=_concept("eqf", mc.eqf_level),
        assessment_type=_concept("assessment", mc.assessment_type),
        mode=_concept("mode", mc.mode),
        quality_assurance=_concept("quality-assurance", mc.quality_assurance),
        prerequisites=mc.prerequisites,
        supervision=_optional("supervision", mc.supervision),
        grade_scheme=mc.grade_scheme,
        stackable_towards=MicroCredentialRef(slug=stack.slug, title=stack.title) if stack else None,
        further_information=mc.further_information,
        badge_image_url=mc.badge_image_url,
        criteria_narrative=mc.criteria_narrative,
        valid_for_months=mc.valid_for_months,
        valid_for_days=mc.valid_for_days,
        achievement_type=mc.achievement_type,
        isced_f=_optional("isced-f", mc.isced_f),
        languages=[_concept("language", c) for c in mc.languages],
        skills=sorted(skills.values(), key=lambda s: s.label),
        created_at=mc.created_at,
        updated_at=mc.updated_at,
    )


def list_micro_credentials(
    session: Session,
    *,
    provider: str | None = None,
    course: str | None = None,
    page: int = 1,
    per_page: int = 20,
) -> Page[MicroCredentialSummary]:
    query = (
        select(MicroCredential, Course, Organisation)
        .join(Course, col(Course.id) == MicroCredential.course_id)
        .join(Organisation, col(Organisation.id) == Course.organisation_id)
    )
    if provider:
        query = query.where(Organisation.slug == provider)
    if course:
        query = query.where(Course.slug == course)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(
        query.order_by(MicroCredential.title, col(MicroCredential.id))
        .offset(search.offset(page, per_page))
        .limit(per_page)
    )
    items = [
        MicroCredentialSummary(
            slug=mc.slug,
            title=mc.title,
            course=MicroCredentialRef(slug=c.slug, title=c.title),
            awarding_body=courses.organisation_ref(org),
            eqf_level=_concept("eqf", mc.eqf_level),
            ects=mc.ects,
            workload_hours=mc.workload_hours,
            mode=_concept("mode", mc.mode),
        )
        for mc, c, org in rows
    ]
    return Page(items=items, total=total, page=page, per_page=per_page)


def micro_credential_input(session: Session, mc: MicroCredential) -> MicroCredentialIn:
    """The micro-credential as a provider would write it (for PATCH and the JSON export)."""
    course = session.get(Course, mc.course_id)
    assert course is not None
    stack = (
        session.get(MicroCredential, mc.stackable_towards_id) if mc.stackable_towards_id else None
    )
    return MicroCredentialIn(
        slug=mc.slug,
        course=course.slug,
        title=mc.title,
        description=mc.description,
        country=mc.country,
        region=mc.region,
        learning_outcomes=[
            LearningOutcomeIn(text=o.text, skills=[s.iri for s in o.skills])
            for o in outcomes(session, pk(mc))
        ],
        ects=mc.ects,
        workload_hours=mc.workload_hours,
        eqf_level=mc.eqf_level,
        assessment_type=mc.assessment_type,
        mode=mc.mode,
        quality_assurance=mc.quality_assurance,
        prerequisites=mc.prerequisites,
        supervision=mc.supervision,
        grade_scheme=mc.grade_scheme,
        stackable_towards=stack.slug if stack else None,
        further_information=mc.further_information,
        badge_image_url=mc.badge_image_url,
        criteria_narrative=mc.criteria_narrative,
        valid_for_months=mc.valid_for_months,
        valid_for_days=mc.valid_for_days,
        achievement_type=mc.achievement_type,
        isced_f=mc.isced_f,
        languages=list(mc.languages),
    )


# --- writes ------------------------------------------------------------------------------------


def _stack_target(
    session: Session, org: Organisation, slug: str | None, current_id: int | None
) -> int | None:
    """The micro-credential this one stacks towards; a chain that loops back is refused, and
    so is another provider's micro-credential: stacking towards it needs that provider's
    consent, which the hub has no way to record yet."""
    if not slug:
        return None
    target = session.exec(select(MicroCredential).where(MicroCredential.slug == slug)).first()
    if target is None:
        raise checks.invalid("stackable_towards", f"no micro-credential {slug!r}")
    target_course = session.get(Course, target.course_id)
    if target_course is None or target_course.organisation_id != org.id:
        raise checks.invalid(
            "stackable_towards",
            f"micro-credential {slug!r} is another provider's: only your own micro-credentials "
            "can be named here",
        )
    seen: set[int] = set()
    node: MicroCredential | None = target
    while node is not None and node.id not in seen:
        if current_id is not None and node.id == current_id:
            raise checks.invalid("stackable_towards", "would make a loop of stackable credentials")
        seen.add(pk(node))
        next_id = node.stackable_towards_id
        node = session.get(MicroCredential, next_id) if next_id else None
    return target.id


def _validated(
    session: Session, org: Organisation, data: MicroCredentialIn, current_id: int | None
) -> tuple[Course, dict[str, Any], list[tuple[str, list[int]]]]:
    """Column values and the outcomes [(text, skill ids)], or a domain error; nothing written."""
    course = courses.own_course(session, org, data.course)
    title = checks.text("title", data.title, required=True, max_length=300) or ""
    if not data.learning_outcomes:
        raise checks.invalid("learning_outcomes", "at least one learning outcome is required")
    skills = checks.skills_by_iri(
        session, "learning_outcomes", [i for o in data.learning_outcomes for i in o.skills]
    )
    outcome_rows = []
    for n, outcome in enumerate(data.learning_outcomes, start=1):
        text = checks.text(f"learning_outcomes.{n}.text", outcome.text, required=True)
        ids = list(dict.fromkeys(pk(skills[i.strip()]) for i in outcome.skills))
        outcome_rows.append((text or "", ids))
    ects = checks.amount("ects", data.ects)
    hours = checks.amount("workload_hours", data.workload_hours)
    if ects is None and hours is None:
        raise checks.invalid("workload_hours", "give the notional workload in ECTS and/or hours")
    if data.valid_for_months is not None and data.valid_for_days is not None:
        raise checks.invalid("valid_for_days", "give the validity in months or in days, not both")
    # At most a century: issuing adds it to today's date, which a larger number overflows
    # (and a 64-bit one does not fit the column).
    for field, most in (("valid_for_months", 1200), ("valid_for_days", 36525)):
        value = getattr(data, field)
        if value is not None and value <= 0:
            raise checks.invalid(field, "must be a positive number")
        if value is not None and value > most:
            raise checks.invalid(field, f"must be at most {most}")
    languages = checks.languages("languages", data.languages) or list(course.languages)
    values = {
        "slug": checks.slug_for(session, MicroCredential, data.slug, title, current_id=current_id),
        "course_id": course.id,
        "title": title,
        "description": checks.text("description", data.description),
        "country": checks.concept_code("country", "country", data.country or course.country),
        "region": checks.text("region", data.region, max_length=200),
        "ects": ects,
        "workload_hours": hours,
        "eqf_level": checks.eqf_level(data.eqf_level, required=True),
        "assessment_type": checks.concept_code(
            "assessment_type", "assessment", data.assessment_type, required=True
        ),
        "mode": checks.concept_code("mode", "mode", data.mode, required=True),
        "quality_assurance": checks.concept_code(
            "quality_assurance", "quality-assurance", data.quality_assurance, required=True
        ),
        "prerequisites": checks.text("prerequisites", data.prerequisites),
        "supervision": checks.concept_code("supervision", "supervision", data.supervision),
        "grade_scheme": checks.text("grade_scheme", data.grade_scheme),
        "stackable_towards_id": _stack_target(session, org, data.stackable_towards, current_id),
        "further_information": checks.text("further_information", data.further_information),
        "badge_image_url": checks.url("badge_image_url", data.badge_image_url),
        "criteria_narrative": checks.text("criteria_narrative", data.criteria_narrative),
        "valid_for_months": data.valid_for_months,
        "valid_for_days": data.valid_for_days,
        "achievement_type": vocabularies.check_achievement_type(data.achievement_type),
        "isced_f": checks.concept_code("isced_f", "isced-f", data.isced_f or course.isced_f),
        "languages": languages,
    }
    return course, values, outcome_rows


def _unchanged(
    session: Session,
    mc: MicroCredential,
    values: dict[str, Any],
    outcome_rows: list[tuple[str, list[int]]],
) -> bool:
    if mc.id is None or any(getattr(mc, k) != v for k, v in values.items()):
        return False
    stored = session.exec(
        select(LearningOutcome).where(LearningOutcome.micro_credential_id == mc.id)
    ).all()
    links: dict[int, list[int]] = {}
    for outcome_id, skill_id in session.exec(
        select(LearningOutcomeSkill.outcome_id, LearningOutcomeSkill.skill_id).where(
            col(LearningOutcomeSkill.outcome_id).in_([o.id for o in stored])
        )
    ):
        links.setdefault(outcome_id, []).append(skill_id)
    current = [
        (o.text, sorted(links.get(pk(o), [])))
        for o in sorted(stored, key=lambda o: (o.position, pk(o)))
    ]
    return current == [(text, sorted(ids)) for text, ids in outcome_rows]


def _save(
    session: Session,
    mc: MicroCredential,
    values: dict[str, Any],
    outcome_rows: list[tuple[str, list[int]]],
) -> MicroCredential:
    """Write it with its learning outcomes; an identical write is a no-op."""
    if _unchanged(session, mc, values, outcome_rows):
        return mc
    for name, value in values.items():
        setattr(mc, name, value)
    mc.updated_at = datetime.now(UTC)
    session.add(mc)
    checks.flush(session, f"micro-credential {mc.slug!r}")
    session.exec(delete(LearningOutcome).where(col(LearningOutcome.micro_credential_id) == mc.id))
    for position, (text, skill_ids) in enumerate(outcome_rows):
        outcome = LearningOutcome(micro_credential_id=pk(mc), position=position, text=text)
        session.add(outcome)
        session.flush()
        session.add_all(LearningOutcomeSkill(outcome_id=pk(outcome), skill_id=s) for s in skill_ids)
    checks.flush(session, f"micro-credential {mc.slug!r}")
    search.index(session, "micro_credential", [pk(mc)])
    return mc


def create_micro_credential(
    session: Session, org: Organisation, data: MicroCredentialIn
) -> MicroCredential:
    _course, values, outcome_rows = _validated(session, org, data, None)
    return _save(session, MicroCredential(**values), values, outcome_rows)


def update_micro_credential(
    session: Session, org: Organisation, slug: str, data: MicroCredentialIn
) -> MicroCredential:
    """Replace every element (PUT). Moving it to another course needs that course to be ours."""
    mc = own_micro_credential(session, org, slug)
    _course, values, outcome_rows = _validated(session, org, data, mc.id)
    return _save(session, mc, values, outcome_rows)


def patch_micro_credential(
    session: Session, org: Organisation, slug: str, changes: dict[str, Any]
) -> MicroCredential:
    mc = own_micro_credential(session, org, slug)
    merged = micro_credential_input(session, mc).model_dump() | changes
    try:
        data = MicroCredentialIn.model_validate(merged)
    except ValidationError as exc:
        raise checks.from_validation_error(exc) from None
    _course, values, outcome_rows = _validated(session, org, data, mc.id)
    return _save(session, mc, values, outcome_rows)


def delete_micro_credential(session: Session, org: Organisation, slug: str) -> None:
    """Delete it (a Conflict if credentials awarded from it still refer to it)."""
    mc = own_micro_credential(session, org, slug)
    with checks.refusals_as_conflict(f"deleting micro-credential {slug!r}"):
        search.remove_document(session, "micro_credential", pk(mc))
        session.delete(mc)
        session.flush()
