"""The hub's own pages, for operators (the alliance running the hub): the organisations of the
hub (list, add one). The review queue and job roles are in `review.py`; the services are
accounts.operators' (each checks the operator role again and records the audit event)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from accounts import operators
from catalogue.errors import Conflict, InvalidInput
from skillshub.web.console import nav
from skillshub.web.console.auth import ConsoleUser, ConsoleUserDep
from skillshub.web.console.pages import register_action, register_notice, render
from skillshub.web.csrf import CsrfDep
from skillshub.web.deps import SessionDep
from skillshub.web.i18n import N_

router = APIRouter(include_in_schema=False)

HUB = "/console/hub"
nav.register(N_("Hub"), HUB, order=5, operators_only=True)
register_notice("organisation_created", N_("The organisation was added to the hub."))
register_action("organisation.create", N_("added an organisation"))
register_action("operator.add", N_("made a user a hub operator"))
ORG_FIELDS = ("legal_name", "country", "slug", "homepage", "email")


def operator(me: ConsoleUserDep) -> ConsoleUser:
    """The signed-in user when they are a hub operator (403 otherwise)."""
    operators.require_operator(me.user)
    return me


OperatorDep = Annotated[ConsoleUser, Depends(operator)]


def _page(
    request: Request,
    me: ConsoleUser,
    session: SessionDep,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "console/hub.html",
        {
            "organisations": operators.organisations_list(session, me.user),
            "form": form or dict.fromkeys(ORG_FIELDS, ""),
            "errors": errors or {},
        },
        me=me,
        status_code=status_code,
    )


@router.get(HUB, response_class=HTMLResponse)
def hub(request: Request, me: OperatorDep, session: SessionDep) -> Response:
    return _page(request, me, session)


@router.post(f"{HUB}/organisations", response_class=HTMLResponse, dependencies=[CsrfDep])
def add_organisation(
    request: Request,
    me: OperatorDep,
    session: SessionDep,
    legal_name: Annotated[str, Form(max_length=300)] = "",
    country: Annotated[str, Form(max_length=10)] = "",
    slug: Annotated[str, Form(max_length=80)] = "",
    homepage: Annotated[str, Form(max_length=500)] = "",
    email: Annotated[str, Form(max_length=320)] = "",
) -> Response:
    form = {
        "legal_name": legal_name,
        "country": country,
        "slug": slug,
        "homepage": homepage,
        "email": email,
    }
    try:
        with session.begin_nested():
            operators.create_organisation_as(session, me.user, dict(form), address=me.address)
    except (InvalidInput, Conflict) as exc:
        return _page(
            request, me, session, form=form, errors={"input": exc.message}, status_code=422
        )
    return RedirectResponse(f"{HUB}?notice=organisation_created", status_code=303)
