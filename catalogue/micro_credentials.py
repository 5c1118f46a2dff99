"""Micro-credentials: what a course awards, with every element of the EU Council Recommendation
on micro-credentials (2022/C 243/02, Annex I). Writes are the owning provider's only."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, delete, select

from catalogue import checks, courses, publishing, search, vocabularies
from catalogue.base import pk
from catalogue.errors import Conflict, Forbidden, NotFound
from catalogue.models import (
    Course,
    EntryState,
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
    QualityAssuranceBodyIn,
    QualityAssuranceBodyOut,
    SkillRef,
)


def get_micro_credential(session: Session, slug: str) -> MicroCredential:
    mc = session.exec(select(MicroCredential).where(MicroCredential.slug == slug)).first()
    if mc is None:
        raise NotFound(f"micro-credential {slug!r} does not exist")
    return mc


def public_micro_credential(session: Session, slug: str) -> MicroCredential:
    """The micro-credential if it is published: a draft is its provider's business (404)."""
    mc = get_micro_credential(session, slug)
    if mc.state != EntryState.published:
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
        quality_assurance_body=_qa_body_out(mc),
        prerequisites=mc.prerequisites,
        supervision=_optional("supervision", mc.supervision),
        grade_scheme=mc.grade_scheme,
        stackable_towards=MicroCredentialRef(slug=stack.slug, title=stack.title) if stack else None,
        further_information=mc.further_information,
        badge_image_url=mc.badge_image_url,
        criteria_narrative=mc.criteria_narrative,
        valid_for_months=mc.valid_for_months,
        valid_for_days=mc.valid_for_days,
        maximum_duration=mc.maximum_duration,
        achievement_type=mc.achievement_type,
        isced_f=_optional("isced-f", mc.isced_f),
        languages=[_concept("language", c) for c in mc.languages],
        skills=sorted(skills.values(), key=lambda s: s.label),
        state=EntryState(mc.state),
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
    drafts: bool = False,
) -> Page[MicroCredentialSummary]:
    """Published ones (the public catalogue); `drafts` adds drafts (the provider's console)."""
    query = (
        select(MicroCredential, Course, Organisation)
        .join(Course, col(Course.id) == MicroCredential.course_id)
        .join(Organisation, col(Organisation.id) == Course.organisation_id)
    )
    if not drafts:
        query = query.where(MicroCredential.state == EntryState.published.value)
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
        quality_assurance_body=(
            QualityAssuranceBodyIn(
                name=mc.quality_assurance_body_name,
                country=mc.quality_assurance_body_country,
                homepage=mc.quality_assurance_body_homepage,
                id=mc.quality_assurance_body_uri,
            )
            if mc.quality_assurance_body_name
            else None
        ),
        prerequisites=mc.prerequisites,
        supervision=mc.supervision,
        grade_scheme=mc.grade_scheme,
        stackable_towards=stack.slug if stack else None,
        further_information=mc.further_information,
        badge_image_url=mc.badge_image_url,
        criteria_narrative=mc.criteria_narrative,
        valid_for_months=mc.valid_for_months,
        valid_for_days=mc.valid_for_days,
        maximum_duration=mc.maximum_duration,
        achievement_type=mc.achievement_type,
        isced_f=mc.isced_f,
        languages=list(mc.languages),
        state=EntryState(mc.state),
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


def _outcomes(
    session: Session, data: MicroCredentialIn, problems: checks.Problems
) -> list[tuple[str, list[int]]]:
    if not data.learning_outcomes:
        if not problems.reported("learning_outcomes"):
            problems.add("learning_outcomes", "at least one learning outcome is required")
        return []
    skills = (
        problems.check(
            "learning_outcomes",
            lambda: checks.skills_by_iri(
                session, "learning_outcomes", [i for o in data.learning_outcomes for i in o.skills]
            ),
        )
        or {}
    )
    rows = []
    for n, outcome in enumerate(data.learning_outcomes, start=1):
        field = f"learning_outcomes.{n}.text"
        text = problems.check(field, partial(checks.text, field, outcome.text, required=True))
        ids = [pk(skills[i.strip()]) for i in outcome.skills if i.strip() in skills]
        rows.append((text or "", list(dict.fromkeys(ids))))
    return rows


def _validity(data: MicroCredentialIn, problems: checks.Problems) -> None:
    if data.valid_for_months is not None and data.valid_for_days is not None:
        problems.add("valid_for_days", "give the validity in months or in days, not both")
    # At most a century: issuing adds it to today's date, which a larger number overflows
    # (and a 64-bit one does not fit the column).
    for field, most in (("valid_for_months", 1200), ("valid_for_days", 36525)):
        value = getattr(data, field)
        if value is not None and value <= 0 and not problems.reported(field):
            problems.add(field, "must be a positive number")
        if value is not None and value > most and not problems.reported(field):
            problems.add(field, f"must be at most {most}")


