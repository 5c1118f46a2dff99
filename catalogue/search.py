"""Keyword search over skills, job roles, courses and micro-credentials.

Every entry has one row in `search_document`; the database indexes its text: SQLite through an
FTS5 table that triggers keep in step (ranked by bm25), PostgreSQL through a GIN index on a
weighted tsvector (ranked by ts_rank). Titles weigh more than the rest on both. Every query word
matches as a prefix ("batt" finds "battery"), and all words must match.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from sqlalchemy import and_, bindparam, case, func, literal_column, or_, text
from sqlalchemy.sql.elements import ColumnClause, ColumnElement
from sqlmodel import Session, col, select

from catalogue import bulk, vocabularies
from catalogue.base import pk, table_of
from catalogue.errors import InvalidInput
from catalogue.models import (
    Course,
    CourseReview,
    CourseSkill,
    EntryState,
    JobRole,
    JobRoleSkill,
    LearningOutcome,
    LearningOutcomeSkill,
    MicroCredential,
    Organisation,
    SearchDocument,
    Skill,
    SkillLabel,
)
from catalogue.schemas import SearchFilters, SearchHit, SearchPage

KINDS = ("skill", "job_role", "course", "micro_credential")
MAX_PER_PAGE = 100
# Beyond any real catalogue, and keeps the row offset inside a 64-bit SQL integer.
MAX_PAGE = 1_000_000
_MAX_TERMS = 12
_SUMMARY_CHARS = 300
_TOKEN = re.compile(r"[^\W_]+")

# The same expression as the migration's GIN index, so PostgreSQL can use the index.
PG_VECTOR_SQL = (
    "setweight(to_tsvector('simple'::regconfig, title), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, body), 'B')"
)
_DOC = table_of(SearchDocument)
_DOC_COLUMNS = [
    "kind",
    "ref_id",
    "slug",
    "title",
    "body",
    "languages",
    "eqf_level",
    "mode",
    "country",
    "organisation_id",
    "summary",
]


# --- keeping the index in step ------------------------------------------------------------------


def document(
    kind: str,
    ref_id: int,
    *,
    slug: str,
    title: str,
    summary: str | None,
    body: Iterable[str | None],
    languages: Iterable[str] = (),
    eqf_level: int | None = None,
    mode: str | None = None,
    country: str | None = None,
    organisation_id: int | None = None,
) -> dict[str, Any]:
    langs = sorted(set(languages))
    return {
        "kind": kind,
        "ref_id": ref_id,
        "slug": slug,
        "title": title[:500],
        "summary": (summary or "")[:_SUMMARY_CHARS],
        "body": "\n".join(part for part in body if part),
        "languages": f" {' '.join(langs)} " if langs else "",
        "eqf_level": eqf_level,
        "mode": mode,
        "country": country,
        "organisation_id": organisation_id,
    }


def save_documents(session: Session, rows: list[dict[str, Any]]) -> int:
    """Insert or refresh documents; an unchanged document is not rewritten."""
    update = [c for c in _DOC_COLUMNS if c not in ("kind", "ref_id")]
    return bulk.upsert(session, _DOC, rows, key=("kind", "ref_id"), update=update)


def remove_document(session: Session, kind: str, ref_id: int) -> None:
    session.exec(_DOC.delete().where(_DOC.c.kind == kind, _DOC.c.ref_id == ref_id))


def _chunks(ids: list[int], size: int = 1000) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def skill_documents(session: Session, skill_ids: list[int]) -> list[dict[str, Any]]:
    skills = session.exec(select(Skill).where(col(Skill.id).in_(skill_ids))).all()
    labels: dict[int, list[SkillLabel]] = {}
    for label in session.exec(select(SkillLabel).where(col(SkillLabel.skill_id).in_(skill_ids))):
        labels.setdefault(label.skill_id, []).append(label)
    rows = []
    for s in skills:
        extra = labels.get(pk(s), [])
        body = [s.alt_labels, s.description]
        for label in extra:
            if label.preferred_label != s.preferred_label:
                body.append(label.preferred_label)
            if label.alt_labels != s.alt_labels:
                body.append(label.alt_labels)
        rows.append(
            document(
                "skill",
                pk(s),
                slug=s.slug,
                title=s.preferred_label,
                summary=s.description,
                body=body,
                languages=[label.language for label in extra],
            )
        )
    return rows


def job_role_documents(session: Session, ids: list[int]) -> list[dict[str, Any]]:
    roles = session.exec(select(JobRole).where(col(JobRole.id).in_(ids))).all()
    return [
        document(
            "job_role",
            pk(r),
            slug=r.slug,
            title=r.title,
            summary=r.description,
            body=[r.alt_titles, r.description, r.isco_code, r.esco_code],
        )
        for r in roles
    ]


def _skill_labels(session: Session, table: Any, fk: Any, ids: list[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    rows = session.exec(
        select(fk, Skill.preferred_label)
        .join(Skill, col(Skill.id) == table.skill_id)
        .where(fk.in_(ids))
        # In the order they were linked, not the heap's: a rebuild makes the same document.
        .order_by(col(table.id))
    )
    for ref_id, label in rows:
        found.setdefault(ref_id, []).append(label)
    return found


def course_documents(session: Session, ids: list[int]) -> list[dict[str, Any]]:
    rows = session.exec(
        select(Course, Organisation)
        .join(Organisation, col(Organisation.id) == Course.organisation_id)
        .where(col(Course.id).in_(ids), Course.state == EntryState.published.value)
    ).all()
    skills = _skill_labels(session, CourseSkill, col(CourseSkill.course_id), ids)
    return [
        document(
            "course",
            pk(c),
            slug=c.slug,
            title=c.title,
            summary=c.description,
            body=[c.description, *skills.get(pk(c), []), org.legal_name],
            languages=c.languages,
            eqf_level=c.eqf_level,
            mode=c.mode,
            country=c.country,
            organisation_id=org.id,
        )
        for c, org in rows
    ]


def micro_credential_documents(session: Session, ids: list[int]) -> list[dict[str, Any]]:
    rows = session.exec(
        select(MicroCredential, Course, Organisation)
        .join(Course, col(Course.id) == MicroCredential.course_id)
        .join(Organisation, col(Organisation.id) == Course.organisation_id)
        .where(
            col(MicroCredential.id).in_(ids),
            MicroCredential.state == EntryState.published.value,
        )
    ).all()
    outcomes: dict[int, list[str]] = {}
    for mc_id, outcome_text in session.exec(
        select(LearningOutcome.micro_credential_id, LearningOutcome.text)
        .where(col(LearningOutcome.micro_credential_id).in_(ids))
        .order_by(col(LearningOutcome.position), col(LearningOutcome.id))
    ):
        outcomes.setdefault(mc_id, []).append(outcome_text)
    skills: dict[int, list[str]] = {}
    for mc_id, label in session.exec(
        select(LearningOutcome.micro_credential_id, Skill.preferred_label)
        .join(LearningOutcomeSkill, col(LearningOutcomeSkill.outcome_id) == LearningOutcome.id)
        .join(Skill, col(Skill.id) == LearningOutcomeSkill.skill_id)
        .where(col(LearningOutcome.micro_credential_id).in_(ids))
    ):
        skills.setdefault(mc_id, []).append(label)
    return [
        document(
            "micro_credential",
            pk(mc),
            slug=mc.slug,
            title=mc.title,
            summary=mc.description,
            body=[
                mc.description,
                *outcomes.get(pk(mc), []),
                *sorted(set(skills.get(pk(mc), []))),
                course.title,
                org.legal_name,
            ],
            languages=mc.languages,
            eqf_level=mc.eqf_level,
            mode=mc.mode,
            country=mc.country,
            organisation_id=org.id,
        )
        for mc, course, org in rows
    ]


_Indexed = type[Skill] | type[JobRole] | type[Course] | type[MicroCredential]
_BUILDERS: dict[str, tuple[_Indexed, Callable[[Session, list[int]], list[dict[str, Any]]]]] = {
    "skill": (Skill, skill_documents),
    "job_role": (JobRole, job_role_documents),
    "course": (Course, course_documents),
    "micro_credential": (MicroCredential, micro_credential_documents),
}


def index(session: Session, kind: str, ids: Iterable[int]) -> int:
    """Refresh the documents of these entries (after a write); returns documents changed.
    An entry the builder leaves out (a draft) loses its document: search shows public ones."""
    build = _BUILDERS[kind][1]
    session.flush()
    changed = 0
    for chunk in _chunks(sorted(set(ids))):
        rows = build(session, chunk)
        changed += save_documents(session, rows)
        hidden = set(chunk) - {row["ref_id"] for row in rows}
        if hidden:
            gone = session.exec(
                _DOC.delete().where(_DOC.c.kind == kind, _DOC.c.ref_id.in_(sorted(hidden)))
            )
            changed += max(gone.rowcount, 0)
    return changed


def reindex(session: Session, kinds: Iterable[str] = KINDS) -> int:
    """Rebuild documents from the catalogue (drops those of deleted entries); returns changes."""
    changed = 0
    for kind in kinds:
        model = _BUILDERS[kind][0]
        ids = [pk for pk in session.exec(select(col(model.id))) if pk is not None]
        stale = session.exec(
            _DOC.delete().where(_DOC.c.kind == kind, _DOC.c.ref_id.not_in(select(col(model.id))))
        )
        changed += max(stale.rowcount, 0) + index(session, kind, ids)
    return changed


# --- querying -------------------------------------------------------------------------------------


def terms(q: str) -> list[str]:
    return _TOKEN.findall(q.lower())[:_MAX_TERMS]


def _filters(session: Session, filters: SearchFilters) -> list[ColumnElement[bool]]:
    d = _DOC.c
    where: list[ColumnElement[bool]] = []
    if filters.kind:
        if filters.kind not in KINDS:
            raise InvalidInput(f"kind must be one of {', '.join(KINDS)}", details={"field": "kind"})
        where.append(d.kind == filters.kind)
    if filters.eqf_level is not None:
        where.append(d.eqf_level == int(vocabularies.code("eqf", filters.eqf_level)))
    if filters.mode:
        where.append(d.mode == vocabularies.code("mode", filters.mode))
    if filters.language:
        where.append(d.languages.like(f"% {vocabularies.code('language', filters.language)} %"))
    if filters.country:
        where.append(d.country == vocabularies.code("country", filters.country))
    if filters.provider:
        org_id = session.exec(
            select(col(Organisation.id)).where(Organisation.slug == filters.provider)
        ).first()
        if org_id is None:
            raise InvalidInput(f"no provider {filters.provider!r}", details={"field": "provider"})
        where.append(d.organisation_id == org_id)
    if filters.skill:
        skill_id = session.exec(
            select(col(Skill.id)).where(
                or_(col(Skill.iri) == filters.skill, col(Skill.slug) == filters.skill)
            )
        ).first()
        if skill_id is None:
            raise InvalidInput(f"no skill {filters.skill!r}", details={"field": "skill"})
        outcome_mcs = (
            select(LearningOutcome.micro_credential_id)
            .join(LearningOutcomeSkill, col(LearningOutcomeSkill.outcome_id) == LearningOutcome.id)
            .where(LearningOutcomeSkill.skill_id == skill_id)
        )
        where.append(
            or_(
                and_(d.kind == "skill", d.ref_id == skill_id),
                and_(
                    d.kind == "job_role",
                    d.ref_id.in_(
                        select(JobRoleSkill.job_role_id).where(JobRoleSkill.skill_id == skill_id)
                    ),
                ),
                and_(
                    d.kind == "course",
                    d.ref_id.in_(
                        select(CourseSkill.course_id).where(CourseSkill.skill_id == skill_id)
                    ),
                ),
                and_(d.kind == "micro_credential", d.ref_id.in_(outcome_mcs)),
            )
        )
    return where


def _ranked(session: Session, words: list[str]) -> Any:
    """A subquery of (id, score) for the documents matching every word; higher score is better."""
    if session.connection().dialect.name == "postgresql":
        query = func.to_tsquery(literal_column("'simple'::regconfig"), bindparam("tsquery"))
        vector: ColumnClause[Any] = literal_column(f"({PG_VECTOR_SQL})")
        return (
            select(_DOC.c.id, func.ts_rank(vector, query, 1).label("score"))
            .where(vector.op("@@")(query))
            .params(tsquery=" & ".join(f"{w}:*" for w in words))
            .subquery()
        )
    return (
        select(
            literal_column("rowid").label("id"),
            (-func.bm25(literal_column("search_fts"), 10.0, 1.0)).label("score"),
        )
        .select_from(text("search_fts"))
        .where(literal_column("search_fts").op("MATCH")(bindparam("match")))
        .params(match=" ".join(f'"{w}"*' for w in words))
        .subquery()
    )


def offset(page: int, per_page: int) -> int:
    """The first row of a page for every paginated list, or InvalidInput for an impossible page."""
    if not 1 <= page <= MAX_PAGE:
        raise InvalidInput(f"page must be between 1 and {MAX_PAGE}", details={"field": "page"})
    if per_page < 1:
        raise InvalidInput("per_page must be 1 or more", details={"field": "per_page"})
    return (page - 1) * per_page


SORTS = ("relevance", "rating")


def _ratings() -> Any:
    """(course id, average rating, review count) of the graduates' reviews the public sees."""
    reviews = table_of(CourseReview)
    return (
        select(
            reviews.c.course_id.label("course_id"),
            func.avg(reviews.c.rating).label("average"),
            func.count().label("reviews"),
        )
        .where(reviews.c.hidden_at.is_(None))
        .group_by(reviews.c.course_id)
        .subquery()
    )


