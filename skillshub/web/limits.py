"""Request-size cap enforced before the body is read into memory."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

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
            await self._reject(send, accept)
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
                await self._reject(send, accept)

    async def _reject(self, send: Send, accept: str = "") -> None:
        message = f"the request body is larger than {self.max_bytes} bytes"
        if prefers_html(accept):  # a browser's upload: a page saying what to do, not JSON
            body = _PAGE.format(mb=f"{self.max_bytes / 2**20:.3g}").encode()
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


_PAGE = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1">'
    "<title>File too large · Skills Hub</title></head><body><main>"
    "<h1>The file is too large</h1><p>At most {mb} MB can be sent at once. Go back, and "
    "upload a smaller file (split a long class list, or save it as CSV, which is smaller "
    "than .xlsx). Nothing was stored.</p></main></body></html>"
)


class _TooLarge(Exception):
    pass
