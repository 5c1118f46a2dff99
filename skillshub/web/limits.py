"""Request-size cap enforced before the body is read into memory."""

from __future__ import annotations

import json
from html import escape

from babel.numbers import format_decimal
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from skillshub.web.i18n import FORMAT_LOCALES, N_, language_of, translations
from skillshub.web.negotiation import prefers_html


class BodySizeLimit:
    """Answer 413 for a body larger than `max_bytes`, by header or while streaming."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        accept = headers.get(b"accept", b"").decode("latin-1")
        declared = headers.get(b"content-length")
        # More than 18 digits is over any cap (and int() of 5000 digits raises).
        if (
            declared
            and declared.isdigit()
            and (len(declared) > 18 or int(declared) > self.max_bytes)
        ):
            await self._reject(scope, send, accept)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await self._reject(scope, send, accept)

    async def _reject(self, scope: Scope, send: Send, accept: str = "") -> None:
        message = f"the request body is larger than {self.max_bytes} bytes"
        if prefers_html(accept):  # a browser's upload: a page saying what to do, not JSON
            body = _page(language_of(Request(scope)), self.max_bytes).encode()
            content_type = b"text/html; charset=utf-8"
        else:
            error = {"error": {"code": "payload_too_large", "message": message}}
            body = json.dumps(error).encode()
            content_type = b"application/json"
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", content_type),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


# The page's words (translated in skillshub/web/i18n.py's catalogue).
_TITLE = N_("File too large")
_HEADING = N_("The file is too large")
_TEXT = N_(
    "At most %(mb)s MB can be sent at once. Go back, and upload a smaller file (split a long "
    "class list, or save it as CSV, which is smaller than .xlsx). Nothing was stored."
)
_PAGE = (
    '<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1">'
    "<title>{title} · Skills Hub</title></head><body><main>"
    "<h1>{heading}</h1><p>{text}</p></main></body></html>"
)


def _page(language: str, max_bytes: int) -> str:
    """The page in the reader's language (the size written as the language writes numbers)."""
    words = translations(language)
    shown = format_decimal(float(f"{max_bytes / 2**20:.3g}"), locale=FORMAT_LOCALES[language])
    return _PAGE.format(
        lang=language,
        title=escape(words.gettext(_TITLE)),
        heading=escape(words.gettext(_HEADING)),
        text=escape(words.gettext(_TEXT) % {"mb": shown}),
    )


class _TooLarge(Exception):
    pass
