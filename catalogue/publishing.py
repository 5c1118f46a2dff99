"""Who may publish: the review gate every write of a course or micro-credential passes.

When the hub requires review (SKILLSHUB_REQUIRE_REVIEW; the web app and the CLI put the
setting in `session.info[REQUIRE_REVIEW]`), nothing reaches the public catalogue without an
operator's approval (catalogue.review.approve): not through the console, not through a
provider's API token, not through a catalogue import. Off (a single-provider deployment), a
provider publishes itself, as before. The states `submitted` and `changes_requested` are the
review workflow's own: no write sets them directly.
"""

from __future__ import annotations

from sqlmodel import Session, col, update

from catalogue.errors import Conflict
from catalogue.models import EntryState, Submission, SubmissionState

REQUIRE_REVIEW = "skillshub.require_review"
_REVIEW_STATES = frozenset({EntryState.submitted.value, EntryState.changes_requested.value})


class ReviewRequired(Conflict):
    """The hub publishes after an operator's approval only: submit it for review."""

    code = "review_required"


class UnderReview(Conflict):
    code = "under_review"


def review_required(session: Session) -> bool:
    return bool(session.info.get(REQUIRE_REVIEW, False))


def require_review(session: Session, required: bool) -> None:
    """Set the hub's rule for this session (the web app's and the CLI's sessions)."""
    session.info[REQUIRE_REVIEW] = required


def default_state(session: Session) -> str:
    """A new entry without a state: published, or a draft when publishing needs a review."""
    return (EntryState.draft if review_required(session) else EntryState.published).value


def check_transition(session: Session, what: str, current: str | None, asked: str) -> None:
    """Refuse a state change that only the review workflow makes."""
    if asked == current:
        return
    if asked in _REVIEW_STATES:
        raise Conflict(
            f"{what} becomes {asked} through the review only: submit it for review "
            "(POST …/submit, or 'Submit for review' in the console)",
            details={"field": "state"},
        )
    if asked == EntryState.published and review_required(session):
        raise ReviewRequired(
            f"{what} is published once a hub operator approves it: submit it for review "
            "(POST …/submit, or 'Submit for review' in the console); nothing was published",
            details={"field": "state"},
        )


def check_edit(session: Session, what: str, state: str) -> None:
    """A change of content that keeps the state: not while it waits for a decision, and not
    to a published entry when the hub reviews (the public would see unreviewed content)."""
    if state == EntryState.submitted:
        raise UnderReview(
            f"{what} is waiting for review: take it back to draft to change it "
            "(the operators' review is withdrawn), then submit it again",
            details={"field": "state"},
        )
    if state == EntryState.published and review_required(session):
        raise ReviewRequired(
            f"{what} is published and the hub reviews changes: unpublish it (back to draft), "
            "change it and submit it for review; nothing was changed",
            details={"field": "state"},
        )


def state_changed(session: Session, kind: str, ref_id: int, before: str, after: str) -> None:
    """After a provider's change of state: leaving `submitted` withdraws the open review."""
    if before == EntryState.submitted and after != before:
        session.exec(
            update(Submission)
            .where(
                col(Submission.kind) == kind,
                col(Submission.ref_id) == ref_id,
                col(Submission.state) == SubmissionState.submitted.value,
            )
            .values(state=SubmissionState.withdrawn.value)
        )
