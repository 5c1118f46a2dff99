"""Skills and job roles: reads (their writes come from the ESCO import and the demo data)."""

from __future__ import annotations

import threading
from weakref import WeakKeyDictionary

from cachetools import LRUCache
from sqlalchemy import func, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, or_, select

from catalogue import courses, search, vocabularies
from catalogue.base import pk
from catalogue.errors import NotFound
from catalogue.models import (
    Course,
    CourseSkill,
    EntryState,
    JobRole,
    JobRoleSkill,
    Skill,
    SkillLabel,
    SkillLevel,
)
from catalogue.schemas import (
    ConceptRef,
    CourseTeaching,
    JobRoleOut,
    JobRoleRef,
    LevelledSkill,
    Page,
    RequiredSkill,
    SkillLabels,
    SkillOut,
    SkillRef,
)


def lines(value: str | None) -> list[str]:
    return [line for line in (value or "").splitlines() if line.strip()]


def get_skill(session: Session, key: str) -> Skill:
    """A skill by slug or IRI."""
    skill = session.exec(select(Skill).where(or_(Skill.slug == key, Skill.iri == key))).first()
    if skill is None:
        raise NotFound(f"skill {key!r} does not exist")
    return skill


def skill_ref(skill: Skill) -> SkillRef:
    return SkillRef(iri=skill.iri, slug=skill.slug, label=skill.preferred_label)


def skill_view(session: Session, skill: Skill) -> SkillOut:
    labels = session.exec(
        select(SkillLabel).where(SkillLabel.skill_id == skill.id).order_by(SkillLabel.language)
    )
    return SkillOut(
        iri=skill.iri,
        slug=skill.slug,
        preferred_label=skill.preferred_label,
        alt_labels=lines(skill.alt_labels),
        description=skill.description,
        skill_type=(
            ConceptRef.of(vocabularies.concept("skill-type", skill.skill_type))
            if skill.skill_type
            else None
        ),
        reuse_level=(
            ConceptRef.of(vocabularies.concept("reuse-level", skill.reuse_level))
            if skill.reuse_level
            else None
        ),
        labels=[
            SkillLabels(
                language=label.language,
                preferred_label=label.preferred_label,
                alt_labels=lines(label.alt_labels),
                description=label.description,
            )
            for label in labels
        ],
    )


def list_skills(session: Session, *, page: int = 1, per_page: int = 20) -> Page[SkillRef]:
    total = session.exec(select(func.count()).select_from(Skill)).one()
    rows = session.exec(
        select(Skill)
        .order_by(Skill.preferred_label, col(Skill.id))
        .offset(search.offset(page, per_page))
        .limit(per_page)
    )
    return Page(items=[skill_ref(s) for s in rows], total=total, page=page, per_page=per_page)


def get_job_role(session: Session, key: str) -> JobRole:
    """A job role by slug or IRI."""
    role = session.exec(select(JobRole).where(or_(JobRole.slug == key, JobRole.iri == key))).first()
    if role is None:
        raise NotFound(f"job role {key!r} does not exist")
    return role


def job_role_ref(role: JobRole) -> JobRoleRef:
    return JobRoleRef(iri=role.iri, slug=role.slug, title=role.title, isco_code=role.isco_code)


def list_job_roles(session: Session, *, page: int = 1, per_page: int = 20) -> Page[JobRoleRef]:
    total = session.exec(select(func.count()).select_from(JobRole)).one()
    rows = session.exec(
        select(JobRole)
        .order_by(JobRole.title, col(JobRole.id))
        .offset(search.offset(page, per_page))
        .limit(per_page)
    )
    return Page(items=[job_role_ref(r) for r in rows], total=total, page=page, per_page=per_page)


def required_skills(session: Session, role: JobRole) -> list[RequiredSkill]:
    """The role's skills: essential first, then the higher level, then by label."""
    rows = session.exec(
        select(Skill, JobRoleSkill)
        .join(JobRoleSkill, col(JobRoleSkill.skill_id) == Skill.id)
        .where(JobRoleSkill.job_role_id == role.id)
    )
    found = [
        RequiredSkill(
            iri=s.iri,
            slug=s.slug,
            label=s.preferred_label,
            level=SkillLevel(link.level),
            essential=link.essential,
        )
        for s, link in rows
    ]
    return sorted(found, key=lambda r: (not r.essential, -r.level.rank, r.label))


def courses_teaching(session: Session, skill_iris: list[str]) -> list[CourseTeaching]:
    """Courses that teach any of these skills, the ones teaching most first."""
    rows = session.exec(
        select(Course, Skill, CourseSkill.level)
        .join(CourseSkill, col(CourseSkill.course_id) == Course.id)
        .join(Skill, col(Skill.id) == CourseSkill.skill_id)
        .where(col(Skill.iri).in_(skill_iris), Course.state == EntryState.published.value)
    )
    by_course: dict[int, tuple[Course, list[LevelledSkill]]] = {}
    for course, skill, level in rows:
        entry = by_course.setdefault(pk(course), (course, []))
        entry[1].append(
            LevelledSkill(
                iri=skill.iri, slug=skill.slug, label=skill.preferred_label, level=SkillLevel(level)
            )
        )
    found = list(by_course.values())
    views = courses.summaries(session, [c for c, _ in found])
    teaching = [
        CourseTeaching(**view.model_dump(), teaches=sorted(taught, key=lambda s: s.label))
        for view, (_c, taught) in zip(views, found, strict=True)
    ]
    return sorted(teaching, key=lambda t: (-len(t.teaches), t.title))


