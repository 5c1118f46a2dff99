"""Graduates' reviews in the console: a provider reads and answers the reviews of its courses;
a hub operator hides an abusive review (with a reason) or shows it again. Services and audit:
accounts.graduate_reviews."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from accounts import graduate_reviews as service
from accounts.roles import Role
from catalogue.errors import InvalidInput
from skillshub.web.console import nav
from skillshub.web.console.auth import IssuerDep, OrgAccess, ViewerDep
from skillshub.web.console.hub import OperatorDep
from skillshub.web.console.pages import register_action, register_notice, render
from skillshub.web.csrf import CsrfDep
from skillshub.web.deps import SessionDep
from skillshub.web.i18n import N_

router = APIRouter(include_in_schema=False)

REVIEWS = "/console/orgs/{slug}/reviews"
HUB_REVIEWS = "/console/hub/reviews"
nav.register(N_("Graduates' reviews"), REVIEWS, needs=Role.viewer, order=46)
nav.register(N_("Reviews to moderate"), HUB_REVIEWS, order=7, operators_only=True)
register_notice("answered", N_("Your answer is shown with the review."))
register_notice("review_hidden", N_("The review is hidden from the public."))
register_notice("review_shown", N_("The review is shown again."))
register_action("review.answer", N_("answered a graduate's review"))
register_action("review.hide", N_("hid a graduate's review"))
register_action("review.show", N_("showed a graduate's review again"))


def _provider_page(
    request: Request,
    access: OrgAccess,
    session: SessionDep,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "console/graduate_reviews.html",
        {
            "rows": service.listed(session, access.user, access.organisation),
            "can_answer": access.role >= Role.issuer,
            "moderating": False,
            "base": f"/console/orgs/{access.organisation.slug}/reviews",
            "error": error,
        },
        me=access.me,
        organisation=access.organisation,
        status_code=status_code,
    )


@router.get(REVIEWS, response_class=HTMLResponse)
def provider_reviews(request: Request, access: ViewerDep, session: SessionDep) -> Response:
    return _provider_page(request, access, session)


@router.post(REVIEWS + "/{review_id}/answer", response_class=HTMLResponse, dependencies=[CsrfDep])
def answer(
    request: Request,
    review_id: int,
    access: IssuerDep,
    session: SessionDep,
    text: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    try:
        with session.begin_nested():
            service.answer_as(
                session, access.user, access.organisation, review_id, text, address=access.address
            )
    except InvalidInput as exc:
        return _provider_page(request, access, session, error=exc.message, status_code=422)
    return RedirectResponse(
        f"/console/orgs/{access.organisation.slug}/reviews?notice=answered", status_code=303
    )


@router.get(HUB_REVIEWS, response_class=HTMLResponse)
def hub_reviews(request: Request, me: OperatorDep, session: SessionDep) -> Response:
    return render(
        request,
        "console/graduate_reviews.html",
        {
            "rows": service.recent_as(session, me.user),
            "can_answer": False,
            "moderating": True,
            "base": HUB_REVIEWS,
            "error": None,
        },
        me=me,
    )


@router.post(
    HUB_REVIEWS + "/{review_id}/{change}", response_class=HTMLResponse, dependencies=[CsrfDep]
)
def moderate(
    request: Request,
    review_id: int,
    change: str,
    me: OperatorDep,
    session: SessionDep,
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    if change not in ("hide", "show"):
        raise InvalidInput("hide or show")
    service.hide_as(
        session, me.user, review_id, reason, hidden=change == "hide", address=me.address
    )
    notice = "review_hidden" if change == "hide" else "review_shown"
    return RedirectResponse(f"{HUB_REVIEWS}?notice={notice}", status_code=303)
