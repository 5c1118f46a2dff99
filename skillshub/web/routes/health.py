from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text

from skillshub.web.deps import SessionDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz(session: SessionDep) -> dict:
    session.connection().execute(text("SELECT 1"))
    return {"status": "ok"}
