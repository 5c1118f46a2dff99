"""Password reset by e-mail: `/console/reset-password` asks for the address and always gives
the same answer (whether or not it has a user); the mailed one-time link leads to
`/console/reset-password/new`, where a new password ends every session of the user.

Limits: requests per client address (RateClass.PASSWORD_RESET, the route table) and per
e-mail address asked for (PASSWORD_RESET_EMAIL: past it no more mail goes out, and the page
still says the same). The mail is sent after the response, so the answer takes as long for
an address without a user."""

from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Form, Request
from fastapi.responses import HTMLResponse, Response

from accounts import mail, password_links, password_reset
from accounts.passwords import MIN_LENGTH, WeakPassword
from accounts.users import normalize_email
from catalogue.errors import InvalidInput
from skillshub.web.console.pages import register_action, register_notice, render
from skillshub.web.console.second_step import complete_sign_in
from skillshub.web.csrf import CsrfDep
from skillshub.web.deps import SessionDep, SettingsDep
from skillshub.web.errors import http_status
from skillshub.web.i18n import N_, language_of
from skillshub.web.rate_limits import RateClass, RateLimited, client_address, limiter

router = APIRouter(include_in_schema=False)

PATH = "/console/reset-password"
NEW_PATH = password_reset.PATH
NO_REFERRER = {"Referrer-Policy": "no-referrer"}  # the link's page holds its token

register_notice("password_reset", N_("Your new password is set, and you are signed in."))
register_action("user.password_reset_request", N_("asked for a password reset link"))
register_action("user.password_reset", N_("reset their password"))


def _email_key(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def _request_page(
    request: Request,
    *,
    email: str = "",
    error: str | None = None,
    sent: bool = False,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "console/reset_request.html",
        {"email": email, "error": error, "sent": sent},
        status_code=status_code,
    )


@router.get(PATH, response_class=HTMLResponse)
def reset_form(request: Request) -> Response:
    return _request_page(request)


@router.post(PATH, response_class=HTMLResponse, dependencies=[CsrfDep])
def reset_request(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    background: BackgroundTasks,
    email: Annotated[str, Form()] = "",
) -> Response:
    try:
        normalize_email(email)  # a typo gets its message; it says nothing about users
    except InvalidInput as exc:
        return _request_page(request, email=email, error=exc.message, status_code=422)
    try:
        limiter(request).hit(RateClass.PASSWORD_RESET_EMAIL, _email_key(email))
    except RateLimited:
        return _request_page(request, email=email, sent=True)  # the same answer, no mail
    found = password_reset.request_reset(
        session,
        settings,
        settings.base_url,
        email,
        ttl=settings.console_reset_link_ttl,
        address=client_address(request),
        language=language_of(request),
    )
    if found is not None:
        # After the response (and so after the commit): the link works when the mail lands.
        background.add_task(mail.send, settings, found.message)
    return _request_page(request, email=email, sent=True)


def _new_password_page(
    request: Request, token: str, email: str, error: str | None = None, status_code: int = 200
) -> HTMLResponse:
    return render(
        request,
        "console/set_password.html",
        {
            "token": token,
            "email": email,
            "error": error,
            "min_length": MIN_LENGTH,
            "action": NEW_PATH,
            "heading": N_("Choose a new password"),
            "intro": N_("Every browser signed in with your old password will be signed out."),
        },
        status_code=status_code,
        headers=NO_REFERRER,
    )


def _link_problem(request: Request, exc: password_links.PasswordLinkInvalid) -> HTMLResponse:
    return render(
        request,
        "console/password_link.html",
        {"problem": exc.message, "retry": PATH},
        status_code=http_status(exc),
        headers=NO_REFERRER,
    )


@router.get(NEW_PATH, response_class=HTMLResponse)
def new_password_form(request: Request, session: SessionDep, token: str = "") -> Response:
    try:
        user = password_links.check_link(session, token, purpose=password_reset.RESET)
    except password_links.PasswordLinkInvalid as exc:
        return _link_problem(request, exc)
    return _new_password_page(request, token, user.email)


@router.post(NEW_PATH, response_class=HTMLResponse, dependencies=[CsrfDep])
def new_password(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    token: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    password_confirm: Annotated[str, Form()] = "",
) -> Response:
    try:
        user = password_links.check_link(session, token, purpose=password_reset.RESET)
        if password != password_confirm:
            return _new_password_page(
                request, token, user.email, N_("The two passwords are not the same."), 422
            )
        user = password_reset.redeem(session, token, password, address=client_address(request))
    except password_links.PasswordLinkInvalid as exc:
        return _link_problem(request, exc)
    except WeakPassword as exc:
        return _new_password_page(request, token, user.email, exc.message, 422)
    return complete_sign_in(
        request, session, settings, user, "/console?notice=password_reset", event=False
    )
