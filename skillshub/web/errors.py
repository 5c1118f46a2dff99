"""The one place that turns errors into HTTP answers: `{"error": {"code", "message"}}` for API
clients, and the same status with a readable page (error.html) for a browser that prefers HTML
to JSON in its Accept header (skillshub/web/negotiation.py)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import DataError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from accounts.sessions import SignInRequired
from badges.europass.export import TimestampUnavailable
from badges.issuing.vc_api import BadIssueRequest
from badges.sharing.delivery import ClaimExpired, ClaimUsed
from badges.sharing.mail import MailError
from badges.status.lists import StatusError
from badges.verifying.fetching import FetchError
from badges.verifying.input import MalformedInput, TooComplex, UnrecognisedInput
from badges.wallet.errors import InsufficientScope, InvalidAccessToken, OAuthError, OfferNotFound
from catalogue.checks import plain_message
from catalogue.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    Unauthorized,
    UnsupportedMediaType,
)
from keys.store import KeyStoreError
from skillshub.db import DatabaseError
from skillshub.verifier import VerifierSettingsError
from skillshub.web.i18n import N_
from skillshub.web.negotiation import wants_html
from skillshub.web.pages import templates

log = logging.getLogger("skillshub.web")

# Errors from the pure packages (ValueError subclasses) that mean "bad input".
_STATUS_NAMES = {
    404: "not_found",
    405: "method_not_allowed",
    401: "unauthorized",
    403: "forbidden",
    429: "rate_limited",
}


class NotAcceptable(DomainError):
    """No representation the client accepts (content negotiation: an HTTP-only failure)."""

    code = "not_acceptable"


# Domain error class -> HTTP status. A class not listed takes its nearest listed ancestor's
# (the MRO walk in http_status), so a new subclass of NotFound is a 404 without an entry here.
_STATUS_BY_ERROR: dict[type[DomainError], int] = {
    DomainError: 400,
    MalformedInput: 400,
    BadIssueRequest: 400,  # VC-API answers invalid input with 400
    Unauthorized: 401,
    Forbidden: 403,
    ClaimUsed: 403,
    NotFound: 404,
    NotAcceptable: 406,
    Conflict: 409,
    StatusError: 409,
    ClaimExpired: 410,
    PayloadTooLarge: 413,
    UnsupportedMediaType: 415,
    InvalidInput: 422,
    FetchError: 422,
    UnrecognisedInput: 422,
    TooComplex: 422,
    MailError: 502,
    TimestampUnavailable: 502,  # the time-stamping authority failed, as mail can
    DatabaseError: 503,
    KeyStoreError: 503,
    VerifierSettingsError: 503,
    # OpenID4VCI and OAuth 2.0 (RFC 6749 §5.2, RFC 6750 §3.1), answered in their own shape
    OAuthError: 400,
    InvalidAccessToken: 401,
    InsufficientScope: 403,
    OfferNotFound: 404,
}


def http_status(exc: DomainError) -> int:
    """The HTTP status of a domain error: its class's, or the nearest ancestor's."""
    for cls in type(exc).__mro__:
        status = _STATUS_BY_ERROR.get(cls)
        if status is not None:
            return status
    return 400  # unreachable: DomainError is in the table and in every domain error's MRO


def error_body(code: str, message: str, details: object | None = None) -> dict:
    error: dict = {"code": code, "message": message}
    if details is not None:
        error["details"] = details
    return {"error": error}


def error_response(
    request: Request,
    status_code: int,
    body: dict,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """The JSON error body, or error.html with the same status and message for a browser."""
    headers = {**(headers or {}), "Vary": "Accept"}
    if wants_html(request):
        return templates.TemplateResponse(
            request,
            "error.html",
            {"status_code": status_code, "message": body["error"]["message"]},
            status_code=status_code,
            headers=headers,
        )
    return JSONResponse(body, status_code, headers=headers)


def _oauth_text(text: str) -> str:
    # RFC 6749 §5.2: error_description is ASCII without '"' and '\\' (%x20-21 / %x23-5B / %x5D-7E)
    return "".join(c if " " <= c <= "~" and c not in '"\\' else "?" for c in text)


def oauth_error_response(exc: OAuthError) -> Response:
    """`{"error", "error_description"}`, never cached; for a bearer token problem also the
    WWW-Authenticate challenge of RFC 6750 §3. Wallets are API clients: never an HTML page."""
    status = http_status(exc)
    headers = {"Cache-Control": "no-store"}
    if status in (401, 403):
        headers["WWW-Authenticate"] = f'Bearer error="{exc.code}"'
    body = {"error": exc.code, "error_description": _oauth_text(exc.message)}
    return JSONResponse(body, status, headers=headers)


def _to_sign_in(request: Request) -> Response:
    """A browser without a console session goes to the sign-in page, and back afterwards."""
    back = request.url.path if request.method == "GET" else ""
    if back and request.url.query:
        back += f"?{request.url.query}"
    target = "/console/login" + (f"?{urlencode({'next': back})}" if back else "")
    return RedirectResponse(target, status_code=303, headers={"Cache-Control": "no-store"})


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> Response:
        if isinstance(exc, SignInRequired) and wants_html(request):
            return _to_sign_in(request)
        if isinstance(exc, OAuthError):
            return oauth_error_response(exc)
        status = http_status(exc)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        body = error_body(exc.code, exc.message, exc.details)
        problem = getattr(exc, "problem", None)
        if isinstance(problem, dict):  # RFC 9457 problem details (VC-API), beside our error
            body = {**problem, "status": status, **body}
        return error_response(request, status, body, headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        details = [
            {"loc": list(e.get("loc", ())), "message": plain_message(e)} for e in exc.errors()
        ]
        first = details[0] if details else {"loc": [], "message": "invalid request"}
        where = ".".join(str(p) for p in first["loc"])
        return error_response(
            request, 422, error_body("invalid_input", f"{where}: {first['message']}", details)
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        code = _STATUS_NAMES.get(exc.status_code, "http_error")
        body = error_body(code, str(exc.detail))
        return error_response(request, exc.status_code, body, exc.headers)

    @app.exception_handler(DataError)
    async def _unstorable(request: Request, exc: DataError) -> Response:
        # The database refused a value of the request (PostgreSQL text cannot hold a NUL
        # character; a number past a column's range): bad input, not a server fault.
        log.warning("database refused a value on %s %s", request.method, request.url.path)
        message = N_("the request holds a value the database cannot store (e.g. a NUL character)")
        return error_response(request, 422, error_body("invalid_input", message))

    @app.exception_handler(OperationalError)
    async def _unavailable(request: Request, exc: OperationalError) -> Response:
        # Busy past the lock timeout, or unreachable: nothing was written (the transaction
        # rolled back), so the client may simply try again.
        log.error("database unavailable on %s %s", request.method, request.url.path)
        message = N_("the database is busy or unreachable; nothing was changed, try again shortly")
        return error_response(
            request, 503, error_body("unavailable", message), {"Retry-After": "2"}
        )

    @app.exception_handler(UnicodeEncodeError)
    async def _not_unicode(request: Request, exc: UnicodeEncodeError) -> Response:
        # JSON's "\ud800" escape decodes to a lone surrogate, which neither database driver
        # nor a UTF-8 response can encode. Input models refuse it; this catches any field
        # they do not cover (a server-side encoding bug would be a surrogate-free error).
        if "surrogates not allowed" not in str(exc):
            return await _unexpected(request, exc)
        log.warning("lone surrogate refused on %s %s", request.method, request.url.path)
        message = N_(
            "the request holds a lone surrogate (\\ud800-\\udfff), which is not Unicode text"
        )
        return error_response(request, 422, error_body("invalid_input", message))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        # Log the type and route only: exception text may carry credential content.
        log.error("unhandled %s on %s %s", type(exc).__name__, request.method, request.url.path)
        return error_response(
            request, 500, error_body("internal_error", N_("an unexpected error occurred"))
        )
