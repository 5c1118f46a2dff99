"""Cross-site request forgery: every form that a cookie authenticates is checked twice.

1. **Where it comes from.** A browser says so in `Sec-Fetch-Site` and `Origin`: a POST from
   another site (or from a sibling subdomain) is refused with 403. Clients that send neither
   (old browsers, scripts) still need the token.
2. **A token only our own page can hold** (a signed double-submit cookie): the browser keeps a
   random nonce in a cookie, the form carries HMAC(server secret, nonce), and the POST must
   bring both. Another site can make the browser send the cookie but can neither read it nor
   compute its HMAC.

Why a cookie of its own and not a token bound to the learner session: the same check serves
forms shown before any session exists (the claim form, which creates one; a console sign-in
form) and any kind of session (learner, staff), and it needs no server-side state. The known
weakness of double-submit, a cookie planted by a sibling subdomain or a plain-http response,
is closed by the `__Host-` cookie prefix on https deployments (only this origin over https can
set it) and by the Origin check. The secret is derived from the master key (DATA_DIR/master.key
or SKILLSHUB_MASTER_KEY) in `keys`, so every host of a deployment shares it.

The public verify form (`POST /verify`) takes the Origin check only (`SameOriginDep`): it acts
for no session and sets none, so a forged submission gains an attacker nothing that a direct
request would not; refusing other sites' posts keeps it from being used through visitors'
browsers (e.g. against the per-client rate limit).

To protect a new form: add `dependencies=[CsrfDep]` to its POST route, and `{{ csrf_field() }}`
inside the `<form>` of its template.
"""

from __future__ import annotations

import base64
import hmac
import re
import secrets
from typing import Any
from urllib.parse import urlsplit

from fastapi import Depends, Request
from jinja2 import pass_context
from markupsafe import Markup
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from catalogue.errors import Forbidden
from keys.sealing import MasterKey

FIELD = "csrf_token"
HEADER = "x-csrf-token"
COOKIE = "shub_csrf"
# Over https: only this origin, over https, can set a __Host- cookie (no subdomain planting).
SECURE_COOKIE = "__Host-shub_csrf"
_PURPOSE = "skillshub web csrf token v1"
_NONCE = re.compile(r"[A-Za-z0-9_-]{43}\Z")
_ALLOWED_SITES = ("same-origin", "none")  # "none": typed in or a bookmark, not another site
_STATE_NEW_NONCE = "csrf_new_nonce"
_STATE_RENDERED = "csrf_rendered"


class CrossSiteRequest(Forbidden):
    code = "cross_site_request"


class CsrfTokenInvalid(Forbidden):
    code = "csrf_token_invalid"


def _secure(request: Request) -> bool:
    return request.app.state.settings.base_url.startswith("https://")


def cookie_name(secure: bool) -> str:
    return SECURE_COOKIE if secure else COOKIE


def token_for(master_key: MasterKey, nonce: str) -> str:
    digest = master_key.mac(_PURPOSE, nonce.encode())
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _token(request: Request, nonce: str) -> str:
    return token_for(request.app.state.master_key, nonce)


def _cookie_nonce(request: Request) -> str | None:
    nonce = request.cookies.get(cookie_name(_secure(request)), "")
    return nonce if _NONCE.match(nonce) else None


def form_token(request: Request) -> str:
    """The token for a form on this page; a browser without the cookie gets one with the
    response (set by `CsrfCookie`)."""
    state = request.state
    nonce = _cookie_nonce(request) or getattr(state, _STATE_NEW_NONCE, None)
    if nonce is None:
        nonce = secrets.token_urlsafe(32)
        setattr(state, _STATE_NEW_NONCE, nonce)
    setattr(state, _STATE_RENDERED, True)
    return _token(request, nonce)


@pass_context
def csrf_field(context: Any) -> Markup:
    """`{{ csrf_field() }}`: the hidden input every protected form carries."""
    token = form_token(context["request"])
    return Markup('<input type="hidden" name="{}" value="{}">').format(FIELD, token)


def _own_origins(request: Request) -> set[str]:
    base = urlsplit(request.app.state.settings.base_url)
    # The Host header has passed the trusted-hosts check by now.
    return {f"{base.scheme}://{base.netloc}", f"{request.url.scheme}://{request.url.netloc}"}


def require_same_origin(request: Request) -> None:
    """Refuse a request that a browser says comes from another site."""
    site = request.headers.get("sec-fetch-site")
    origin = request.headers.get("origin")
    # `Origin: null` is no verdict: a browser sends it for a form on one of our own pages
    # under `Referrer-Policy: no-referrer` (claim, verify). Sec-Fetch-Site, which every
    # current browser sends, still tells; without it the token does.
    if (site is not None and site not in _ALLOWED_SITES) or (
        origin not in (None, "null") and origin not in _own_origins(request)
    ):
        raise CrossSiteRequest(
            "This form was sent from another web site, so it was not accepted. If you meant "
            "to send it, open the page on this site and send the form from there."
        )


async def require_csrf(request: Request) -> None:
    """The Origin check, then the form's token against the browser's cookie."""
    require_same_origin(request)
    given = request.headers.get(HEADER)
    if given is None:
        value = (await request.form()).get(FIELD)
        given = value if isinstance(value, str) else None
    nonce = _cookie_nonce(request)
    if not given or nonce is None or not hmac.compare_digest(given, _token(request, nonce)):
        raise CsrfTokenInvalid(
            "This form could not be checked: it has expired or was not sent from this site's "
            "own page. Go back, reload the page and send the form again (cookies must be "
            "allowed for this site)."
        )


CsrfDep = Depends(require_csrf)  # `dependencies=[CsrfDep]` on every cookie-authenticated POST
SameOriginDep = Depends(require_same_origin)  # forms that act for no session


class CsrfCookie:
    """Sets the nonce cookie when a page minted one, and keeps pages that carry a token out
    of shared caches (a cached token would be another browser's)."""

    def __init__(self, app: ASGIApp, *, secure: bool) -> None:
        self.app = app
        self.cookie = f"{cookie_name(secure)}={{}}; Path=/; HttpOnly; SameSite=Lax" + (
            "; Secure" if secure else ""
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state: dict[str, Any] = scope.setdefault("state", {})

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and state.get(_STATE_RENDERED):
                headers = MutableHeaders(scope=message)
                if state.get(_STATE_NEW_NONCE):
                    headers.append("Set-Cookie", self.cookie.format(state[_STATE_NEW_NONCE]))
                if "no-store" not in headers.get("cache-control", ""):
                    headers["Cache-Control"] = "private, no-store"
            await send(message)

        await self.app(scope, receive, send_with_cookie)
