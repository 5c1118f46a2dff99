"""The console's first page (what happened this month, what is running, recent activity)
and the user's own sessions."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from accounts import audit, dashboard, sessions
from skillshub.web.console import nav
from skillshub.web.console.auth import LOGIN_PATH, ConsoleUserDep, clear_session_cookie
from skillshub.web.console.pages import render
from skillshub.web.csrf import CsrfDep
from skillshub.web.deps import SessionDep
from skillshub.web.i18n import N_

router = APIRouter(include_in_schema=False)

nav.register(N_("Overview"), "/console", order=0)
nav.register(N_("Your sessions"), "/console/sessions", order=900)


@router.get("/console", response_class=HTMLResponse)
def overview(request: Request, me: ConsoleUserDep, session: SessionDep) -> Response:
    now = datetime.now(UTC)
    summaries = dashboard.dashboard(session, me.user, now=now)
    return render(
        request,
        "console/dashboard.html",
        {"summaries": summaries, "month": now},
        me=me,
    )


@router.get("/console/sessions", response_class=HTMLResponse)
def session_list(request: Request, me: ConsoleUserDep, session: SessionDep) -> Response:
    rows = sessions.list_sessions(session, me.user)
    return render(
        request,
        "console/sessions.html",
        {"sessions": rows, "current_id": me.session_id},
        me=me,
    )


@router.post(
    "/console/sessions/{session_id}/revoke", response_class=HTMLResponse, dependencies=[CsrfDep]
)
def revoke(request: Request, session_id: int, me: ConsoleUserDep, session: SessionDep) -> Response:
    sessions.revoke_session(session, me.user, session_id)
    audit.record_for_user(
        session,
        me.user,
        action="session.revoke",
        subject_type="console_session",
        subject_id=session_id,
        address=me.address,
    )
    if session_id == me.session_id:  # this browser's own: it is signed out now
        response = RedirectResponse(f"{LOGIN_PATH}?notice=signed_out", status_code=303)
        clear_session_cookie(request, response)
        return response
    return RedirectResponse("/console/sessions?notice=session_revoked", status_code=303)