def job_role_view(session: Session, role: JobRole) -> JobRoleOut:
    skills = required_skills(session, role)
    return JobRoleOut(
        **job_role_ref(role).model_dump(),
        alt_titles=lines(role.alt_titles),
        description=role.description,
        esco_code=role.esco_code,
        skills=skills,
        courses=courses_teaching(session, [s.iri for s in skills]),
    )


def skill_refs(session: Session, keys: list[str]) -> dict[str, SkillRef]:
    """The skills these slugs or IRIs name, by the key given (unknown keys left out)."""
    wanted = [k for k in dict.fromkeys(k.strip() for k in keys) if k][:500]
    if not wanted:
        return {}
    found: dict[str, SkillRef] = {}
    for skill in session.exec(
        select(Skill).where(or_(col(Skill.slug).in_(wanted), col(Skill.iri).in_(wanted)))
    ):
        ref = skill_ref(skill)
        found[skill.iri] = found[skill.slug] = ref
    return {k: found[k] for k in wanted if k in found}


def _read_labels(session: Session, iris: list[str], language: str | None) -> dict[str, str]:
    """One query: the labels of those IRIs the catalogue holds, in `language` where it has
    one (None: the primary labels)."""
    if language is None:
        statement = select(Skill.iri, Skill.preferred_label).where(col(Skill.iri).in_(iris))
        return dict(session.exec(statement).all())
    translated = (
        select(Skill.iri, Skill.preferred_label, SkillLabel.preferred_label)
        .outerjoin(
            SkillLabel,
            (col(SkillLabel.skill_id) == Skill.id) & (col(SkillLabel.language) == language),
        )
        .where(col(Skill.iri).in_(iris))
    )
    return {iri: own or primary for iri, primary, own in session.exec(translated).all()}


def labels_in(session: Session, iris: list[str], language: str) -> dict[str, str]:
    """The labels of those skill IRIs the catalogue holds, in `language` (an ISO 639-1 code):
    a skill's own label in that language where the catalogue has one (`SkillLabel`), else its
    primary label. One query however many skills are asked for."""
    wanted = list(dict.fromkeys(iris))
    if not wanted:
        return {}
    return _read_labels(session, wanted, language)


# --- skill labels, cached across requests -------------------------------------------------

_LABEL_CACHE_SIZE = 4096
_SKILL_VERSION = text("SELECT version FROM catalogue_version WHERE name = 'skill'")


class _LabelCache:
    """Labels by language and skill IRI (None: not in the catalogue), valid for one version
    of the skill table. Triggers bump the version on every write to the skill and skill_label
    tables, from any process (the migrations a4f1c9e2b7d3 and b7e3c5a9d1f4), so a cache
    compares it instead of being told. The primary labels are kept under the language ""."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.version: int | None = None
        self.labels: LRUCache[tuple[str, str], str | None] = LRUCache(maxsize=_LABEL_CACHE_SIZE)


_label_caches: WeakKeyDictionary[Engine, _LabelCache] = WeakKeyDictionary()
_label_caches_lock = threading.Lock()


def _label_cache(session: Session) -> _LabelCache:
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    with _label_caches_lock:
        cache = _label_caches.get(engine)
        if cache is None:
            cache = _label_caches[engine] = _LabelCache()
        return cache


def skill_labels(session: Session, iris: list[str], language: str | None = None) -> dict[str, str]:
    """The catalogue's preferred labels of those skill IRIs it holds: in `language` where it
    holds a label in it (`labels_in`), else (and with no language asked for) the primary one.

    Every verification asks for the labels of the skills its credential aligns to: they are
    kept per database, checked against the skill table's change counter (one primary-key
    read) and read again only after a change. What a read adds is kept only if the version
    it was read under is still the cache's (a newer read may have cleared it meanwhile)."""
    wanted = list(dict.fromkeys(iris))
    if not wanted:
        return {}
    version = session.exec(_SKILL_VERSION).scalar()  # type: ignore[call-overload]
    cache = _label_cache(session)
    kept = language or ""
    found: dict[str, str | None] = {}
    with cache.lock:
        if version is not None and (cache.version is None or version > cache.version):
            cache.labels.clear()
            cache.version = version
        if version is not None and version == cache.version:
            for iri in wanted:
                if (kept, iri) in cache.labels:
                    found[iri] = cache.labels[kept, iri]
    missing = [iri for iri in wanted if iri not in found]
    if missing:
        rows = _read_labels(session, missing, language)
        with cache.lock:
            keep = version is not None and version == cache.version
            for iri in missing:
                found[iri] = rows.get(iri)
                if keep:
                    cache.labels[kept, iri] = rows.get(iri)
    return {iri: label for iri, label in found.items() if label is not None}
