"""Who is signed in to the console, and with which role in the organisation of the URL.

The cookie holds a random session token (accounts.sessions keeps its SHA-256): HttpOnly,
SameSite=Lax, Path=/console, and Secure (with the `__Secure-` name prefix) when the site is
served over https. Every request reads the session from the database, so sign-out and
revocation take effect at once, on every process.

Route dependencies:
- `ConsoleUserDep`: the signed-in `ConsoleUser`; without a live session a browser is sent to
  the sign-in page (303, back here afterwards) and an API client gets 401.
- `ViewerDep`, `IssuerDep`, `OwnerDep`: for routes under `/console/orgs/{slug}/…`, an
  `OrgAccess` (user, organisation, role) when the user's role there is at least that one;
  403 otherwise. The services check the role again (accounts.users.require_role).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import BackgroundTasks, Depends, Request, Response
from sqlalchemy.engine import Engine

from accounts import sessions
from accounts.audit import Actor
from accounts.models import User
from accounts.roles import Role
from accounts.users import OrgRole, memberships, organisation_by_slug, require_role
from catalogue.base import pk
from catalogue.models import Organisation
from skillshub.db import session_scope
from skillshub.settings import Settings
from skillshub.web.deps import SessionDep
from skillshub.web.rate_limits import client_address

COOKIE = "shub_console"
SECURE_COOKIE = "__Secure-shub_console"  # only a secure (https) response may set it
COOKIE_PATH = "/console"
LOGIN_PATH = "/console/login"
HOME_PATH = "/console"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def is_secure(request: Request) -> bool:
    settings: Settings = request.app.state.settings
    return settings.base_url.startswith("https://") or request.url.scheme == "https"


def cookie_name(request: Request) -> str:
    return SECURE_COOKIE if is_secure(request) else COOKIE


def session_token(request: Request) -> str | None:
    return request.cookies.get(cookie_name(request))


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    settings: Settings = request.app.state.settings
    response.set_cookie(
        cookie_name(request),
        token,
        max_age=int(settings.console_session_ttl.total_seconds()),
        path=COOKIE_PATH,
        secure=is_secure(request),
        httponly=True,
        samesite="lax",
    )


def clear_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(
        cookie_name(request),
        path=COOKIE_PATH,
        secure=is_secure(request),
        httponly=True,
        samesite="lax",
    )


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a console path of this site, never another site's
    (`//evil.example`, `/\\evil.example` and absolute URLs fall back to the dashboard)."""
    if (
        target
        and target.startswith(HOME_PATH)
        and not target.startswith(("//", "/\\"))
        and "\\" not in target
        and all(ch.isprintable() for ch in target)
        and len(target) <= 500
    ):
        return target
    return HOME_PATH


@dataclass(frozen=True)
class ConsoleUser:
    """The signed-in user of this request, their organisations and the browser session."""

    user: User
    session_id: int
    orgs: list[OrgRole]
    address: str

    @property
    def email(self) -> str:
        return self.user.email

    @property
    def actor(self) -> Actor:
        return Actor.for_user(self.user)

    def role_in(self, organisation: Organisation) -> Role | None:
        return next((m.role for m in self.orgs if m.organisation.id == organisation.id), None)


@dataclass(frozen=True)
class OrgAccess:
    """A console request in one organisation: who, where, with which role; `actor` and
    `address` are what `accounts.audit.record` wants."""

    me: ConsoleUser
    organisation: Organisation
    role: Role

    @property
    def user(self) -> User:
        return self.me.user

    @property
    def actor(self) -> Actor:
        return self.me.actor

    @property
    def address(self) -> str:
        return self.me.address


def _touch_later(engine: Engine, session_id: int) -> None:
    # After the response, in a short writer transaction of its own: a page view (a reader)
    # must not take the write lock for a "last seen" time.
    with session_scope(engine, write=True) as db:
        sessions.touch(db, session_id)


def console_user(request: Request, session: SessionDep, background: BackgroundTasks) -> ConsoleUser:
    row, user = sessions.session_for_token(session, session_token(request))
    now = datetime.now(UTC)
    if sessions.needs_touch(row, now):
        if request.method in _SAFE_METHODS:
            background.add_task(_touch_later, request.app.state.engine, pk(row))
        else:  # an unsafe method's session writes anyway
            sessions.touch(session, pk(row), now=now)
    request.state.console_session_id = pk(row)
    return ConsoleUser(user, pk(row), memberships(session, user), client_address(request))


ConsoleUserDep = Annotated[ConsoleUser, Depends(console_user)]


def org_access(needed: Role) -> Callable[..., OrgAccess]:
    """A dependency for `/console/orgs/{slug}/…` routes: the user's access to that
    organisation when their role is `needed` or higher (NotAMember / RoleTooLow: 403)."""

    def dependency(slug: str, me: ConsoleUserDep, session: SessionDep) -> OrgAccess:
        organisation = organisation_by_slug(session, slug)
        role = require_role(session, me.user, organisation, needed)
        return OrgAccess(me, organisation, role)

    dependency.__name__ = f"requires_{needed}"
    return dependency


ViewerDep = Annotated[OrgAccess, Depends(org_access(Role.viewer))]
IssuerDep = Annotated[OrgAccess, Depends(org_access(Role.issuer))]
OwnerDep = Annotated[OrgAccess, Depends(org_access(Role.owner))]
