"""Security headers on every response, set in one place.

Installed outside Starlette's own error middleware, so the 500 page, the host check's 400 and
the body-size 413 carry them as well as every route. A route's own header wins (the claim
page's `no-referrer`, an uploaded SVG's sandboxing CSP): this only fills in what is missing.
"""

from __future__ import annotations

import base64
import hashlib
import re

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from skillshub.web import docs as docs_pages

# No inline script or style anywhere: credential and catalogue content is attacker-controlled.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# Swagger UI and ReDoc are served from this app (web/docs.py); their inline bootstrap
# script is allowed by its hash ({scripts}), never by 'unsafe-inline'.
DOCS_CSP = (
    "default-src 'self'; script-src 'self'{scripts}; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; worker-src 'self' blob:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# JSON, images, files: nothing to run if a browser is pointed at one.
OTHER_CSP = "default-src 'none'; frame-ancestors 'none'"
REFERRER_POLICY = "strict-origin-when-cross-origin"
HSTS = "max-age=31536000"
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.S)


def _script_hashes(html: bytes) -> str:
    return "".join(
        f" 'sha256-{base64.b64encode(hashlib.sha256(m.group(1)).digest()).decode()}'"
        for m in _INLINE_SCRIPT.finditer(html)
    )


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, hsts: bool, docs_paths: frozenset[str]) -> None:
        self.app = app
        self.hsts = hsts
        self.docs_paths = docs_paths

    def _fill(self, message: Message, html_csp: str) -> None:
        headers = MutableHeaders(scope=message)
        html = headers.get("content-type", "").startswith("text/html")
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", REFERRER_POLICY)
        headers.setdefault("Content-Security-Policy", html_csp if html else OTHER_CSP)
        if html:
            headers.setdefault("X-Frame-Options", "DENY")  # frame-ancestors for old browsers
        if self.hsts:
            headers.setdefault("Strict-Transport-Security", HSTS)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] in self.docs_paths:
            await self._docs(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                self._fill(message, PAGE_CSP)
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _docs(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The docs pages are small: held back until complete, to hash their inline script."""
        start: Message | None = None
        body = bytearray()

        async def send_buffered(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body" and start is not None:
                body.extend(message.get("body", b""))
                if not message.get("more_body", False):
                    self._fill(start, DOCS_CSP.format(scripts=_script_hashes(bytes(body))))
                    await send(start)
                    await send({"type": "http.response.body", "body": bytes(body)})
            else:
                await send(message)

        await self.app(scope, receive, send_buffered)


def install(app: FastAPI, *, hsts: bool) -> None:
    """Wrap the whole middleware stack, Starlette's error middleware included (add_middleware
    would put it inside that, and the 500 page would go out without the headers)."""
    build = app.build_middleware_stack
    docs = docs_pages.page_paths(app)

    def build_with_headers() -> ASGIApp:
        return SecurityHeaders(build(), hsts=hsts, docs_paths=docs)

    # This app's builder, wrapped: an instance attribute mypy sees as a method.
    app.build_middleware_stack = build_with_headers  # type: ignore[method-assign]
