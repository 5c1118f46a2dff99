"""The organisation's audit log: every state change (console, API, CLI) with who, what, when
and from where, newest first, filtered by action, actor and dates, a page at a time (keyset),
and exported as CSV.

Who may read it: every member (ViewerDep). A viewer "sees everything, changes nothing", the
dashboard shows every member the recent activity already, and the log is how a team answers
"who revoked this badge?" without asking an owner. The client addresses in it are personal
data that only matter when investigating misuse, which is the owners' job: only owners see
the address column (page and CSV). API tokens act for the whole organisation and get it too.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from accounts import audit_log
from accounts.audit_log import AuditFilter, AuditFilterInvalid
from accounts.roles import Role
from catalogue.base import pk
from skillshub.db import session_scope
from skillshub.web.console import nav
from skillshub.web.console.auth import ViewerDep
from skillshub.web.console.pages import ACTIONS, NO_STORE, render
from skillshub.web.deps import SessionDep
from skillshub.web.i18n import N_

router = APIRouter(include_in_schema=False)
CHUNK_CHARS = 64 * 1024

PATH = "/console/orgs/{slug}/audit"
nav.register(N_("Audit log"), PATH, needs=Role.viewer, order=40)
GROUPS = [
    ("credential.", N_("Badges")),
    ("bulk.", N_("Bulk issuing")),
    ("micro_credential.", N_("Micro-credentials")),
    ("course.", N_("Courses")),
    ("catalogue.", N_("Catalogue imports")),
    ("member.", N_("Members")),
    ("token.", N_("API tokens")),
    ("issuer.", N_("Issuer identity")),
    ("seal.", N_("E-seal certificates")),
    ("user.", N_("Sign-ins and passwords")),
    ("session.", N_("Sessions")),
]


def _filters(request: Request) -> dict[str, str]:
    q = request.query_params
    return {k: q.get(k, "") for k in ("action", "actor", "since", "until")}


def _query(values: dict[str, str], **extra: str) -> str:
    kept = {k: v for k, v in {**values, **extra}.items() if v}
    return ("?" + urlencode(kept)) if kept else ""


@router.get(PATH, response_class=HTMLResponse)
def audit_page(
    request: Request, access: ViewerDep, session: SessionDep, cursor: str = ""
) -> Response:
    values = _filters(request)
    errors: dict[str, str] = {}
    page = audit_log.AuditPage([], None)
    try:
        filters = audit_log.parse_filter(**values)
        page = audit_log.page_for(
            session, access.user, access.organisation, filters, cursor=cursor or None
        )
    except AuditFilterInvalid as exc:
        field = exc.details.get("field", "action") if isinstance(exc.details, dict) else "action"
        errors[field] = exc.message
    base = PATH.replace("{slug}", access.organisation.slug)
    context: dict[str, Any] = {
        "events": page.events,
        "values": values,
        "errors": errors,
        "groups": GROUPS,
        "actions": sorted(ACTIONS.items()),
        "show_addresses": access.role >= Role.owner,
        "next_url": base + _query(values, cursor=page.next_cursor) if page.next_cursor else None,
        "first_url": base + _query(values) if cursor else None,
        "csv_url": f"{base}.csv" + _query(values),
        "base": base,
    }
    return render(
        request,
        "console/audit.html",
        context,
        me=access.me,
        organisation=access.organisation,
        status_code=422 if errors else 200,
    )


@router.get(PATH + ".csv")
def audit_csv(request: Request, access: ViewerDep) -> Response:
    """The filtered log as CSV (newest first, at most audit_log.MAX_EXPORT rows), streamed
    from a session of its own: the request's closes before the body is sent."""
    filters: AuditFilter = audit_log.parse_filter(**_filters(request))
    engine = request.app.state.engine
    org_id = pk(access.organisation)
    words = dict(ACTIONS)
    with_addresses = access.role >= Role.owner

    def body() -> Iterator[bytes]:
        chunk = ["\ufeff"]  # a BOM, so that spreadsheet programs read UTF-8
        size = 0
        with session_scope(engine, write=False) as db:
            events = audit_log.exported_events(db, org_id, filters)
            for line in audit_log.csv_rows(events, words=words, with_addresses=with_addresses):
                chunk.append(line)
                size += len(line)
                if size >= CHUNK_CHARS:  # each chunk is a hop to a worker thread: not per row
                    yield "".join(chunk).encode()
                    chunk, size = [], 0
        yield "".join(chunk).encode()

    name = f"audit-{access.organisation.slug}.csv"
    return StreamingResponse(
        body(),
        media_type="text/csv; charset=utf-8",
        headers={**NO_STORE, "Content-Disposition": f'attachment; filename="{name}"'},
    )


__all__ = ["AuditFilterInvalid", "router"]
