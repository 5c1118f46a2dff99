"""Finishing a sign-in: a session and its cookie, or, for a user with a second factor, the
step that asks for the code from their authenticator app (`/console/login/code`).

Between the password and the code the browser holds a *pending* cookie (random token, only
its SHA-256 stored in `sign_in_challenge`), scoped to `/console/login`, good for a few
minutes and for one right code; it opens nothing else. Wrong codes spend the user's budget
(RateClass.SIGN_IN_CODE); every attempt spends the address's (SIGN_IN, the route table).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from accounts import audit, second_factor, sessions, users
from accounts.models import User
from accounts.second_factor import ChallengeInvalid, WrongCode
from catalogue.base import pk
from skillshub.settings import Settings
from skillshub.web.console.auth import (
    LOGIN_PATH,
    is_secure,
    safe_next,
    set_session_cookie,
)
from skillshub.web.console.pages import register_action, register_notice, render
from skillshub.web.csrf import CsrfDep
from skillshub.web.deps import MasterKeyDep, SessionDep, SettingsDep
from skillshub.web.i18n import N_, Said, say
from skillshub.web.rate_limits import RateClass, RateLimited, client_address, limiter

router = APIRouter(include_in_schema=False)

CODE_PATH = "/console/login/code"
PENDING_COOKIE = "shub_console_pending"
SECURE_PENDING_COOKIE = "__Secure-shub_console_pending"

register_notice(
    "sign_in_again", N_("Your sign-in took too long or was finished already. Sign in again.")
)
register_action("user.sign_in", N_("signed in"))


def _pending_name(request: Request) -> str:
    return SECURE_PENDING_COOKIE if is_secure(request) else PENDING_COOKIE


def pending_token(request: Request) -> str | None:
    return request.cookies.get(_pending_name(request))


def _set_pending(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        _pending_name(request),
        token,
        max_age=int(second_factor.CHALLENGE_TTL.total_seconds()),
        path=LOGIN_PATH,
        secure=is_secure(request),
        httponly=True,
        samesite="lax",
    )


def _clear_pending(request: Request, response: Response) -> None:
    response.delete_cookie(
        _pending_name(request),
        path=LOGIN_PATH,
        secure=is_secure(request),
        httponly=True,
        samesite="lax",
    )


def code_key(user: User) -> str:
    return f"user:{pk(user)}"


def start_signed_in(
    request: Request,
    db: Session,
    settings: Settings,
    user: User,
    target: str,
    *,
    details: dict[str, str] | None = None,
    event: bool = True,
) -> Response:
    """A new session for `user` (its cookie on a 303 to `target`); `event`: record the
    sign-in in the audit log (a password link records its own event instead)."""
    address = client_address(request)
    users.mark_signed_in(db, user)
    token, _ = sessions.start_session(
        db,
        user,
        ttl=settings.console_session_ttl,
        user_agent=request.headers.get("user-agent"),
        address=address,
    )
    if event:
        audit.record_for_user(db, user, action="user.sign_in", details=details, address=address)
    response = RedirectResponse(safe_next(target), status_code=303)
    set_session_cookie(request, response, token)
    return response


def complete_sign_in(
    request: Request,
    db: Session,
    settings: Settings,
    user: User,
    target: str,
    *,
    event: bool = True,
) -> Response:
    """After a correct password (or a password link): signed in, or on to the code step."""
    if not second_factor.enabled(user):
        return start_signed_in(request, db, settings, user, target, event=event)
    token = second_factor.start_challenge(db, user)
    response = RedirectResponse(
        f"{CODE_PATH}?{urlencode({'next': safe_next(target)})}", status_code=303
    )
    _set_pending(request, response, token)
    return response


def _again(request: Request) -> Response:
    response = RedirectResponse(f"{LOGIN_PATH}?notice=sign_in_again", status_code=303)
    _clear_pending(request, response)
    return response


def _code_page(
    request: Request,
    next_path: str,
    *,
    error: str | Said | None = None,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    return render(
        request,
        "console/login_code.html",
        {"next": safe_next(next_path), "error": error, "digits": second_factor.DIGITS},
        status_code=status_code,
        headers=headers,
    )


@router.get(CODE_PATH, response_class=HTMLResponse)
def code_form(request: Request, session: SessionDep, next: str = "") -> Response:
    try:
        second_factor.challenge_user(session, pending_token(request))
    except ChallengeInvalid:
        return _again(request)
    return _code_page(request, next)


@router.post(CODE_PATH, response_class=HTMLResponse, dependencies=[CsrfDep])
def code_check(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    master_key: MasterKeyDep,
    code: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    token = pending_token(request)
    try:
        user = second_factor.challenge_user(session, token)
    except ChallengeInvalid:
        return _again(request)
    rates = limiter(request)
    try:
        rates.check(RateClass.SIGN_IN_CODE, code_key(user))
    except RateLimited as exc:
        retry = exc.headers["Retry-After"]  # type: ignore[index]
        message = say(N_("Too many wrong codes. Try again in %(seconds)s seconds."), seconds=retry)
        return _code_page(request, next, error=message, status_code=429, headers=exc.headers)
    try:
        second_factor.verify_code(session, user, master_key, code)
    except WrongCode as exc:
        rates.hit(RateClass.SIGN_IN_CODE, code_key(user))
        return _code_page(request, next, error=exc.message, status_code=401)
    try:
        second_factor.spend_challenge(session, token or "")
    except ChallengeInvalid:
        return _again(request)
    response = start_signed_in(
        request, session, settings, user, next, details={"second_factor": "authenticator app"}
    )
    _clear_pending(request, response)
    return response
