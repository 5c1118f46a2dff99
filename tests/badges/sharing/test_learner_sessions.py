"""Learner sessions (both databases): a new claim link ends older sessions, sessions expire
after SKILLSHUB_LEARNER_SESSION_DAYS, and "sign out everywhere" ends them all."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from badges import issuing
from badges.models import ClaimToken, IssuedCredential
from badges.sharing import delivery
from catalogue.base import pk
from skillshub import sqlite_locking
from skillshub.db import writer
from skillshub.settings import Settings
from skillshub.web.app import create_app
from tests.badges.sharing.test_learner import (
    HTML,
    _auth,
    _claim,
    _claim_link,
    _issue,
    _outbox,
    _stranger,
    _tokens,
    _update,
)
from tests.support.csrf import csrf_fields
from tests.support.world import World

# Explicit instants: expiry is tested against these, never against the wall clock.
T0 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
FAR_AHEAD = datetime(2999, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)
COOKIE = "shub_learner"


class Recording:
    def __init__(self) -> None:
        self.sent: list = []

    def send(self, message) -> None:
        self.sent.append(message)


def _manage(client: TestClient, credential_id: str) -> int:
    return client.get(f"/credentials/{credential_id}/manage", headers=HTML).status_code


def _sessions(engine: Engine) -> list[ClaimToken]:
    return [t for t in _tokens(engine) if t.purpose == delivery.SESSION]


def _record(session: Session, world: World) -> IssuedCredential:
    record = issuing.issue(
        session,
        world.master_key,
        issuer=world.issuer,
        micro_credential=world.mc,
        recipient=issuing.Recipient(name="Grace Hopper", email="grace@navy.example"),
        base_url="http://testserver",
    )
    session.commit()
    return record


def _send(session: Session, settings: Settings, record: IssuedCredential, now: datetime) -> str:
    """Send a claim link at `now`; its token."""
    outbox = Recording()
    delivery.send_claim_link(session, settings, record, mailer=outbox, now=now)
    text = outbox.sent[-1].get_body(("plain",)).get_content()
    link = next(w for w in text.split() if "/claim?token=" in w)
    return parse_qs(urlsplit(link).query)["token"][0]


def _old_session(session: Session, record: IssuedCredential, now: datetime) -> str:
    """A session minted as before this release, when a re-claim left older sessions alive
    for 365 days: databases may still hold several per credential."""
    token = delivery._new_token(session, record, delivery.SESSION, now, timedelta(days=365))
    session.commit()
    return token


# --- through the app -----------------------------------------------------------------------


def test_a_resent_link_ends_the_session_and_its_reclaim_works(
    client: TestClient, world: World, settings: Settings, engine: Engine
) -> None:
    credential_id = _issue(client, world)["id"]
    _claim(client, _claim_link(_outbox(settings)[0]))
    assert _manage(client, credential_id) == 200
    # The first link reached the wrong inbox; the issuer sends a new one.
    sent = client.post(
        "/api/v1/claim-links", json={"credential": credential_id}, headers=_auth(world)
    )
    assert sent.status_code == 201
    assert _manage(client, credential_id) == 403  # the old cookie is refused at once
    assert _sessions(engine) == []
    learner = _stranger(client)
    _claim(learner, _claim_link(_outbox(settings)[1]))
    assert _manage(learner, credential_id) == 200
    assert _manage(client, credential_id) == 403
    # Server-side, a session is only the hash of the cookie's value.
    cookie = learner.cookies.get(COOKIE) or ""
    [row] = _sessions(engine)
    assert row.token_hash == delivery.hash_token(cookie)
    assert cookie not in " ".join(str(v) for v in row.model_dump().values())


def test_a_reclaim_ends_older_sessions(
    client: TestClient, world: World, settings: Settings, session: Session, engine: Engine
) -> None:
    credential_id = _issue(client, world)["id"]
    record = issuing.find_credential(session, credential_id)
    assert record is not None
    old = _stranger(client)
    old.cookies.set(COOKIE, _old_session(session, record, datetime.now(UTC)))
    assert _manage(old, credential_id) == 200
    _claim(client, _claim_link(_outbox(settings)[0]))
    assert _manage(old, credential_id) == 403
    assert _manage(client, credential_id) == 200
    assert len(_sessions(engine)) == 1


def test_a_session_expires_after_the_setting(
    settings: Settings, engine: Engine, world: World
) -> None:
    short = settings.model_copy(update={"learner_session_days": 2})
    with TestClient(create_app(short, engine=engine)) as client:
        credential_id = _issue(client, world)["id"]
        _claim(client, _claim_link(_outbox(settings)[0]))
        cookie = next(c for c in client.cookies.jar if c.name == COOKIE)
        assert cookie.expires is not None  # a max-age was set: the browser forgets it too
        [row] = _sessions(engine)
        assert row.expires_at == row.created_at + 2 * DAY
        assert _manage(client, credential_id) == 200
        # Minted over two days ago with an expiry far ahead: only the setting ends it
        # (explicit stored timestamps; the test reads no clock).
        _update(engine, ClaimToken, pk(row), created_at=T0 - 2 * DAY, expires_at=FAR_AHEAD)
        assert _manage(client, credential_id) == 403
        assert client.get(f"/credentials/{credential_id}/download").status_code == 404


def test_sign_out_everywhere(
    client: TestClient, world: World, settings: Settings, session: Session, engine: Engine
) -> None:
    credential_id = _issue(client, world)["id"]
    _claim(client, _claim_link(_outbox(settings)[0]))
    # The same session in a synced browser, and an older one from before this release.
    synced = _stranger(client)
    synced.cookies.set(COOKIE, client.cookies.get(COOKIE) or "")
    record = issuing.find_credential(session, credential_id)
    assert record is not None
    older = _stranger(client)
    older.cookies.set(COOKIE, _old_session(session, record, datetime.now(UTC)))
    page = client.get(f"/credentials/{credential_id}/manage", headers=HTML)
    action = f'action="/credentials/{credential_id}/manage/sign-out-everywhere"'
    assert action in page.text and "Sign out everywhere" in page.text
    # Someone without a session cannot end the learner's.
    stranger = _stranger(client)
    refused = stranger.post(
        f"/credentials/{credential_id}/manage/sign-out-everywhere",
        data=csrf_fields(stranger),
        follow_redirects=False,
    )
    assert refused.status_code == 403 and len(_sessions(engine)) == 2

    response = client.post(
        f"/credentials/{credential_id}/manage/sign-out-everywhere",
        data=csrf_fields(client),
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert COOKIE not in client.cookies
    assert _sessions(engine) == []
    for browser in (client, synced, older):
        assert _manage(browser, credential_id) == 403


# --- the service, with explicit clocks ------------------------------------------------------


def test_session_lifetime(session: Session, world: World, settings: Settings) -> None:
    record = _record(session, world)
    token = _send(session, settings, record, T0)
    ttl = 30 * DAY
    _, learner = delivery.redeem_claim(session, record.uuid, token, ttl=ttl, now=T0)
    session.commit()
    live = delivery.learner_credential
    assert live(session, record.uuid, learner, ttl=ttl, now=T0 + ttl - DAY) is not None
    assert live(session, record.uuid, learner, ttl=ttl, now=T0 + ttl) is None
    # Lowering the setting ends older sessions at once, whatever they were minted with.
    assert live(session, record.uuid, learner, ttl=7 * DAY, now=T0 + 7 * DAY) is None
    old = _old_session(session, record, T0)
    assert live(session, record.uuid, old, ttl=ttl, now=T0 + 29 * DAY) is not None
    assert live(session, record.uuid, old, ttl=ttl, now=T0 + 31 * DAY) is None


def test_resend_and_redeem_end_sessions(session: Session, world: World, settings: Settings) -> None:
    record = _record(session, world)
    live = delivery.learner_credential
    first = _send(session, settings, record, T0)
    _, a = delivery.redeem_claim(session, record.uuid, first, now=T0)
    older = _old_session(session, record, T0)
    assert live(session, record.uuid, a, now=T0 + DAY) is not None
    second = _send(session, settings, record, T0 + DAY)
    assert live(session, record.uuid, a, now=T0 + DAY) is None
    assert live(session, record.uuid, older, now=T0 + DAY) is None
    _, b = delivery.redeem_claim(session, record.uuid, second, now=T0 + 2 * DAY)
    session.commit()
    assert live(session, record.uuid, b, now=T0 + 2 * DAY) is not None
    assert delivery.end_sessions(session, pk(record)) == 1
    assert live(session, record.uuid, b, now=T0 + 2 * DAY) is None


def test_a_redeem_racing_a_resend_mints_no_session(
    session: Session,
    world: World,
    settings: Settings,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The redeem has checked the link when the issuer's resend commits: the replaced link
    is not spent and no session outlives the resend. (On SQLite a writer holds the write lock
    from its first read, so the resend cannot commit in between: it waits, here past a
    shortened timeout, and the redeem completes alone.)"""
    record = _record(session, world)
    token = _send(session, settings, record, T0)
    check = delivery._claim
    sqlite = engine.dialect.name == "sqlite"
    monkeypatch.setattr(sqlite_locking, "BUSY_TIMEOUT_S", 0.05)
    resend_refused: list[bool] = []

    def resend_after_check(*args: Any) -> tuple[ClaimToken, IssuedCredential]:
        found = check(*args)
        try:
            with Session(writer(engine), expire_on_commit=False) as issuer:
                fresh = issuer.get(IssuedCredential, record.id)
                assert fresh is not None
                _send(issuer, settings, fresh, T0 + DAY)
        except OperationalError:
            resend_refused.append(True)
        return found

    monkeypatch.setattr(delivery, "_claim", resend_after_check)
    with Session(writer(engine), expire_on_commit=False) as redeeming:
        if sqlite:
            delivery.redeem_claim(redeeming, record.uuid, token, now=T0 + DAY)
            redeeming.commit()
            assert resend_refused == [True]
            assert len(_sessions(engine)) == 1
            return
        with pytest.raises(delivery.ClaimUsed, match="replaced"):
            delivery.redeem_claim(redeeming, record.uuid, token, now=T0 + DAY)
        redeeming.rollback()
    assert resend_refused == []
    assert _sessions(engine) == []
