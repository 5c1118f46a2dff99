"""The user's own sign-in security: the authenticator app (TOTP second factor: set up with a
QR code, confirmed with a first code, turned off with a current code or the password) and
"sign out everywhere" on the sessions page."""

from __future__ import annotations

import base64
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from accounts import audit, second_factor, sessions, users
from accounts.second_factor import WrongCode
from accounts.users import SignInFailed
from badges.sharing.page import qr_svg
from keys.sealing import MasterKey
from skillshub.web.console import nav
from skillshub.web.console.auth import LOGIN_PATH, ConsoleUser, ConsoleUserDep, clear_session_cookie
from skillshub.web.console.pages import register_action, register_notice, render
from skillshub.web.console.second_step import code_key
from skillshub.web.csrf import CsrfDep
from skillshub.web.deps import MasterKeyDep, SessionDep
from skillshub.web.i18n import N_, Said, say
from skillshub.web.rate_limits import RateClass, RateLimited, limiter

router = APIRouter(include_in_schema=False)

PATH = "/console/security"
nav.register(N_("Sign-in security"), PATH, order=890)
register_notice(
    "second_factor_on", N_("Your authenticator app is set up: sign-ins now ask for its code.")
)
register_notice(
    "second_factor_off",
    N_("The authenticator app is turned off: sign-ins ask for the password only."),
)
register_notice("second_factor_cancelled", N_("The set-up was cancelled; nothing changed."))
register_notice("signed_out_everywhere", N_("You are signed out everywhere, in this browser too."))
register_action("user.second_factor_on", N_("turned on their authenticator app"))
register_action("user.second_factor_off", N_("turned off their authenticator app"))
register_action("session.revoke_all", N_("signed out everywhere"))


def _qr_data_uri(uri: str) -> str:
    # An <img> of data: is what the CSP allows (img-src 'self' data:); no inline <svg> markup
    # from a library lands in our page.
    return "data:image/svg+xml;base64," + base64.b64encode(qr_svg(uri)).decode("ascii")


def _grouped(secret: str) -> str:
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _page(
    request: Request,
    me: ConsoleUser,
    master_key: MasterKeyDep,
    *,
    error: str | Said | None = None,
    error_field: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    pending = second_factor.pending_secret(me.user, master_key)
    setup = None
    if pending is not None:
        uri = second_factor.provisioning_uri(pending, me.email)
        setup = {"qr": _qr_data_uri(uri), "secret": _grouped(pending), "uri": uri}
    return render(
        request,
        "console/security.html",
        {
            "enabled": second_factor.enabled(me.user),
            "enabled_at": me.user.totp_enabled_at,
            "setup": setup,
            "error": error,
            "error_field": error_field,
            "digits": second_factor.DIGITS,
        },
        me=me,
        status_code=status_code,
    )


@router.get(PATH, response_class=HTMLResponse)
def security(request: Request, me: ConsoleUserDep, master_key: MasterKeyDep) -> Response:
    return _page(request, me, master_key)


@router.post(f"{PATH}/totp/start", response_class=HTMLResponse, dependencies=[CsrfDep])
def start(
    request: Request, me: ConsoleUserDep, session: SessionDep, master_key: MasterKeyDep
) -> Response:
    second_factor.begin_enrolment(session, me.user, master_key)
    return RedirectResponse(f"{PATH}#setup", status_code=303)


def _limited(request: Request, me: ConsoleUser) -> Said | None:
    try:
        limiter(request).check(RateClass.SIGN_IN_CODE, code_key(me.user))
    except RateLimited as exc:
        return say(
            N_("Too many wrong tries. Try again in %(seconds)s seconds."),
            seconds=exc.headers["Retry-After"],  # type: ignore[index]
        )
    return None


@router.post(f"{PATH}/totp/confirm", response_class=HTMLResponse, dependencies=[CsrfDep])
def confirm(
    request: Request,
    me: ConsoleUserDep,
    session: SessionDep,
    master_key: MasterKeyDep,
    code: Annotated[str, Form()] = "",
) -> Response:
    limited = _limited(request, me)
    if limited:
        return _page(request, me, master_key, error=limited, error_field="code", status_code=429)
    try:
        second_factor.confirm_enrolment(session, me.user, master_key, code)
    except WrongCode as exc:
        limiter(request).hit(RateClass.SIGN_IN_CODE, code_key(me.user))
        return _page(
            request, me, master_key, error=exc.message, error_field="code", status_code=422
        )
    audit.record_for_user(session, me.user, action="user.second_factor_on", address=me.address)
    return RedirectResponse(f"{PATH}?notice=second_factor_on", status_code=303)


@router.post(f"{PATH}/totp/cancel", response_class=HTMLResponse, dependencies=[CsrfDep])
def cancel(
    request: Request, me: ConsoleUserDep, session: SessionDep, master_key: MasterKeyDep
) -> Response:
    """Drop a set-up that was not confirmed (one in force needs a code or the password)."""
    if second_factor.pending_secret(me.user, master_key) is not None:
        second_factor.disable(session, me.user)
    return RedirectResponse(f"{PATH}?notice=second_factor_cancelled", status_code=303)


@router.post(f"{PATH}/totp/disable", response_class=HTMLResponse, dependencies=[CsrfDep])
def disable(
    request: Request,
    me: ConsoleUserDep,
    session: SessionDep,
    master_key: MasterKeyDep,
    code: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
) -> Response:
    """Turn the second factor off with a current code or the password (a rare action: the
    password check's Argon2id time is spent inside the writer transaction)."""
    limited = _limited(request, me)
    if limited:
        return _page(request, me, master_key, error=limited, error_field="code", status_code=429)
    if not second_factor.enabled(me.user):
        return RedirectResponse(PATH, status_code=303)
    try:
        _check_code_or_password(session, me, master_key, code, password)
    except (WrongCode, SignInFailed) as exc:
        limiter(request).hit(RateClass.SIGN_IN_CODE, code_key(me.user))
        field = "password" if isinstance(exc, SignInFailed) else "code"
        return _page(request, me, master_key, error=exc.message, error_field=field, status_code=422)
    second_factor.disable(session, me.user)
    audit.record_for_user(session, me.user, action="user.second_factor_off", address=me.address)
    return RedirectResponse(f"{PATH}?notice=second_factor_off", status_code=303)


def _check_code_or_password(
    session: Session, me: ConsoleUser, master_key: MasterKey, code: str, password: str
) -> None:
    if code.strip():
        second_factor.verify_code(session, me.user, master_key, code)
    elif password:
        try:
            users.check_password(session, me.email, password)
        except SignInFailed:
            raise SignInFailed(N_("The password is not right.")) from None
    else:
        raise WrongCode(N_("Type a current code from your app, or your password."))


@router.post(
    "/console/sessions/sign-out-everywhere", response_class=HTMLResponse, dependencies=[CsrfDep]
)
def sign_out_everywhere(request: Request, me: ConsoleUserDep, session: SessionDep) -> Response:
    """End every session of the user, this browser's too."""
    ended = sessions.revoke_all_sessions(session, me.user)
    audit.record_for_user(
        session,
        me.user,
        action="session.revoke_all",
        details={"sessions_ended": ended},
        address=me.address,
    )
    response = RedirectResponse(f"{LOGIN_PATH}?notice=signed_out_everywhere", status_code=303)
    clear_session_cookie(request, response)
    return response