def search(
    session: Session,
    q: str = "",
    filters: SearchFilters | None = None,
    page: int = 1,
    per_page: int = 20,
    sort: str = "relevance",
) -> SearchPage:
    """Ranked, filtered, paginated search; an empty query lists entries by title. `sort`
    "rating": courses and micro-credentials by their course's graduates' average rating
    first (then the number of reviews), the rest after them."""
    if per_page > MAX_PER_PAGE:
        raise InvalidInput(
            f"per_page must be between 1 and {MAX_PER_PAGE}", details={"field": "per_page"}
        )
    if sort not in SORTS:
        raise InvalidInput("sort is relevance or rating", details={"field": "sort"})
    start = offset(page, per_page)
    where = _filters(session, filters or SearchFilters())
    words = terms(q)
    d = _DOC.c
    base: Any  # a Select of (document, score, average, reviews)
    ratings = _ratings()
    mcs = table_of(MicroCredential)
    if words:
        ranked = _ranked(session, words)
        base = select(SearchDocument, ranked.c.score).join(ranked, ranked.c.id == d.id)
        order = [ranked.c.score.desc(), d.title, d.id]
    else:
        base = select(SearchDocument, literal_column("0.0").label("score"))
        order = [d.title, d.id]
    base = (
        base.add_columns(ratings.c.average, ratings.c.reviews)
        .outerjoin(mcs, and_(d.kind == "micro_credential", mcs.c.id == d.ref_id))
        .outerjoin(
            ratings,
            ratings.c.course_id == case((d.kind == "course", d.ref_id), else_=mcs.c.course_id),
        )
    )
    if sort == "rating":
        unrated = case((ratings.c.average.is_(None), 1), else_=0)
        order = [unrated, ratings.c.average.desc(), ratings.c.reviews.desc(), *order]
    base = base.where(*where)
    total = session.exec(select(func.count()).select_from(base.subquery())).one()
    rows = session.exec(base.order_by(*order).limit(per_page).offset(start))
    hits = [
        SearchHit(
            kind=r.kind,
            slug=r.slug,
            title=r.title,
            summary=r.summary,
            score=float(score),
            rating=round(float(average), 1) if average is not None else None,
            reviews=int(reviews or 0),
        )
        for r, score, average, reviews in rows
    ]
    return SearchPage(items=hits, total=total, page=page, per_page=per_page, query=q)
