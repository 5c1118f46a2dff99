"""Request ids and request metrics (ASGI middleware), and the /metrics endpoint.

Request id: a client's or proxy's `X-Request-ID` is kept when it is a short token, otherwise
one is made; it is answered in the response's `X-Request-ID` and set in
`skillshub.logs.request_id` for every log line of the request and of its background tasks.

Metrics: counted by the matched route's template (`/credentials/{credential_id}`), never the
raw path, so a client cannot make a new time series per URL; unmatched paths count as
"<unmatched>".
"""

from __future__ import annotations

import re
import time
import uuid

from fastapi import APIRouter, FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from catalogue.errors import NotFound
from skillshub.logs import request_id
from skillshub.metrics import LATENCY, REQUESTS

HEADER = "x-request-id"
_ACCEPTED_ID = re.compile(r"[A-Za-z0-9._:@-]{1,128}")
UNMATCHED = "<unmatched>"


class RequestId:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(HEADER.encode(), b"").decode("latin-1")
        rid = given if _ACCEPTED_ID.fullmatch(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid
        # Not reset afterwards: each request runs in its own task (a copy of the context), and
        # the outermost error handler, which logs an unhandled error, runs after this returns.
        request_id.set(rid)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"
                ]
                message["headers"] = [*headers, (b"x-request-id", rid.encode())]
            await send(message)

        await self.app(scope, receive, send_with_id)


def route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else UNMATCHED


class RequestMetrics:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500  # what the server answers when the app raises before starting a response
        started = time.perf_counter()

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route, method = route_template(scope), scope.get("method", "GET")
            REQUESTS.labels(method=method, route=route, status=str(status)).inc()
            LATENCY.labels(method=method, route=route).observe(time.perf_counter() - started)


def install(app: FastAPI, registry: CollectorRegistry | None, *, serve_route: bool) -> None:
    """Outermost of the app's middleware (added last): every answer is counted and carries
    its request id, errors and refusals included."""
    app.state.metrics_registry = registry
    app.add_middleware(RequestMetrics)
    app.add_middleware(RequestId)
    if serve_route:
        app.include_router(router)


router = APIRouter(tags=["health"])


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    registry = getattr(request.app.state, "metrics_registry", None)
    if registry is None:
        raise NotFound("metrics are off")
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
