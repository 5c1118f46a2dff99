"""Fixtures of the community tests: an app that requires review, signed-in operators."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from accounts import sessions
from accounts.roles import Role
from accounts.users import add_member, create_user
from catalogue.demo import load_demo_catalogue
from catalogue.models import Organisation
from skillshub.settings import Settings
from skillshub.web.app import create_app
from skillshub.web.console.auth import COOKIE
from tests.support.console import HTML


@pytest.fixture
def reviewing(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    """The app with SKILLSHUB_REQUIRE_REVIEW on."""
    app = create_app(settings.model_copy(update={"require_review": True}), engine=engine)
    with TestClient(app) as client:
        yield client


@pytest.fixture
def demo_skills(session: Session) -> None:
    load_demo_catalogue(session)
    session.commit()


@pytest.fixture
def operator_as(session: Session) -> Callable[..., TestClient]:
    """operator_as(app_client, email, member_of=None): a browser signed in as a hub operator
    (optionally also a member of an organisation)."""

    def make(client: TestClient, email: str, member_of: Organisation | None = None) -> TestClient:
        session.rollback()  # a fresh transaction: SQLite refuses to upgrade a stale read
        user = create_user(session, email)
        user.is_operator = True
        session.add(user)
        if member_of is not None:
            add_member(session, user, member_of, Role.owner)
        token, _ = sessions.start_session(session, user)
        session.commit()
        browser = TestClient(client.app, headers=HTML)
        browser.cookies.set(COOKIE, token)
        return browser

    return make
