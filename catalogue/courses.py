"""Courses: a provider's own create, update, patch and delete; everyone's reads."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func
from sqlmodel import Session, col, delete, select

from catalogue import checks, search, vocabularies
from catalogue.base import pk
from catalogue.errors import Forbidden, NotFound
from catalogue.models import (
    Course,
    CourseSkill,
    MicroCredential,
    Organisation,
    Skill,
    SkillLevel,
)
from catalogue.schemas import (
    ConceptRef,
    CourseIn,
    CourseOut,
    CourseSummary,
    LevelledSkill,
    MicroCredentialRef,
    OrganisationRef,
    Page,
    Price,
    SkillTaught,
)


def get_course(session: Session, slug: str) -> Course:
    course = session.exec(select(Course).where(Course.slug == slug)).first()
    if course is None:
        raise NotFound(f"course {slug!r} does not exist")
    return course


def own_course(session: Session, org: Organisation, slug: str) -> Course:
    """The course, if `org` publishes it: NotFound or Forbidden otherwise."""
    course = get_course(session, slug)
    if course.organisation_id != org.id:
        raise Forbidden(f"course {slug!r} belongs to another organisation")
    return course


# --- reads -----------------------------------------------------------------------------------


def organisation_ref(org: Organisation) -> OrganisationRef:
    return OrganisationRef(slug=org.slug, legal_name=org.legal_name, country=org.country)


def summary(course: Course, org: Organisation) -> CourseSummary:
    return CourseSummary(
        slug=course.slug,
        title=course.title,
        provider=organisation_ref(org),
        mode=ConceptRef.of(vocabularies.concept("mode", course.mode)),
        eqf_level=_optional_concept("eqf", course.eqf_level),
        workload_hours=course.workload_hours,
        ects=course.ects,
        languages=[ConceptRef.of(vocabularies.concept("language", c)) for c in course.languages],
    )


def _optional_concept(scheme: str, code: str | int | None) -> ConceptRef | None:
    return None if code is None else ConceptRef.of(vocabularies.concept(scheme, code))


def summaries(session: Session, courses: list[Course]) -> list[CourseSummary]:
    org_ids = {c.organisation_id for c in courses}
    orgs = {
        o.id: o for o in session.exec(select(Organisation).where(col(Organisation.id).in_(org_ids)))
    }
    return [summary(c, orgs[c.organisation_id]) for c in courses]


def list_courses(
    session: Session, *, provider: str | None = None, page: int = 1, per_page: int = 20
) -> Page[CourseSummary]:
    query = select(Course)
    if provider:
        query = query.join(Organisation).where(Organisation.slug == provider)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = list(
        session.exec(
            query.order_by(Course.title, col(Course.id))
            .offset(search.offset(page, per_page))
            .limit(per_page)
        )
    )
    return Page(items=summaries(session, rows), total=total, page=page, per_page=per_page)


def taught_skills(session: Session, course_id: int) -> list[LevelledSkill]:
    rows = session.exec(
        select(Skill, CourseSkill.level)
        .join(CourseSkill, col(CourseSkill.skill_id) == Skill.id)
        .where(CourseSkill.course_id == course_id)
        .order_by(Skill.preferred_label)
    )
    return [
        LevelledSkill(iri=s.iri, slug=s.slug, label=s.preferred_label, level=SkillLevel(level))
        for s, level in rows
    ]


def _amount(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(Decimal("0.01"))


def course_view(session: Session, course: Course) -> CourseOut:
    org = session.get(Organisation, course.organisation_id)
    assert org is not None  # a foreign key
    mcs = session.exec(
        select(MicroCredential)
        .where(MicroCredential.course_id == course.id)
        .order_by(MicroCredential.title)
    )
    price = None
    if course.price_cents is not None and course.price_currency:
        price = Price(amount=_amount(course.price_cents), currency=course.price_currency)
    return CourseOut(
        **summary(course, org).model_dump(),
        description=course.description,
        learning_setting=_optional_concept("learning-setting", course.learning_setting),
        isced_f=_optional_concept("isced-f", course.isced_f),
        country=ConceptRef.of(vocabularies.concept("country", course.country)),
        region=course.region,
        price=price,
        url=course.url,
        start_dates=[date.fromisoformat(d) for d in course.start_dates],
        skills=taught_skills(session, pk(course)),
        micro_credentials=[MicroCredentialRef(slug=m.slug, title=m.title) for m in mcs],
        created_at=course.created_at,
        updated_at=course.updated_at,
    )


def course_input(session: Session, course: Course) -> CourseIn:
    """The course as a provider would write it (for PATCH and the JSON export)."""
    price = None
    if course.price_cents is not None and course.price_currency:
        price = Price(amount=_amount(course.price_cents), currency=course.price_currency)
    return CourseIn(
        slug=course.slug,
        title=course.title,
        description=course.description,
        languages=list(course.languages),
        mode=course.mode,
        learning_setting=course.learning_setting,
        workload_hours=course.workload_hours,
        ects=course.ects,
        eqf_level=course.eqf_level,
        isced_f=course.isced_f,
        country=course.country,
        region=course.region,
        price=price,
        url=course.url,
        start_dates=[date.fromisoformat(d) for d in course.start_dates],
        skills=[SkillTaught(iri=s.iri, level=s.level) for s in taught_skills(session, pk(course))],
    )


# --- writes ------------------------------------------------------------------------------------


def _validated(
    session: Session, org: Organisation, data: CourseIn, current_id: int | None
) -> tuple[dict[str, Any], dict[int, str]]:
    """Column values and {skill id: level}, or a domain error; nothing is written."""
    title = checks.text("title", data.title, required=True, max_length=300) or ""
    slug = checks.slug_for(session, Course, data.slug, title, current_id=current_id)
    price_cents = price_currency = None
    if data.price is not None:
        price_cents = checks.price_cents(data.price.amount)
        price_currency = checks.currency(data.price.currency)
    iris = [s.iri for s in data.skills]
    if len(set(iris)) != len(iris):
        raise checks.invalid("skills", "a skill is listed twice")
    skills = checks.skills_by_iri(session, "skills", iris)
    values = {
        "slug": slug,
        "title": title,
        "description": checks.text("description", data.description),
        "languages": checks.languages("languages", data.languages),
        "mode": checks.concept_code("mode", "mode", data.mode, required=True),
        "learning_setting": checks.concept_code(
            "learning_setting", "learning-setting", data.learning_setting
        ),
        "workload_hours": checks.amount("workload_hours", data.workload_hours),
        "ects": checks.amount("ects", data.ects),
        "eqf_level": checks.eqf_level(data.eqf_level),
        "isced_f": checks.concept_code("isced_f", "isced-f", data.isced_f),
        "country": checks.concept_code("country", "country", data.country or org.country),
        "region": checks.text("region", data.region, max_length=200),
        "price_cents": price_cents,
        "price_currency": price_currency,
        "url": checks.url("url", data.url),
        "start_dates": sorted({d.isoformat() for d in data.start_dates}),
    }
    return values, {pk(skills[s.iri]): s.level.value for s in data.skills}


def _unchanged(
    session: Session, course: Course, values: dict[str, Any], skills: dict[int, str]
) -> bool:
    if course.id is None or any(getattr(course, k) != v for k, v in values.items()):
        return False
    current = session.exec(
        select(CourseSkill.skill_id, CourseSkill.level).where(CourseSkill.course_id == course.id)
    )
    return dict(current.all()) == skills


def _save(
    session: Session, course: Course, values: dict[str, Any], skills: dict[int, str]
) -> Course:
    """Write the course, its skills and its search documents; an identical write is a no-op."""
    if _unchanged(session, course, values, skills):
        return course
    for name, value in values.items():
        setattr(course, name, value)
    course.updated_at = datetime.now(UTC)
    session.add(course)
    checks.flush(session, f"course {course.slug!r}")
    session.exec(delete(CourseSkill).where(col(CourseSkill.course_id) == course.id))
    session.add_all(
        CourseSkill(course_id=pk(course), skill_id=sid, level=level)
        for sid, level in skills.items()
    )
    checks.flush(session, f"course {course.slug!r}")
    search.index(session, "course", [pk(course)])
    # Micro-credential documents carry the course title and are filtered by its provider.
    mc_ids = session.exec(select(MicroCredential.id).where(MicroCredential.course_id == course.id))
    search.index(session, "micro_credential", [i for i in mc_ids if i is not None])
    return course


def create_course(session: Session, org: Organisation, data: CourseIn) -> Course:
    values, skills = _validated(session, org, data, None)
    return _save(session, Course(organisation_id=pk(org), **values), values, skills)


def update_course(session: Session, org: Organisation, slug: str, data: CourseIn) -> Course:
    """Replace a course's fields (PUT): what `data` leaves out is cleared or defaulted."""
    course = own_course(session, org, slug)
    values, skills = _validated(session, org, data, course.id)
    return _save(session, course, values, skills)


def patch_course(session: Session, org: Organisation, slug: str, changes: dict[str, Any]) -> Course:
    """Change only the given fields (PATCH)."""
    course = own_course(session, org, slug)
    merged = course_input(session, course).model_dump() | changes
    try:
        data = CourseIn.model_validate(merged)
    except ValidationError as exc:
        raise checks.from_validation_error(exc) from None
    values, skills = _validated(session, org, data, course.id)
    return _save(session, course, values, skills)


def delete_course(session: Session, org: Organisation, slug: str) -> None:
    """Delete a course with its micro-credentials (a Conflict if one has been awarded)."""
    course = own_course(session, org, slug)
    mc_ids = list(
        session.exec(select(MicroCredential.id).where(MicroCredential.course_id == course.id))
    )
    with checks.refusals_as_conflict(f"deleting course {slug!r}"):
        for mc_id in mc_ids:
            search.remove_document(session, "micro_credential", mc_id or 0)
        session.exec(delete(MicroCredential).where(col(MicroCredential.course_id) == course.id))
        search.remove_document(session, "course", pk(course))
        session.delete(course)
        session.flush()
