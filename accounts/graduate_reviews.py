"""Graduates' reviews in the console: a provider answers the reviews of its courses (issuer
role), a hub operator hides an abusive one (or shows it again); each recorded in the course
provider's audit log."""

from __future__ import annotations

from sqlmodel import Session

from accounts import audit
from accounts.audit import Actor
from accounts.models import User
from accounts.operators import require_operator
from accounts.roles import Role
from accounts.users import require_role
from badges import graduate_reviews
from catalogue.models import Course, CourseReview, Organisation


def listed(
    session: Session, user: User, organisation: Organisation
) -> list[tuple[CourseReview, Course]]:
    require_role(session, user, organisation, Role.viewer)
    rows = graduate_reviews.of_provider(session, organisation)
    return [(r, _course(session, r)) for r in rows]


def _course(session: Session, review: CourseReview) -> Course:
    course = session.get(Course, review.course_id)
    assert course is not None  # the foreign key cascades
    return course


def answer_as(
    session: Session,
    user: User,
    organisation: Organisation,
    review_id: int,
    text: str,
    *,
    address: str | None,
) -> CourseReview:
    require_role(session, user, organisation, Role.issuer)
    review = graduate_reviews.answer(session, review_id, organisation, text)
    audit.record(
        session,
        actor=Actor.for_user(user),
        action="review.answer",
        organisation=organisation,
        subject_type="course_review",
        subject_id=review.id,
        details={"course": _course(session, review).slug, "removed": review.answer is None},
        address=address,
    )
    return review


def recent_as(session: Session, user: User) -> list[tuple[CourseReview, Course]]:
    require_operator(user)
    return [(r, _course(session, r)) for r in graduate_reviews.recent(session)]


def hide_as(
    session: Session,
    user: User,
    review_id: int,
    reason: str,
    *,
    hidden: bool,
    address: str | None,
) -> CourseReview:
    require_operator(user)
    review = graduate_reviews.hide(session, review_id, reason, hidden=hidden)
    course = _course(session, review)
    audit.record(
        session,
        actor=Actor.for_user(user),
        action="review.hide" if hidden else "review.show",
        organisation=course.organisation_id,
        subject_type="course_review",
        subject_id=review.id,
        details={"course": course.slug, "reason": review.hidden_reason},
        address=address,
    )
    return review
