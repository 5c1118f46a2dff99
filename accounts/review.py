"""The review workflow's console actions: who may do what, and the audit event of each step.

Providers (issuer role) submit their courses and micro-credentials and propose job-role
changes; hub operators approve or request changes, never on a submission of an organisation
they belong to (nobody approves their own work); both sides write in the conversation. Every
step is recorded in the submitting organisation's audit log, in the step's own transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from accounts import audit
from accounts.audit import Actor
from accounts.models import User
from accounts.operators import is_operator, require_operator
from accounts.roles import Role
from accounts.users import require_role, role_in
from catalogue import review, skills
from catalogue.base import pk
from catalogue.errors import Forbidden
from catalogue.models import JobRole, Organisation, Submission, SubmissionMessage


class OwnSubmission(Forbidden):
    """An operator who belongs to the submitting organisation does not decide on it."""

    code = "own_submission"


@dataclass(frozen=True)
class QueueItem:
    submission: Submission
    entry: review.Entry
    organisation: Organisation


@dataclass(frozen=True)
class SubmissionView:
    submission: Submission
    entry: review.Entry
    organisation: Organisation
    changes: list[review.Change]
    since_approval: bool  # False: nothing was approved before (every field is new)
    history: list[Submission]
    messages: list[SubmissionMessage]
    may_decide: bool
    is_operator: bool


def _organisation(session: Session, submission: Submission) -> Organisation:
    org = session.get(Organisation, submission.organisation_id)
    assert org is not None  # the foreign key cascades
    return org


def _record(
    session: Session,
    submission: Submission,
    action: str,
    *,
    actor: Actor,
    address: str | None,
    details: dict[str, Any] | None = None,
) -> None:
    entry = review.entry_of(session, submission)
    audit.record(
        session,
        actor=actor,
        action=f"{submission.kind}.{action}",
        organisation=submission.organisation_id,
        subject_type=submission.kind,
        subject_id=entry.slug,
        details={"submission": pk(submission), **(details or {})},
        address=address,
    )


def submit_as(
    session: Session,
    user: User,
    organisation: Organisation,
    kind: review.EntryKind,
    slug: str,
    *,
    note: str | None,
    address: str | None,
) -> Submission:
    require_role(session, user, organisation, Role.issuer)
    submission = review.submit(session, organisation, kind, slug, by=user.email, note=note)
    _record(session, submission, "submit", actor=Actor.for_user(user), address=address)
    return submission


def propose_job_role_as(
    session: Session,
    user: User,
    organisation: Organisation,
    role_key: str,
    proposed: list[dict[str, Any]],
    *,
    note: str | None,
    address: str | None,
) -> Submission:
    require_role(session, user, organisation, Role.issuer)
    submission = review.propose_job_role(
        session, organisation, role_key, proposed, by=user.email, note=note
    )
    _record(session, submission, "propose", actor=Actor.for_user(user), address=address)
    return submission


def _deciding(session: Session, user: User, submission_id: int) -> Submission:
    require_operator(user)
    submission = review.get_submission(session, submission_id)
    if role_in(session, user, _organisation(session, submission)) is not None:
        raise OwnSubmission(
            "You belong to the organisation that submitted this: another operator decides on it."
        )
    return submission


def decide_as(
    session: Session,
    user: User,
    submission_id: int,
    *,
    approve: bool,
    comment: str | None,
    address: str | None,
) -> Submission:
    """Approve (publish / apply) or request changes (a comment is required)."""
    _deciding(session, user, submission_id)
    by = user.email
    if approve:
        submission = review.approve(session, submission_id, by=by, comment=comment)
        action = "approve"
    else:
        submission = review.request_changes(session, submission_id, by=by, comment=comment or "")
        action = "request_changes"
    _record(session, submission, action, actor=Actor.for_user(user), address=address)
    return submission


def _may_read(session: Session, user: User, submission: Submission) -> bool:
    if is_operator(user):
        return True
    role = role_in(session, user, _organisation(session, submission))
    return role is not None


def reply_as(
    session: Session, user: User, submission_id: int, body: str, *, address: str | None
) -> Submission:
    """A message in the conversation: an operator's, or the submitting provider's (issuer)."""
    submission = review.get_submission(session, submission_id)
    org = _organisation(session, submission)
    member = role_in(session, user, org)
    if member is not None:
        require_role(session, user, org, Role.issuer)
        side = "provider"
    else:
        require_operator(user)
        side = "operator"
    review.reply(session, submission, side=side, by=user.email, body=body)
    _record(session, submission, "comment", actor=Actor.for_user(user), address=address)
    return submission


def queue_as(session: Session, user: User) -> list[QueueItem]:
    require_operator(user)
    return [
        QueueItem(s, review.entry_of(session, s), _organisation(session, s))
        for s in review.queue(session)
    ]


def view_as(session: Session, user: User, submission_id: int) -> SubmissionView:
    """A submission with the diff since the entry's last approval and the conversation of
    all its submissions (the operators, and the submitting organisation's members)."""
    submission = review.get_submission(session, submission_id)
    if not _may_read(session, user, submission):
        raise Forbidden("This submission is another organisation's.")
    org = _organisation(session, submission)
    before = review.last_approved(session, submission)
    history = review.history(session, submission.kind, submission.ref_id)  # type: ignore[arg-type]  # checked by the table's constraint
    if submission.kind == "job_role":
        # A proposal compares with the role as the hub has it now.
        role = session.get(JobRole, submission.ref_id)
        current = review.snapshot(session, role) if role is not None else None
        changes = review.diff(current, submission.snapshot)
        since = True
    else:
        changes = review.diff(before.snapshot if before else None, submission.snapshot)
        since = before is not None
    return SubmissionView(
        submission=submission,
        entry=review.entry_of(session, submission),
        organisation=org,
        changes=changes,
        since_approval=since,
        history=history,
        messages=review.messages(session, [pk(s) for s in history]),
        may_decide=is_operator(user) and role_in(session, user, org) is None,
        is_operator=is_operator(user),
    )


def entry_history_as(
    session: Session,
    user: User,
    organisation: Organisation,
    kind: review.EntryKind,
    ref_id: int,
) -> list[Submission]:
    require_role(session, user, organisation, Role.viewer)
    return review.history(session, kind, ref_id)


def set_job_role_skills_as(
    session: Session,
    user: User,
    role_key: str,
    proposed: list[dict[str, Any]],
    *,
    address: str | None,
) -> JobRole:
    """An operator's own edit of a shared job role's required skills (audited, hub-wide)."""
    require_operator(user)
    role = skills.get_job_role(session, role_key)
    before = len(skills.required_skills(session, role))
    review.set_job_role_skills(session, role, proposed)
    audit.record(
        session,
        actor=Actor.for_user(user),
        action="job_role.update",
        subject_type="job_role",
        subject_id=role.slug,
        details={"skills_before": before, "skills_after": len(proposed)},
        address=address,
    )
    return role


__all__ = [
    "OwnSubmission",
    "QueueItem",
    "SubmissionView",
    "decide_as",
    "entry_history_as",
    "propose_job_role_as",
    "queue_as",
    "reply_as",
    "set_job_role_skills_as",
    "submit_as",
    "view_as",
]
