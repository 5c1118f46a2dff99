"""Typed dependencies declared once and used by thin routes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from accounts import audit
from accounts.audit import Actor
from accounts.models import AuditEvent
from badges.verifying import VerificationContext
from catalogue import publishing
from catalogue.models import Organisation
from keys.sealing import MasterKey
from skillshub.db import session_scope
from skillshub.settings import Settings
from skillshub.verifier import verification_context
from skillshub.web.rate_limits import authenticate_request, client_address


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_READ_ONLY = "__skillshub_read_only__"

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


def read_only(endpoint: Endpoint) -> Endpoint:
    """Mark a POST route that never writes (verification): its session takes no write lock,
    which on SQLite would block every writer for as long as the route runs."""
    setattr(endpoint, _READ_ONLY, True)
    return endpoint


def _writes(request: Request) -> bool:
    """Whether the request's session may write. Unsafe methods do; so does an authenticated
    read, which records the token's last use (a deferred SQLite transaction that reads first
    cannot safely write later)."""
    if getattr(request.scope.get("endpoint"), _READ_ONLY, False):
        return False
    return request.method not in _SAFE_METHODS or "authorization" in request.headers


def get_session(request: Request) -> Iterator[Session]:
    with session_scope(request.app.state.engine, write=_writes(request)) as session:
        publishing.require_review(session, request.app.state.settings.require_review)
        yield session


async def request_body(request: Request) -> bytes:
    """The whole body (capped by `BodySizeLimit`). Declare it before the session and the
    token: a writer's session holds SQLite's write lock from its first query, which must not
    wait on a client that uploads slowly."""
    return await request.body()


BodyDep = Annotated[bytes, Depends(request_body)]

_bearer = HTTPBearer(auto_error=False, description="An organisation's API token (shub_…)")

SettingsDep = Annotated[Settings, Depends(get_settings)]
# scope="function": commit (or roll back) before the response goes out, so a client never
# reads its own write as missing and a failed commit is an error answer, not a lost write.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def current_org(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Organisation:
    return authenticate_request(request, session, credentials.credentials if credentials else None)


OrgDep = Annotated[Organisation, Depends(current_org)]


@dataclass(frozen=True)
class ApiCaller:
    """An API request authenticated by a token: its organisation, and who acts for the audit
    log (`Actor.for_token`: the token's prefix and name) from which address; `record` writes
    an audit event as this caller into the request's transaction."""

    organisation: Organisation
    actor: Actor
    address: str

    def record(self, session: Session, action: str, **fields: Any) -> AuditEvent:
        return audit.record(
            session,
            actor=self.actor,
            action=action,
            organisation=self.organisation,
            address=self.address,
            **fields,
        )


def api_caller(request: Request, org: OrgDep) -> ApiCaller:
    # OrgDep ran once for the request (FastAPI caches dependencies) and kept the token's row.
    record = request.state.api_token
    return ApiCaller(org, Actor.for_token(record.prefix, record.name), client_address(request))


ApiCallerDep = Annotated[ApiCaller, Depends(api_caller)]


def get_master_key(request: Request) -> MasterKey:
    return request.app.state.master_key


MasterKeyDep = Annotated[MasterKey, Depends(get_master_key)]


def get_verification_context(request: Request, session: SessionDep) -> VerificationContext:
    """The app's verifier (built on first use: caches, fetch policy, trust anchors) bound to
    this request's session."""
    state = request.app.state
    if getattr(state, "verification", None) is None:
        state.verification = verification_context(state.settings)
    return state.verification.bound(session)


ContextDep = Annotated[VerificationContext, Depends(get_verification_context, scope="function")]
