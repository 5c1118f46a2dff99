"""Courses: a provider's own create, update, patch and delete; everyone's reads."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, delete, select

from catalogue import checks, publishing, search, vocabularies
from catalogue.base import pk
from catalogue.errors import Conflict, Forbidden, NotFound
from catalogue.models import (
    Course,
    CourseSkill,
    EntryState,
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


def public_course(session: Session, slug: str) -> Course:
    """The course if it is published: a draft is its provider's business (404)."""
    course = get_course(session, slug)
    if course.state != EntryState.published:
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
    session: Session,
    *,
    provider: str | None = None,
    page: int = 1,
    per_page: int = 20,
    drafts: bool = False,
) -> Page[CourseSummary]:
    """Published ones (the public catalogue); `drafts` adds drafts (the provider's console)."""
    query = select(Course)
    if not drafts:
        query = query.where(Course.state == EntryState.published.value)
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
        .where(
            MicroCredential.course_id == course.id,
            MicroCredential.state == EntryState.published.value,
        )
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
        state=EntryState(course.state),
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
        state=EntryState(course.state),
    )


# --- writes ------------------------------------------------------------------------------------


def _state(
    session: Session, data: CourseIn, current_id: int | None, problems: checks.Problems
) -> str:
    """The state asked for, else the current one (a new course: published). A course goes
    back to draft only when none of its micro-credentials is published."""
    current = session.get(Course, current_id) if current_id else None
    if data.state is not None:
        state = EntryState(data.state).value
    else:
        state = current.state if current else publishing.default_state(session)
    what = f"course {current.slug!r}" if current else "the course"
    publishing.check_transition(session, what, current.state if current else None, state)
    if (
        state != EntryState.published
        and current is not None
        and current.state == EntryState.published
    ):
        public = _published_micro_credentials(session, pk(current))
        if public:
            problems.add(
                "state",
                "its micro-credentials "
                + ", ".join(repr(slug) for slug in public)
                + " are published: unpublish them first",
            )
    return state


def _published_micro_credentials(session: Session, course_id: int) -> list[str]:
    return list(
        session.exec(
            select(MicroCredential.slug).where(
                MicroCredential.course_id == course_id,
                MicroCredential.state == EntryState.published.value,
            )
        )
    )


def _validated(
    session: Session,
    org: Organisation,
    data: CourseIn,
    current_id: int | None,
    problems: checks.Problems | None = None,
) -> tuple[dict[str, Any], dict[int, str]]:
    """Column values and {skill id: level}, or a domain error naming every problem at once
    (`problems` may hold the schema's already); nothing is written."""
    p = problems if problems is not None else checks.Problems()
    title = p.check(
        "title", lambda: checks.text("title", data.title, required=True, max_length=300)
    )
    slug = p.check(
        "slug",
        lambda: checks.slug_for(session, Course, data.slug, title or "", current_id=current_id),
    )
    price_cents = price_currency = None
    if data.price is not None:
        price = data.price
        price_cents = p.check("price", lambda: checks.price_cents(price.amount))
        price_currency = p.check("price", lambda: checks.currency(price.currency))
    iris = [s.iri for s in data.skills]
    skills: dict[str, Any] = {}
    if len(set(iris)) != len(iris):
        p.add("skills", "a skill is listed twice")
    else:
        skills = p.check("skills", lambda: checks.skills_by_iri(session, "skills", iris)) or {}

    def code(field: str, scheme: str, value: Any, required: bool = False) -> Any:
        return p.check(field, lambda: checks.concept_code(field, scheme, value, required=required))

    values = {
        "slug": slug,
        "title": title,
        "description": p.check("description", lambda: checks.text("description", data.description)),
        "languages": p.check("languages", lambda: checks.languages("languages", data.languages)),
        "mode": code("mode", "mode", data.mode, True),
        "learning_setting": code("learning_setting", "learning-setting", data.learning_setting),
        "workload_hours": p.check(
            "workload_hours", lambda: checks.amount("workload_hours", data.workload_hours)
        ),
        "ects": p.check("ects", lambda: checks.amount("ects", data.ects)),
        "eqf_level": p.check("eqf_level", lambda: checks.eqf_level(data.eqf_level)),
        "isced_f": code("isced_f", "isced-f", data.isced_f),
        "country": code("country", "country", data.country or org.country),
        "region": p.check("region", lambda: checks.text("region", data.region, max_length=200)),
        "price_cents": price_cents,
        "price_currency": price_currency,
        "url": p.check("url", lambda: checks.url("url", data.url)),
        "start_dates": sorted({d.isoformat() for d in data.start_dates}),
        "state": _state(session, data, current_id, p),
    }
    p.raise_if_any()
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
    before = course.state if course.id is not None else None
    if before is not None and before == values["state"]:
        publishing.check_edit(session, f"course {course.slug!r}", before)
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
    if before is not None:
        publishing.state_changed(session, "course", pk(course), before, course.state)
    return course


Input = CourseIn | dict[str, Any]


def _parsed(data: Input, known: checks.Problems | None = None) -> tuple[CourseIn, checks.Problems]:
    """A model as it is; raw JSON through the schema, keeping its problems to report with
    the services' own (every problem at once). `known`: the caller's problems (an upload)."""
    if isinstance(data, CourseIn):
        parsed, problems = data, checks.Problems()
    else:
        parsed, problems = checks.parse_all(CourseIn, data)
    for error in known.errors if known else ():
        problems.add(error["field"], error["message"])
    return parsed, problems


def create_course(
    session: Session, org: Organisation, data: Input, *, known: checks.Problems | None = None
) -> Course:
    parsed, problems = _parsed(data, known)
    values, skills = _validated(session, org, parsed, None, problems)
    return _save(session, Course(organisation_id=pk(org), **values), values, skills)


def update_course(
    session: Session,
    org: Organisation,
    slug: str,
    data: Input,
    *,
    known: checks.Problems | None = None,
) -> Course:
    """Replace a course's fields (PUT): what `data` leaves out is cleared or defaulted."""
    course = own_course(session, org, slug)
    parsed, problems = _parsed(data, known)
    values, skills = _validated(session, org, parsed, course.id, problems)
    return _save(session, course, values, skills)


def patch_course(session: Session, org: Organisation, slug: str, changes: dict[str, Any]) -> Course:
    """Change only the given fields (PATCH)."""
    course = own_course(session, org, slug)
    merged = course_input(session, course).model_dump() | changes
    parsed, problems = checks.parse_all(CourseIn, merged)
    values, skills = _validated(session, org, parsed, course.id, problems)
    return _save(session, course, values, skills)


def set_state(session: Session, org: Organisation, slug: str, state: EntryState) -> Course:
    """Publish or unpublish (back to draft: only with no published micro-credential)."""
    course = own_course(session, org, slug)
    if course.state == state:
        return course
    publishing.check_transition(session, f"course {slug!r}", course.state, state)
    if state != EntryState.published and course.state == EntryState.published:
        public = _published_micro_credentials(session, pk(course))
        if public:
            raise Conflict(
                f"course {slug!r} has published micro-credentials ("
                + ", ".join(repr(s) for s in public)
                + "): unpublish them first",
                details={"field": "state"},
            )
    before = course.state
    course.state = state.value
    course.updated_at = datetime.now(UTC)
    session.add(course)
    checks.flush(session, f"course {slug!r}")
    search.index(session, "course", [pk(course)])
    publishing.state_changed(session, "course", pk(course), before, course.state)
    return course


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
