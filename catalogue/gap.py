"""Skills gap and training path: what a learner lacks for a job role, and courses that close it.

The skills a learner has come as IRIs: listed by the learner, or proven by badges they hold (the
badges layer reads the IRIs from the credentials and passes them here).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, col, select

from catalogue import courses, skills
from catalogue.base import pk
from catalogue.models import Course, CourseSkill, EntryState, MicroCredential, Skill, SkillLevel
from catalogue.schemas import GapResult, MicroCredentialRef, MissingSkill, PathStep, SkillRef


def _workload(course: Course) -> float:
    """Hours, for tie-breaking; ECTS count as 27.5 hours (25 to 30 hours each); unknown last."""
    if course.workload_hours is not None:
        return course.workload_hours
    if course.ects is not None:
        return course.ects * 27.5
    return float("inf")


def gap(session: Session, job_role: str, have_skill_iris: Iterable[str] = ()) -> GapResult:
    """The missing skills (essential first, higher levels first) and a greedy set cover of
    courses: each step takes the course closing most of what is still open, ties going to the
    lower workload. A course closes a skill only when it teaches it at the level required."""
    role = skills.get_job_role(session, job_role)
    required = skills.required_skills(session, role)
    # A held skill may be named by its IRI or, as people type it, by its slug.
    held = {i.strip() for i in have_skill_iris if i.strip()}
    known = {r.iri for r in required} | {r.slug for r in required}
    have = [r for r in required if r.iri in held or r.slug in held]
    missing = [
        MissingSkill(**r.model_dump()) for r in required if r.iri not in held and r.slug not in held
    ]
    need = {m.iri: m for m in missing}

    # Which missing skills each course teaches at (at least) the required level.
    closes: dict[int, set[str]] = {}
    course_by_id: dict[int, Course] = {}
    for course, iri, level in session.exec(
        select(Course, Skill.iri, CourseSkill.level)
        .join(CourseSkill, col(CourseSkill.course_id) == Course.id)
        .join(Skill, col(Skill.id) == CourseSkill.skill_id)
        .where(col(Skill.iri).in_(list(need)), Course.state == EntryState.published.value)
    ):
        if SkillLevel(level).rank >= need[iri].level.rank:
            closes.setdefault(pk(course), set()).add(iri)
            course_by_id[pk(course)] = course

    open_iris = set(need)
    chosen: list[tuple[Course, list[str]]] = []
    while open_iris and closes:
        best = min(
            closes,
            key=lambda cid: (
                -len(closes[cid] & open_iris),
                _workload(course_by_id[cid]),
                course_by_id[cid].title,
            ),
        )
        gained = closes.pop(best) & open_iris
        if not gained:
            break
        open_iris -= gained
        chosen.append((course_by_id[best], sorted(gained, key=lambda i: need[i].label)))

    summaries = courses.summaries(session, [c for c, _ in chosen])
    path = []
    for (course, closed), summary in zip(chosen, summaries, strict=True):
        mcs = session.exec(
            select(MicroCredential)
            .where(
                MicroCredential.course_id == course.id,
                MicroCredential.state == EntryState.published.value,
            )
            .order_by(MicroCredential.title)
        )
        path.append(
            PathStep(
                course=summary,
                micro_credentials=[MicroCredentialRef(slug=m.slug, title=m.title) for m in mcs],
                closes=[SkillRef(iri=i, slug=need[i].slug, label=need[i].label) for i in closed],
                closes_share=round(len(closed) / len(missing), 4),
            )
        )
    return GapResult(
        job_role=skills.job_role_ref(role),
        required=len(required),
        have=[SkillRef(iri=h.iri, slug=h.slug, label=h.label) for h in have],
        missing=missing,
        path=path,
        uncovered=[m for m in missing if m.iri in open_iris],
        unknown=sorted(held - known),
        total_hours=sum(step.course.workload_hours or 0 for step in path),
        total_ects=sum(step.course.ects or 0 for step in path),
        hours_unknown=sum(1 for step in path if step.course.workload_hours is None),
    )
