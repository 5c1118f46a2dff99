"""Signing in to the console in tests: users with a role, and clients that are signed in.

Fixtures (available everywhere: tests/conftest.py lists this module in `pytest_plugins`):

- `console_as(organisation, role, *, email=None, via_form=False) -> ConsoleLogin`: a new user
  with that role and a TestClient of its own, signed in. By default the session is started
  through the service (fast: no password hashing); `via_form=True` signs in through
  `POST /console/login` as a browser does.

Helpers: `add_user`, `sign_in` (the real form), `post_form` (a console form with its CSRF
field, no redirect followed).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from accounts import sessions
from accounts.models import User
from accounts.roles import Role
from accounts.users import add_member, create_user
from catalogue.models import Organisation
from skillshub.web.console.auth import COOKIE
from tests.support.csrf import csrf_fields

PASSWORD = "correct horse battery staple"
HTML = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


@dataclass
class ConsoleLogin:
    client: TestClient
    user: User
    organisation: Organisation
    role: Role

    def post(self, path: str, data: dict[str, Any] | None = None, **kwargs: Any) -> httpx.Response:
        return post_form(self.client, path, data, **kwargs)


def add_user(
    session: Session,
    organisation: Organisation,
    role: Role | str,
    *,
    email: str | None = None,
    password: str | None = PASSWORD,
) -> User:
    """A committed user with `role` in `organisation` (password None: none set yet)."""
    email = email or f"{Role(role)}-{uuid.uuid4().hex[:8]}@{organisation.slug}.example"
    user = create_user(session, email, password=password)
    add_member(session, user, organisation, Role(role))
    session.commit()
    return user


def post_form(
    client: TestClient, path: str, data: dict[str, Any] | None = None, **kwargs: Any
) -> httpx.Response:
    """POST a console form as its page would (CSRF field included); redirects not followed."""
    kwargs.setdefault("follow_redirects", False)
    kwargs.setdefault("headers", HTML)
    return client.post(path, data={**(data or {}), **csrf_fields(client)}, **kwargs)


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> httpx.Response:
    """The sign-in form, as a browser sends it; the answer (303 on success) is returned."""
    client.get("/console/login", headers=HTML)
    return post_form(client, "/console/login", {"email": email, "password": password})


@pytest.fixture
def console_as(client: TestClient, session: Session) -> Callable[..., ConsoleLogin]:
    def make(
        organisation: Organisation,
        role: Role | str = Role.issuer,
        *,
        email: str | None = None,
        via_form: bool = False,
    ) -> ConsoleLogin:
        browser = TestClient(client.app, headers=HTML)
        if via_form:
            user = add_user(session, organisation, role, email=email)
            answer = sign_in(browser, user.email)
            assert answer.status_code == 303, answer.text
        else:
            user = add_user(session, organisation, role, email=email, password=None)
            token, _ = sessions.start_session(session, user)
            session.commit()
            browser.cookies.set(COOKIE, token)
        return ConsoleLogin(browser, user, organisation, Role(role))

    return make
