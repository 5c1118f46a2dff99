"""Reviews by graduates (issue 20): a learner who holds a valid badge for a course reviews the
course, once per credential, and may change or withdraw it. The authority is the credential:
the web layer establishes that the writer holds it (the learner's manage page), this module
that it is valid now (not revoked, not suspended, not expired) and awards one of the course's
micro-credentials. The provider answers; a hub operator hides abuse (accounts.graduate_reviews
records both in the audit log)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from badges.models import IssuedCredential
from catalogue.base import pk
from catalogue.errors import Forbidden, InvalidInput, NotFound
from catalogue.models import Course, CourseReview, MicroCredential, Organisation

MAX_TEXT = 1000
MAX_ANSWER = 1000


class NotAGraduate(Forbidden):
    """The credential does not (or no longer) show that its holder completed the course."""

    code = "not_a_graduate"


@dataclass(frozen=True)
class Rating:
    average: float | None
    count: int


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def course_of(session: Session, record: IssuedCredential, *, now: datetime | None = None) -> Course:
    """The course the credential proves its holder completed, or NotAGraduate."""
    moment = now or datetime.now(UTC)
    if record.revoked_at is not None:
        raise NotAGraduate("This badge was revoked: it cannot vouch for a review.")
    if record.suspended:
        raise NotAGraduate("This badge is suspended: it cannot vouch for a review now.")
    if record.valid_until is not None and _aware(record.valid_until) <= moment:
        raise NotAGraduate("This badge has expired: it cannot vouch for a review.")
    mc = (
        session.get(MicroCredential, record.micro_credential_id)
        if record.micro_credential_id
        else None
    )
    course = session.get(Course, mc.course_id) if mc is not None else None
    if course is None:
        raise NotAGraduate("This badge awards no course of the catalogue.")
    return course


def review_of(session: Session, record: IssuedCredential) -> CourseReview | None:
    return session.exec(
        select(CourseReview).where(CourseReview.credential_id == pk(record))
    ).first()


def _text(value: str | None, limit: int, field: str, *, required: bool = False) -> str:
    text = (value or "").strip()
    if required and not text:
        raise InvalidInput(f"write the {field}", details={"field": field})
    if len(text) > limit:
        raise InvalidInput(
            f"the {field} is too long ({len(text)} characters; at most {limit})",
            details={"field": field},
        )
    return text


def _rating(value: int | str | None) -> int:
    try:
        rating = int(str(value))
    except ValueError:
        rating = 0
    if not 1 <= rating <= 5:
        raise InvalidInput("choose a rating from 1 to 5 stars", details={"field": "rating"})
    return rating


def save(
    session: Session,
    record: IssuedCredential,
    *,
    rating: int | str | None,
    text: str | None,
    show_name: bool,
    now: datetime | None = None,
) -> CourseReview:
    """Write (or change) the credential's review; the one per credential is the unique
    constraint's, so two tabs saving at once end with one review."""
    course = course_of(session, record, now=now)
    stars = _rating(rating)
    body = _text(text, MAX_TEXT, "review")
    moment = now or datetime.now(UTC)
    name = record.recipient_name[:300] if show_name else None
    existing = review_of(session, record)
    if existing is None:
        fresh = CourseReview(
            credential_id=pk(record),
            course_id=pk(course),
            rating=stars,
            text=body,
            show_name=show_name,
            display_name=name,
            created_at=moment,
            updated_at=moment,
        )
        try:
            with session.begin_nested():
                session.add(fresh)
                session.flush()
            return fresh
        except IntegrityError:
            existing = review_of(session, record)
            if existing is None:
                raise
    existing.rating, existing.text = stars, body
    existing.show_name, existing.display_name = show_name, name
    existing.updated_at = moment
    session.add(existing)
    session.flush()
    return existing


def withdraw(session: Session, record: IssuedCredential) -> bool:
    """Delete the credential's review; False when there was none."""
    existing = review_of(session, record)
    if existing is None:
        return False
    session.delete(existing)
    session.flush()
    return True


def get_review(session: Session, review_id: int) -> CourseReview:
    found = session.get(CourseReview, review_id)
    if found is None:
        raise NotFound(f"there is no review {review_id}")
    return found


def answer(
    session: Session, review_id: int, provider: Organisation, text: str | None
) -> CourseReview:
    """The provider's public answer (empty: removed). Only the course's own provider."""
    review = get_review(session, review_id)
    course = session.get(Course, review.course_id)
    if course is None or course.organisation_id != pk(provider):
        raise NotFound(f"there is no review {review_id}")  # another provider's: not revealed
    body = _text(text, MAX_ANSWER, "answer")
    review.answer = body or None
    review.answered_at = datetime.now(UTC) if body else None
    session.add(review)
    session.flush()
    return review


def hide(
    session: Session, review_id: int, reason: str | None, *, hidden: bool = True
) -> CourseReview:
    review = get_review(session, review_id)
    if hidden:
        review.hidden_at = datetime.now(UTC)
        review.hidden_reason = _text(reason, 500, "reason", required=True)
    else:
        review.hidden_at = None
        review.hidden_reason = None
    session.add(review)
    session.flush()
    return review


def shown(session: Session, course_id: int, *, limit: int = 50) -> list[CourseReview]:
    """The course's reviews the public sees (not hidden), newest first."""
    return list(
        session.exec(
            select(CourseReview)
            .where(CourseReview.course_id == course_id, col(CourseReview.hidden_at).is_(None))
            .order_by(col(CourseReview.updated_at).desc(), col(CourseReview.id).desc())
            .limit(limit)
        )
    )


def rating(session: Session, course_id: int) -> Rating:
    average, count = session.exec(
        select(func.avg(CourseReview.rating), func.count()).where(
            CourseReview.course_id == course_id, col(CourseReview.hidden_at).is_(None)
        )
    ).one()
    return Rating(round(float(average), 1) if average is not None else None, int(count))


def of_provider(
    session: Session, provider: Organisation, *, limit: int = 200
) -> list[CourseReview]:
    """Reviews of the provider's courses (hidden ones too: the provider sees why), newest first."""
    return list(
        session.exec(
            select(CourseReview)
            .join(Course, col(Course.id) == col(CourseReview.course_id))
            .where(Course.organisation_id == pk(provider))
            .order_by(col(CourseReview.updated_at).desc(), col(CourseReview.id).desc())
            .limit(limit)
        )
    )


def recent(session: Session, *, limit: int = 200) -> list[CourseReview]:
    return list(
        session.exec(
            select(CourseReview)
            .order_by(col(CourseReview.updated_at).desc(), col(CourseReview.id).desc())
            .limit(limit)
        )
    )
