"""The community's review (issue 20): a provider submits a course or micro-credential, or a
change to a job role's required skills; a hub operator approves it (published, or applied) or
requests changes with comments; both sides talk in the submission's conversation.

Every step is a compare-and-set on the row's state (`UPDATE … WHERE state = 'submitted'`), so
two operators deciding at once, or a provider withdrawing while an operator approves, end with
one outcome on SQLite and PostgreSQL alike. Roles and the audit log are accounts.review's; this
module knows no users, only the labels it stores.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlmodel import Session, col, delete, select, update

from catalogue import courses, micro_credentials, search, skills
from catalogue.base import pk
from catalogue.errors import Conflict, InvalidInput, NotFound
from catalogue.models import (
    Course,
    EntryState,
    JobRole,
    JobRoleSkill,
    MicroCredential,
    Organisation,
    Skill,
    SkillLevel,
    Submission,
    SubmissionMessage,
    SubmissionState,
)

Kind = Literal["course", "micro_credential", "job_role"]
EntryKind = Literal["course", "micro_credential"]
KINDS: tuple[Kind, ...] = ("course", "micro_credential", "job_role")
MAX_MESSAGE = 2000
MAX_SKILLS = 200
_RESUBMITTABLE = (EntryState.draft.value, EntryState.changes_requested.value)


class ReviewConflict(Conflict):
    code = "review_conflict"


@dataclass(frozen=True)
class Change:
    field: str
    before: Any
    after: Any


@dataclass(frozen=True)
class Entry:
    """What a submission is about, as the queue and its page name it."""

    kind: Kind
    slug: str
    title: str
    state: str | None  # None for a job role (no state of its own)


def _message(text: str | None, *, required: bool = False, what: str = "comment") -> str | None:
    text = (text or "").strip()
    if not text:
        if required:
            raise InvalidInput(
                f"write a {what}: what should the provider change?",
                details={"field": "comment"},
            )
        return None
    if len(text) > MAX_MESSAGE:
        raise InvalidInput(
            f"the {what} is too long ({len(text)} characters; at most {MAX_MESSAGE})",
            details={"field": "comment"},
        )
    return text


def _row(session: Session, kind: Kind, ref_id: int) -> Course | MicroCredential | JobRole:
    row: Course | MicroCredential | JobRole | None
    if kind == "course":
        row = session.get(Course, ref_id)
    elif kind == "micro_credential":
        row = session.get(MicroCredential, ref_id)
    else:
        row = session.get(JobRole, ref_id)
    if row is None:
        raise NotFound(f"the {kind.replace('_', '-')} of this submission no longer exists")
    return row


def entry_of(session: Session, submission: Submission) -> Entry:
    row = _row(session, submission.kind, submission.ref_id)  # type: ignore[arg-type]  # checked by the table's constraint
    if isinstance(row, JobRole):
        return Entry("job_role", row.slug, row.title, None)
    kind: Kind = "course" if isinstance(row, Course) else "micro_credential"
    return Entry(kind, row.slug, row.title, row.state)


def snapshot(session: Session, row: Course | MicroCredential | JobRole) -> dict[str, Any]:
    """The content a reviewer approves (the state left out: it is the review's)."""
    if isinstance(row, MicroCredential):
        data = micro_credentials.micro_credential_input(session, row)
        return data.model_dump(mode="json", exclude={"state"})
    if isinstance(row, Course):
        return courses.course_input(session, row).model_dump(mode="json", exclude={"state"})
    return {"skills": _role_skills(session, row)}


def _role_skills(session: Session, role: JobRole) -> list[dict[str, Any]]:
    return [
        {"skill": s.iri, "label": s.label, "level": s.level.value, "essential": s.essential}
        for s in skills.required_skills(session, role)
    ]


def _entry(session: Session, org: Organisation, kind: EntryKind, slug: str) -> Any:
    if kind == "course":
        return courses.own_course(session, org, slug)
    return micro_credentials.own_micro_credential(session, org, slug)


def _cas_state(
    session: Session, row: Course | MicroCredential, old: tuple[str, ...], new: str
) -> bool:
    """Move the entry's state from one of `old` to `new`; False when another change won."""
    model = type(row)
    result = session.exec(
        update(model)
        .where(col(model.id) == pk(row), col(model.state).in_(old))
        .values(state=new, updated_at=datetime.now(UTC))
    )
    session.refresh(row)
    return result.rowcount == 1


def _add_message(session: Session, submission: Submission, side: str, by: str, body: str) -> None:
    session.add(
        SubmissionMessage(
            submission_id=pk(submission), author_side=side, author_label=by[:320], body=body
        )
    )
    session.flush()


def submit(
    session: Session,
    org: Organisation,
    kind: EntryKind,
    slug: str,
    *,
    by: str,
    note: str | None = None,
) -> Submission:
    """A draft (or one sent back) goes to the operators' queue, with its content as it is now."""
    note = _message(note, what="note")
    row = _entry(session, org, kind, slug)
    what = f"{kind.replace('_', '-')} {slug!r}"
    if row.state == EntryState.submitted:
        raise ReviewConflict(f"{what} is waiting for review already")
    if row.state == EntryState.published:
        raise ReviewConflict(
            f"{what} is published: unpublish it (back to draft) and change it before "
            "submitting it again"
        )
    if not _cas_state(session, row, _RESUBMITTABLE, EntryState.submitted.value):
        raise ReviewConflict(f"{what} changed meanwhile: load it again")
    submission = Submission(
        kind=kind,
        ref_id=pk(row),
        organisation_id=pk(org),
        snapshot=snapshot(session, row),
        submitted_by=by[:320],
    )
    session.add(submission)
    session.flush()
    if note:
        _add_message(session, submission, "provider", by, note)
    return submission


def _checked_skills(
    session: Session, proposed: list[dict[str, Any]]
) -> dict[int, tuple[str, bool]]:
    if len(proposed) > MAX_SKILLS:
        raise InvalidInput(f"at most {MAX_SKILLS} skills", details={"field": "skills"})
    found: dict[int, tuple[str, bool]] = {}
    for index, item in enumerate(proposed):
        key = str(item.get("skill") or "").strip()
        if not key:
            raise InvalidInput(f"skill {index + 1}: name a skill", details={"field": "skills"})
        skill = skills.get_skill(session, key)
        try:
            level = SkillLevel(str(item.get("level") or SkillLevel.practitioner.value))
        except ValueError:
            raise InvalidInput(
                f"skill {key!r}: level must be awareness, practitioner or expert",
                details={"field": "skills"},
            ) from None
        if pk(skill) in found:
            raise InvalidInput(f"skill {key!r} is listed twice", details={"field": "skills"})
        found[pk(skill)] = (level.value, bool(item.get("essential", True)))
    return found


def propose_job_role(
    session: Session,
    org: Organisation,
    role_key: str,
    proposed: list[dict[str, Any]],
    *,
    by: str,
    note: str | None = None,
) -> Submission:
    """A provider's proposed list of the role's required skills, for the operators to apply."""
    note = _message(note, what="note")
    role = skills.get_job_role(session, role_key)
    checked = _checked_skills(session, proposed)
    listed = []
    for skill_id, (level, essential) in checked.items():
        skill = session.get(Skill, skill_id)
        assert skill is not None
        entry = {"skill": skill.iri, "label": skill.preferred_label}
        listed.append(entry | {"level": level, "essential": essential})
    submission = Submission(
        kind="job_role",
        ref_id=pk(role),
        organisation_id=pk(org),
        snapshot={"skills": listed},
        submitted_by=by[:320],
    )
    session.add(submission)
    session.flush()
    if note:
        _add_message(session, submission, "provider", by, note)
    return submission


def set_job_role_skills(session: Session, role: JobRole, proposed: list[dict[str, Any]]) -> None:
    """Replace the role's required skills (an operator's edit, or an approved proposal)."""
    checked = _checked_skills(session, proposed)
    session.exec(delete(JobRoleSkill).where(col(JobRoleSkill.job_role_id) == pk(role)))
    session.add_all(
        JobRoleSkill(job_role_id=pk(role), skill_id=sid, level=level, essential=essential)
        for sid, (level, essential) in checked.items()
    )
    role.updated_at = datetime.now(UTC)
    session.add(role)
    session.flush()


def get_submission(session: Session, submission_id: int) -> Submission:
    found = session.get(Submission, submission_id)
    if found is None:
        raise NotFound(f"there is no submission {submission_id}")
    return found


def _decide(session: Session, submission: Submission, state: SubmissionState, by: str) -> None:
    now = datetime.now(UTC)
    result = session.exec(
        update(Submission)
        .where(
            col(Submission.id) == pk(submission),
            col(Submission.state) == SubmissionState.submitted.value,
        )
        .values(state=state.value, decided_at=now, decided_by=by[:320])
    )
    if result.rowcount != 1:
        session.refresh(submission)
        raise ReviewConflict(
            f"this submission was decided meanwhile ({submission.state.replace('_', ' ')})"
        )
    session.refresh(submission)


def request_changes(session: Session, submission_id: int, *, by: str, comment: str) -> Submission:
    body = _message(comment, required=True)
    assert body is not None
    submission = get_submission(session, submission_id)
    _decide(session, submission, SubmissionState.changes_requested, by)
    if submission.kind != "job_role":
        row = _row(session, submission.kind, submission.ref_id)  # type: ignore[arg-type]  # a catalogue entry
        assert isinstance(row, Course | MicroCredential)
        _cas_state(session, row, (EntryState.submitted.value,), EntryState.changes_requested.value)
    _add_message(session, submission, "operator", by, body)
    return submission


def approve(
    session: Session, submission_id: int, *, by: str, comment: str | None = None
) -> Submission:
    """Publish the entry as submitted (or apply the job role's skills)."""
    body = _message(comment)
    submission = get_submission(session, submission_id)
    row = _row(session, submission.kind, submission.ref_id)  # type: ignore[arg-type]  # checked by the table's constraint
    if isinstance(row, JobRole):
        _decide(session, submission, SubmissionState.approved, by)
        set_job_role_skills(session, row, list(submission.snapshot.get("skills") or []))
    else:
        what = f"{submission.kind.replace('_', '-')} {row.slug!r}"
        if isinstance(row, MicroCredential):
            course = session.get(Course, row.course_id)
            if course is not None and course.state != EntryState.published:
                raise ReviewConflict(
                    f"{what} belongs to course {course.slug!r}, which is not published: "
                    "approve the course first"
                )
        if snapshot(session, row) != submission.snapshot:
            raise ReviewConflict(f"{what} differs from what was submitted: load it again")
        _decide(session, submission, SubmissionState.approved, by)
        if not _cas_state(session, row, (EntryState.submitted.value,), EntryState.published.value):
            raise ReviewConflict(f"{what} is no longer waiting for review")
        search.index(session, submission.kind, [pk(row)])
    if body:
        _add_message(session, submission, "operator", by, body)
    return submission


def reply(session: Session, submission: Submission, *, side: str, by: str, body: str) -> None:
    text = _message(body, required=True, what="message")
    assert text is not None
    _add_message(session, submission, side, by, text)


def queue(session: Session, *, limit: int = 200) -> list[Submission]:
    """What waits for a decision, oldest first."""
    return list(
        session.exec(
            select(Submission)
            .where(Submission.state == SubmissionState.submitted.value)
            .order_by(col(Submission.created_at), col(Submission.id))
            .limit(limit)
        )
    )


def history(session: Session, kind: Kind, ref_id: int, *, limit: int = 50) -> list[Submission]:
    """An entry's submissions, newest first."""
    return list(
        session.exec(
            select(Submission)
            .where(Submission.kind == kind, Submission.ref_id == ref_id)
            .order_by(col(Submission.created_at).desc(), col(Submission.id).desc())
            .limit(limit)
        )
    )


def latest_submissions(session: Session, org: Organisation) -> dict[tuple[str, int], Submission]:
    """The organisation's latest submission of each entry, by (kind, ref_id)."""
    found: dict[tuple[str, int], Submission] = {}
    for row in session.exec(
        select(Submission)
        .where(Submission.organisation_id == pk(org))
        .order_by(col(Submission.id).desc())
        .limit(2000)
    ):
        found.setdefault((row.kind, row.ref_id), row)
    return found


def messages(session: Session, submission_ids: list[int]) -> list[SubmissionMessage]:
    if not submission_ids:
        return []
    return list(
        session.exec(
            select(SubmissionMessage)
            .where(col(SubmissionMessage.submission_id).in_(submission_ids))
            .order_by(col(SubmissionMessage.created_at), col(SubmissionMessage.id))
        )
    )


def last_approved(session: Session, submission: Submission) -> Submission | None:
    """The entry's approval before this submission: what the diff compares with."""
    return session.exec(
        select(Submission)
        .where(
            Submission.kind == submission.kind,
            Submission.ref_id == submission.ref_id,
            Submission.state == SubmissionState.approved.value,
            col(Submission.id) < pk(submission),
        )
        .order_by(col(Submission.id).desc())
        .limit(1)
    ).first()


def _flat(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        found: dict[str, Any] = {}
        for key, item in value.items():
            found |= _flat(item, f"{prefix}.{key}" if prefix else str(key))
        return found
    if isinstance(value, list) and any(isinstance(item, dict | list) for item in value):
        found = {}
        for index, item in enumerate(value):
            found |= _flat(item, f"{prefix}.{index}")
        return found
    return {prefix: value}


def diff(before: dict[str, Any] | None, after: dict[str, Any]) -> list[Change]:
    """What changed, field by field (`learning_outcomes.2.text`); everything when nothing was
    approved before."""
    old, new = _flat(before or {}), _flat(after)
    changes = []
    for field in list(new) + [f for f in old if f not in new]:
        if old.get(field) != new.get(field):
            changes.append(Change(field, old.get(field), new.get(field)))
    return changes


__all__ = [
    "Change",
    "Entry",
    "ReviewConflict",
    "approve",
    "diff",
    "entry_of",
    "get_submission",
    "history",
    "last_approved",
    "messages",
    "propose_job_role",
    "queue",
    "reply",
    "request_changes",
    "set_job_role_skills",
    "snapshot",
    "submit",
]