def _state(
    session: Session,
    data: MicroCredentialIn,
    course: Course | None,
    current_id: int | None,
    problems: checks.Problems,
) -> str:
    """The state asked for, else the current one (a new one: published)."""
    current = session.get(MicroCredential, current_id) if current_id else None
    if data.state is not None:
        state = EntryState(data.state).value
    else:
        state = current.state if current else publishing.default_state(session)
    what = f"micro-credential {current.slug!r}" if current else "the micro-credential"
    publishing.check_transition(session, what, current.state if current else None, state)
    if (
        state == EntryState.published
        and course is not None
        and course.state != EntryState.published
    ):
        problems.add(
            "state",
            f"its course {course.slug!r} is a draft: publish the course first, or save this "
            "micro-credential as a draft",
        )
    return state


def _qa_body(data: MicroCredentialIn, country: str | None, p: checks.Problems) -> dict[str, Any]:
    """The quality-assurance body's columns (all None when none is named)."""
    body = data.quality_assurance_body
    if body is None:
        return dict.fromkeys(QA_BODY_COLUMNS)
    field = "quality_assurance_body"
    return {
        "quality_assurance_body_name": p.check(
            f"{field}.name",
            lambda: checks.text(f"{field}.name", body.name, required=True, max_length=300),
        ),
        "quality_assurance_body_country": p.check(
            f"{field}.country",
            lambda: checks.concept_code(
                f"{field}.country", "country", body.country or country, required=True
            ),
        ),
        "quality_assurance_body_homepage": p.check(
            f"{field}.homepage", lambda: checks.url(f"{field}.homepage", body.homepage)
        ),
        "quality_assurance_body_uri": p.check(
            f"{field}.id", lambda: checks.uri(f"{field}.id", body.id)
        ),
    }


QA_BODY_COLUMNS = (
    "quality_assurance_body_name",
    "quality_assurance_body_country",
    "quality_assurance_body_homepage",
    "quality_assurance_body_uri",
)


def _qa_body_out(mc: MicroCredential) -> QualityAssuranceBodyOut | None:
    if not mc.quality_assurance_body_name:
        return None
    return QualityAssuranceBodyOut(
        name=mc.quality_assurance_body_name,
        country=_concept("country", mc.quality_assurance_body_country or mc.country),
        homepage=mc.quality_assurance_body_homepage,
        id=mc.quality_assurance_body_uri,
    )


def _validated(
    session: Session,
    org: Organisation,
    data: MicroCredentialIn,
    current_id: int | None,
    problems: checks.Problems | None = None,
) -> tuple[Course, dict[str, Any], list[tuple[str, list[int]]]]:
    """Column values and the outcomes [(text, skill ids)], or a domain error naming every
    problem at once (`problems` may hold the schema's already); nothing is written."""
    p = problems if problems is not None else checks.Problems()
    # Not a field problem: another organisation's course is refused outright (403/404).
    course = None if p.reported("course") else courses.own_course(session, org, data.course)
    title = p.check(
        "title", lambda: checks.text("title", data.title, required=True, max_length=300)
    )
    outcome_rows = _outcomes(session, data, p)
    ects = p.check("ects", lambda: checks.amount("ects", data.ects))
    hours = p.check("workload_hours", lambda: checks.amount("workload_hours", data.workload_hours))
    if (
        ects is None
        and hours is None
        and data.ects is None
        and data.workload_hours is None
        and not (p.reported("ects") or p.reported("workload_hours"))
    ):
        p.add("workload_hours", "give the notional workload in ECTS and/or hours")
    _validity(data, p)
    languages = p.check("languages", lambda: checks.languages("languages", data.languages))
    fallback_country = course.country if course else None
    fallback_isced = course.isced_f if course else None

    def code(field: str, scheme: str, value: Any, required: bool = False) -> Any:
        return p.check(field, lambda: checks.concept_code(field, scheme, value, required=required))

    values = {
        "slug": p.check(
            "slug",
            lambda: checks.slug_for(
                session, MicroCredential, data.slug, title or "", current_id=current_id
            ),
        ),
        "course_id": course.id if course else None,
        "title": title,
        "description": p.check("description", lambda: checks.text("description", data.description)),
        "country": code("country", "country", data.country or fallback_country, course is not None),
        "region": p.check("region", lambda: checks.text("region", data.region, max_length=200)),
        "ects": ects,
        "workload_hours": hours,
        "eqf_level": p.check("eqf_level", lambda: checks.eqf_level(data.eqf_level, required=True)),
        "assessment_type": code("assessment_type", "assessment", data.assessment_type, True),
        "mode": code("mode", "mode", data.mode, True),
        "quality_assurance": code(
            "quality_assurance", "quality-assurance", data.quality_assurance, True
        ),
        **_qa_body(data, data.country or fallback_country, p),
        "prerequisites": p.check(
            "prerequisites", lambda: checks.text("prerequisites", data.prerequisites)
        ),
        "supervision": code("supervision", "supervision", data.supervision),
        "grade_scheme": p.check(
            "grade_scheme", lambda: checks.text("grade_scheme", data.grade_scheme)
        ),
        "stackable_towards_id": p.check(
            "stackable_towards",
            lambda: _stack_target(session, org, data.stackable_towards, current_id),
        ),
        "further_information": p.check(
            "further_information",
            lambda: checks.text("further_information", data.further_information),
        ),
        "badge_image_url": p.check(
            "badge_image_url", lambda: checks.url("badge_image_url", data.badge_image_url)
        ),
        "criteria_narrative": p.check(
            "criteria_narrative",
            lambda: checks.text("criteria_narrative", data.criteria_narrative),
        ),
        "valid_for_months": data.valid_for_months,
        "valid_for_days": data.valid_for_days,
        "maximum_duration": p.check(
            "maximum_duration", lambda: checks.duration("maximum_duration", data.maximum_duration)
        ),
        "achievement_type": p.check(
            "achievement_type", lambda: vocabularies.check_achievement_type(data.achievement_type)
        ),
        "isced_f": code("isced_f", "isced-f", data.isced_f or fallback_isced),
        "languages": languages or (list(course.languages) if course else []),
        "state": _state(session, data, course, current_id, p),
    }
    p.raise_if_any()
    assert course is not None  # refused above otherwise
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
    before = mc.state if mc.id is not None else None
    if before is not None and before == values["state"]:
        publishing.check_edit(session, f"micro-credential {mc.slug!r}", before)
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
    if before is not None:
        publishing.state_changed(session, "micro_credential", pk(mc), before, mc.state)
    return mc


