"""Accepting an invitation (`/console/invite?token=…`, the link an owner's invitation mailed):
a new address chooses a password and is signed in; an address that has an account accepts
while signed in as it. Spent once; the page's URL holds the token, so it sends no Referer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from accounts import members, sessions
from accounts.members import InvitationForSomeoneElse, InvitationInvalid, OpenInvitation
from accounts.models import User
from accounts.passwords import MIN_LENGTH, WeakPassword
from accounts.sessions import SignInRequired
from catalogue.errors import Conflict
from skillshub.web.console.auth import session_token
from skillshub.web.console.pages import register_notice, render
from skillshub.web.console.second_step import start_signed_in
from skillshub.web.csrf import CsrfDep
from skillshub.web.deps import SessionDep, SettingsDep
from skillshub.web.errors import http_status
from skillshub.web.i18n import N_
from skillshub.web.rate_limits import client_address

router = APIRouter(include_in_schema=False)

PATH = members.INVITE_PATH
NO_REFERRER = {"Referrer-Policy": "no-referrer"}
register_notice("joined", N_("Welcome! You are a member of the organisation now."))


def _signed_in(request: Request, session: Session) -> User | None:
    try:
        return sessions.session_for_token(session, session_token(request))[1]
    except SignInRequired:
        return None


def _problem(request: Request, exc: InvitationInvalid | Conflict) -> HTMLResponse:
    return render(
        request,
        "console/password_link.html",
        {"problem": exc.message},
        status_code=http_status(exc),
        headers=NO_REFERRER,
    )


def _page(
    request: Request,
    token: str,
    opened: OpenInvitation,
    signed_in: User | None,
    *,
    error: str | None = None,
    name: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "console/invitation.html",
        {
            "token": token,
            "invitation": opened.invitation,
            "org": opened.organisation,
            "role": opened.role,
            "account": opened.account,
            "signed_in": signed_in,
            "error": error,
            "name": name,
            "min_length": MIN_LENGTH,
            "login_next": f"{PATH}?token={token}",
        },
        status_code=status_code,
        headers=NO_REFERRER,
    )


@router.get(PATH, response_class=HTMLResponse)
def invitation(request: Request, session: SessionDep, token: str = "") -> Response:
    try:
        opened = members.check_invitation(session, token)
    except InvitationInvalid as exc:
        return _problem(request, exc)
    return _page(request, token, opened, _signed_in(request, session))


@router.post(PATH, response_class=HTMLResponse, dependencies=[CsrfDep])
def accept(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    token: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    password_confirm: Annotated[str, Form()] = "",
) -> Response:
    signed_in = _signed_in(request, session)
    try:
        opened = members.check_invitation(session, token)
        if opened.account is None and password != password_confirm:
            return _page(
                request,
                token,
                opened,
                signed_in,
                error=N_("The two passwords are not the same."),
                name=name,
                status_code=422,
            )
        with session.begin_nested():
            user = members.accept_invitation(
                session,
                token,
                signed_in=signed_in,
                password=password,
                name=name.strip()[:200],
                address=client_address(request),
            )
    except (InvitationInvalid, Conflict) as exc:
        return _problem(request, exc)
    except (WeakPassword, InvitationForSomeoneElse) as exc:
        return _page(
            request,
            token,
            opened,
            signed_in,
            error=exc.message,
            name=name,
            status_code=http_status(exc),
        )
    target = "/console?notice=joined"
    if signed_in is not None:
        return RedirectResponse(target, status_code=303)
    # A new account: signed in at once (it has no second factor yet).
    return start_signed_in(request, session, settings, user, target)
