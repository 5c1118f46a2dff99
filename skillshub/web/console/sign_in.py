"""Sign-in, sign-out and the one-time set-password link.

Sign-in checks the password in a read-only transaction (Argon2id takes tens of milliseconds:
no write lock is held meanwhile), then starts the session and records the event in a short
writer transaction (or, for a user with a second factor, goes on to the code step:
console/second_step.py). Failed attempts spend the e-mail address's budget, the same for an
address with no user, and every attempt spends the client address's (rate_limits table).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from accounts import audit, password_links, sessions, users
from accounts.passwords import MIN_LENGTH, WeakPassword
from accounts.sessions import SignInRequired
from accounts.users import SignInFailed
from catalogue.base import pk
from skillshub.db import session_scope
from skillshub.web.console.auth import (
    HOME_PATH,
    LOGIN_PATH,
    clear_session_cookie,
    safe_next,
    session_token,
)
from skillshub.web.console.pages import render
from skillshub.web.console.second_step import complete_sign_in
from skillshub.web.csrf import CsrfDep
from skillshub.web.deps import SessionDep, SettingsDep, read_only
from skillshub.web.errors import http_status
from skillshub.web.i18n import N_, Said, say
from skillshub.web.rate_limits import RateClass, RateLimited, client_address, limiter

router = APIRouter(include_in_schema=False)

# The set-password page's URL holds its token: never sent on in a Referer.
NO_REFERRER = {"Referrer-Policy": "no-referrer"}
TOO_MANY_SIGN_INS = N_(
    "Too many failed sign-ins for this e-mail address. Try again in %(seconds)s seconds."
)


def _email_key(email: str) -> str:
    # Budgets are keyed by a digest: the limiter's store (Redis) holds no address.
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def _login_page(
    request: Request,
    *,
    email: str = "",
    next_path: str = "",
    error: str | Said | None = None,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    return render(
        request,
        "console/login.html",
        {"email": email, "next": safe_next(next_path), "error": error},
        status_code=status_code,
        headers=headers,
    )


@router.get("/console/login", response_class=HTMLResponse)
def login_form(request: Request, session: SessionDep, next: str = "") -> Response:
    try:
        sessions.session_for_token(session, session_token(request))
    except SignInRequired:
        return _login_page(request, next_path=next)
    return RedirectResponse(safe_next(next), status_code=303)  # signed in already


@router.post("/console/login", response_class=HTMLResponse, dependencies=[CsrfDep])
@read_only
def login(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    rates, key = limiter(request), _email_key(email)
    try:
        rates.check(RateClass.SIGN_IN_EMAIL, key)
    except RateLimited as exc:
        message = say(TOO_MANY_SIGN_INS, seconds=exc.retry_after)
        return _login_page(
            request,
            email=email,
            next_path=next,
            error=message,
            status_code=429,
            headers=exc.headers,
        )
    try:
        user = users.check_password(session, email, password)
    except SignInFailed as exc:
        rates.hit(RateClass.SIGN_IN_EMAIL, key)
        return _login_page(request, email=email, next_path=next, error=exc.message, status_code=401)
    with session_scope(request.app.state.engine, write=True) as db:
        user = users.upgrade_hash(db, pk(user), password)
        # Signed in, or (second factor) on to the step that asks for the code.
        return complete_sign_in(request, db, settings, user, next)


@router.post("/console/logout", response_class=HTMLResponse, dependencies=[CsrfDep])
def logout(request: Request, session: SessionDep) -> Response:
    token = session_token(request)
    try:
        _, user = sessions.session_for_token(session, token)
    except SignInRequired:
        pass  # signed out already (expired, revoked): just forget the cookie
    else:
        sessions.end_session(session, token)
        audit.record_for_user(
            session, user, action="user.sign_out", address=client_address(request)
        )
    response = RedirectResponse(f"{LOGIN_PATH}?notice=signed_out", status_code=303)
    clear_session_cookie(request, response)
    return response


def _link_problem(request: Request, exc: password_links.PasswordLinkInvalid) -> HTMLResponse:
    return render(
        request,
        "console/password_link.html",
        {"problem": exc.message},
        status_code=http_status(exc),
        headers=NO_REFERRER,
    )


def _password_form(
    request: Request, token: str, email: str, error: str | None = None, status_code: int = 200
) -> HTMLResponse:
    return render(
        request,
        "console/set_password.html",
        {"token": token, "email": email, "error": error, "min_length": MIN_LENGTH},
        status_code=status_code,
        headers=NO_REFERRER,
    )


@router.get("/console/set-password", response_class=HTMLResponse)
def set_password_form(request: Request, session: SessionDep, token: str = "") -> Response:
    try:
        user = password_links.check_link(session, token)
    except password_links.PasswordLinkInvalid as exc:
        return _link_problem(request, exc)
    return _password_form(request, token, user.email)


@router.post("/console/set-password", response_class=HTMLResponse, dependencies=[CsrfDep])
def set_password(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    token: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    password_confirm: Annotated[str, Form()] = "",
) -> Response:
    try:
        user = password_links.check_link(session, token)
        if password != password_confirm:
            return _password_form(
                request, token, user.email, N_("The two passwords are not the same."), 422
            )
        user = password_links.redeem_link(session, token, password)
    except password_links.PasswordLinkInvalid as exc:
        return _link_problem(request, exc)
    except WeakPassword as exc:
        return _password_form(request, token, user.email, exc.message, 422)
    address = client_address(request)
    sessions.revoke_all_sessions(session, user)  # a new password ends every older sign-in
    audit.record_for_user(session, user, action="user.password_set", address=address)
    return complete_sign_in(
        request, session, settings, user, f"{HOME_PATH}?notice=password_set", event=False
    )