Input = MicroCredentialIn | dict[str, Any]


def _parsed(
    data: Input, known: checks.Problems | None = None
) -> tuple[MicroCredentialIn, checks.Problems]:
    """A model as it is; raw JSON through the schema, keeping its problems to report with
    the services' own (every problem at once). `known`: the caller's problems (an upload)."""
    if isinstance(data, MicroCredentialIn):
        parsed, problems = data, checks.Problems()
    else:
        parsed, problems = checks.parse_all(MicroCredentialIn, data)
    for error in known.errors if known else ():
        problems.add(error["field"], error["message"])
    return parsed, problems


def create_micro_credential(
    session: Session, org: Organisation, data: Input, *, known: checks.Problems | None = None
) -> MicroCredential:
    parsed, problems = _parsed(data, known)
    _course, values, outcome_rows = _validated(session, org, parsed, None, problems)
    return _save(session, MicroCredential(**values), values, outcome_rows)


def update_micro_credential(
    session: Session,
    org: Organisation,
    slug: str,
    data: Input,
    *,
    known: checks.Problems | None = None,
) -> MicroCredential:
    """Replace every element (PUT). Moving it to another course needs that course to be ours."""
    mc = own_micro_credential(session, org, slug)
    parsed, problems = _parsed(data, known)
    _course, values, outcome_rows = _validated(session, org, parsed, mc.id, problems)
    return _save(session, mc, values, outcome_rows)


def patch_micro_credential(
    session: Session, org: Organisation, slug: str, changes: dict[str, Any]
) -> MicroCredential:
    mc = own_micro_credential(session, org, slug)
    merged = micro_credential_input(session, mc).model_dump() | changes
    parsed, problems = checks.parse_all(MicroCredentialIn, merged)
    _course, values, outcome_rows = _validated(session, org, parsed, mc.id, problems)
    return _save(session, mc, values, outcome_rows)


def set_state(session: Session, org: Organisation, slug: str, state: EntryState) -> MicroCredential:
    """Publish or unpublish (back to draft); the same state again changes nothing."""
    mc = own_micro_credential(session, org, slug)
    if mc.state == state:
        return mc
    publishing.check_transition(session, f"micro-credential {slug!r}", mc.state, state)
    if state == EntryState.published:
        course = session.get(Course, mc.course_id)
        if course is not None and course.state != EntryState.published:
            raise Conflict(
                f"micro-credential {slug!r} cannot be published while its course "
                f"{course.slug!r} is a draft: publish the course first",
                details={"field": "state"},
            )
    before = mc.state
    mc.state = state.value
    mc.updated_at = datetime.now(UTC)
    session.add(mc)
    checks.flush(session, f"micro-credential {slug!r}")
    search.index(session, "micro_credential", [pk(mc)])
    publishing.state_changed(session, "micro_credential", pk(mc), before, mc.state)
    return mc


def delete_micro_credential(session: Session, org: Organisation, slug: str) -> None:
    """Delete it (a Conflict if credentials awarded from it still refer to it)."""
    mc = own_micro_credential(session, org, slug)
    with checks.refusals_as_conflict(f"deleting micro-credential {slug!r}"):
        search.remove_document(session, "micro_credential", pk(mc))
        session.delete(mc)
        session.flush()
