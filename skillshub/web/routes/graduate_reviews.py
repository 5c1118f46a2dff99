"""A graduate's review of the course, from their badge's manage page (issue 20): the browser
must hold the badge (the learner session of `learner._owned`, which the backpack extends to
signed-in learners), and the badge must be valid now."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from badges import graduate_reviews
from badges.sharing import badge_view
from catalogue.errors import InvalidInput
from skillshub.web.csrf import CsrfDep
from skillshub.web.deps import SessionDep, SettingsDep
from skillshub.web.i18n import N_, known_message
from skillshub.web.pages import templates
from skillshub.web.routes.learner import _not_owner, _owned

router = APIRouter(include_in_schema=False)
REVIEW = "/credentials/{credential_id}/manage/review"
PRIVATE = {"Cache-Control": "private, no-store", "Referrer-Policy": "same-origin"}
# What badges/graduate_reviews.py says on this page, for the German catalogue (the page shows
# a message `translated`; one not listed is shown as the domain wrote it).
_DOMAIN_MESSAGES = (
    N_("This badge was revoked: it cannot vouch for a review."),
    N_("This badge is suspended: it cannot vouch for a review now."),
    N_("This badge has expired: it cannot vouch for a review."),
    N_("This badge awards no course of the catalogue."),
    N_("choose a rating from 1 to 5 stars"),
    N_("write the reason"),
)
# A text over its limit (the review here; the provider's answer and the reason for hiding a
# review on the console's page), with its length and the limit.
for _pattern, _message in (
    (
        r"the review is too long \((?P<count>\d+) characters; at most (?P<limit>\d+)\)",
        N_("the review is too long (%(count)s characters; at most %(limit)s)"),
    ),
    (
        r"the answer is too long \((?P<count>\d+) characters; at most (?P<limit>\d+)\)",
        N_("the answer is too long (%(count)s characters; at most %(limit)s)"),
    ),
    (
        r"the reason is too long \((?P<count>\d+) characters; at most (?P<limit>\d+)\)",
        N_("the reason is too long (%(count)s characters; at most %(limit)s)"),
    ),
):
    known_message(_pattern, _message)


def _form(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    credential_id: str,
    *,
    error: str | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    record = _owned(request, session, credential_id)
    if record is None:
        return _not_owner(request)
    view = badge_view(session, record, settings.base_url)
    try:
        course = graduate_reviews.course_of(session, record)
    except graduate_reviews.NotAGraduate as exc:
        return templates.TemplateResponse(
            request,
            "graduate_review.html",
            {"view": view, "refused": exc.message, "course": None, "review": None},
            status_code=403,
            headers=PRIVATE,
        )
    review = graduate_reviews.review_of(session, record)
    form = values or {
        "rating": str(review.rating) if review else "",
        "text": review.text if review else "",
        "show_name": "1" if review and review.show_name else "",
    }
    return templates.TemplateResponse(
        request,
        "graduate_review.html",
        {"view": view, "course": course, "review": review, "form": form, "error": error},
        status_code=status_code,
        headers=PRIVATE,
    )


@router.get(REVIEW, response_class=HTMLResponse)
def review_page(
    credential_id: str, request: Request, session: SessionDep, settings: SettingsDep
) -> Response:
    return _form(request, session, settings, credential_id)


@router.post(REVIEW, response_class=HTMLResponse, dependencies=[CsrfDep])
def save_review(
    credential_id: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    rating: Annotated[str, Form(max_length=2)] = "",
    text: Annotated[str, Form(max_length=4000)] = "",
    show_name: Annotated[str, Form(max_length=2)] = "",
) -> Response:
    record = _owned(request, session, credential_id)
    if record is None:
        return _not_owner(request)
    try:
        with session.begin_nested():
            graduate_reviews.save(
                session, record, rating=rating, text=text, show_name=show_name == "1"
            )
    except InvalidInput as exc:
        values = {"rating": rating, "text": text, "show_name": show_name}
        return _form(
            request,
            session,
            settings,
            credential_id,
            error=exc.message,
            values=values,
            status_code=422,
        )
    except graduate_reviews.NotAGraduate:
        return _form(request, session, settings, credential_id)
    return RedirectResponse(f"/credentials/{credential_id}/manage/review?saved=1", status_code=303)


@router.post(REVIEW + "/withdraw", response_class=HTMLResponse, dependencies=[CsrfDep])
def withdraw_review(credential_id: str, request: Request, session: SessionDep) -> Response:
    record = _owned(request, session, credential_id)
    if record is None:
        return _not_owner(request)
    graduate_reviews.withdraw(session, record)
    return RedirectResponse(
        f"/credentials/{credential_id}/manage/review?withdrawn=1", status_code=303
    )
