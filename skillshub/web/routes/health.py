from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from skillshub.ops.readiness import is_ready, readiness
from skillshub.web.deps import SessionDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz(session: SessionDep) -> dict:
    session.connection().execute(text("SELECT 1"))
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """Ready for traffic: the database answers at the current migration, the master key opens
    the stored keys, the job engine answers. 503 names each part that fails."""
    state = request.app.state
    checks = await run_in_threadpool(readiness, state.engine, getattr(state, "master_key", None))
    ready = is_ready(checks)
    body = {"status": "ready" if ready else "not ready", "checks": checks}
    return JSONResponse(
        body, status_code=200 if ready else 503, headers={"Cache-Control": "no-store"}
    )
