"""API tokens (both databases): expiry, revocation, listing without secrets, the token API,
and revocation racing requests that use the token."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from catalogue.base import pk
from catalogue.errors import InvalidInput, NotFound, Unauthorized
from catalogue.organisations import create_organisation
from keys import tokens
from keys.models import ApiToken
from skillshub.db import writer

# Explicit instants: expiry is tested against these, never against the wall clock.
T0 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)


def _org(session: Session, slug: str) -> int:
    org = create_organisation(session, legal_name=f"{slug} GmbH", country="DE", slug=slug)
    session.commit()
    return pk(org)


def _bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


# --- the service ---------------------------------------------------------------------------


def test_expiry_is_checked_against_the_clock_it_is_given(session: Session) -> None:
    org_id = _org(session, "volt")
    token, record = tokens.create_token(session, org_id, "ci", expires_days=7, now=T0)
    session.commit()
    assert record.expires_at == T0 + timedelta(days=7)
    just_before = T0 + timedelta(days=7, seconds=-1)
    assert tokens.authenticate(session, token, now=just_before).slug == "volt"
    assert tokens.token_state(record, just_before) == "active"
    with pytest.raises(Unauthorized, match="this API token expired on 2026-03-08 09:30 UTC"):
        tokens.authenticate(session, token, now=T0 + timedelta(days=7))
    assert tokens.token_state(record, T0 + timedelta(days=7)) == "expired"


def test_tokens_without_expiry_never_expire(session: Session) -> None:
    token, record = tokens.create_token(session, _org(session, "volt"), now=T0)
    assert record.expires_at is None
    assert tokens.authenticate(session, token, now=T0 + timedelta(days=3650)).slug == "volt"


@pytest.mark.parametrize("days", [0, -1, tokens.MAX_EXPIRES_DAYS + 1])
def test_expiry_out_of_range_is_refused(session: Session, days: int) -> None:
    with pytest.raises(InvalidInput, match="expiry"):
        tokens.create_token(session, _org(session, "volt"), expires_days=days)


def test_revoked_unknown_and_missing_tokens_say_what_they_are(session: Session) -> None:
    org_id = _org(session, "volt")
    token, record = tokens.create_token(session, org_id, now=T0)
    revoked = tokens.revoke_token(session, pk(record), org_id, now=T0 + timedelta(hours=1))
    session.commit()
    assert revoked.revoked_at == T0 + timedelta(hours=1)
    with pytest.raises(Unauthorized, match="this API token was revoked on 2026-03-01 10:30 UTC"):
        tokens.authenticate(session, token)
    # Revoking again keeps the first time on record.
    again = tokens.revoke_token(session, pk(record), None, now=T0 + timedelta(days=9))
    assert again.revoked_at == T0 + timedelta(hours=1)
    unknown = "shub_" + "x" * 43
    for wrong in (unknown, "not-a-token", "shub_" + "y" * 300):
        with pytest.raises(Unauthorized) as refused:
            tokens.authenticate(session, wrong)
        assert refused.value.message == "invalid token"
    with pytest.raises(Unauthorized, match="required"):
        tokens.authenticate(session, None)


def test_revoking_another_organisations_token_is_not_found(session: Session) -> None:
    mine, theirs = _org(session, "volt"), _org(session, "amp")
    _, record = tokens.create_token(session, theirs)
    with pytest.raises(NotFound, match=f"token {record.id} does not exist"):
        tokens.revoke_token(session, pk(record), mine)
    with pytest.raises(NotFound):
        tokens.revoke_token(session, 999_999, None)
    assert record.revoked_at is None


def test_last_use_is_kept_at_minute_precision(session: Session) -> None:
    token, record = tokens.create_token(session, _org(session, "volt"), now=T0)
    tokens.authenticate(session, token, now=T0)
    assert record.last_used_at == T0
    tokens.authenticate(session, token, now=T0 + timedelta(seconds=30))
    assert record.last_used_at == T0  # no UPDATE within the minute
    tokens.authenticate(session, token, now=T0 + timedelta(minutes=2))
    assert record.last_used_at == T0 + timedelta(minutes=2)


# --- over HTTP -----------------------------------------------------------------------------


def test_expired_and_revoked_tokens_are_401_with_the_reason(
    client: TestClient, session: Session
) -> None:
    org_id = _org(session, "volt")
    expired, _ = tokens.create_token(session, org_id, "old", expires_days=30, now=LONG_AGO)
    revoked, record = tokens.create_token(session, org_id, "leaked")
    tokens.revoke_token(session, pk(record), org_id)
    session.commit()
    for token, reason in ((expired, "expired on 2020-01-31"), (revoked, "was revoked on")):
        response = client.get("/api/v1/organisations/me", headers=_bearer(token))
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert reason in response.json()["error"]["message"]
    unknown = client.get("/api/v1/organisations/me", headers=_bearer("shub_" + "z" * 43))
    assert unknown.status_code == 401
    assert unknown.json()["error"]["message"] == "invalid token"


def test_token_list_shows_no_secret(client: TestClient, session: Session, engine: Engine) -> None:
    org_id = _org(session, "volt")
    token, _ = tokens.create_token(session, org_id, "ci", expires_days=90)
    old, old_record = tokens.create_token(session, org_id, "old")
    tokens.revoke_token(session, pk(old_record), org_id)
    session.commit()
    response = client.get("/api/v1/organisations/volt/tokens", headers=_bearer(token))
    assert response.status_code == 200, response.text
    listed = response.json()
    assert [(t["name"], t["state"]) for t in listed] == [("ci", "active"), ("old", "revoked")]
    assert listed[0]["expires_at"] and listed[0]["last_used_at"] and not listed[0]["revoked_at"]
    assert listed[1]["revoked_at"] and listed[1]["expires_at"] is None
    with Session(engine) as fresh:
        hashes = [t.token_hash for t in fresh.exec(select(ApiToken))]
    for secret in (token, old, token[len("shub_") + 6 :], *hashes):
        assert secret not in response.text
    assert "token_hash" not in response.text


def test_token_api_is_scoped_to_the_callers_organisation(
    client: TestClient, session: Session
) -> None:
    mine, theirs = _org(session, "volt"), _org(session, "amp")
    token, _ = tokens.create_token(session, mine)
    their_token, their_record = tokens.create_token(session, theirs)
    session.commit()
    listed = client.get("/api/v1/organisations/amp/tokens", headers=_bearer(token))
    assert listed.status_code == 403
    assert client.get("/api/v1/organisations/volt/tokens").status_code == 401
    gone = client.delete(f"/api/v1/tokens/{their_record.id}", headers=_bearer(token))
    assert gone.status_code == 404
    assert client.get("/api/v1/organisations/me", headers=_bearer(their_token)).status_code == 200


def test_revoke_over_the_api(client: TestClient, session: Session) -> None:
    org_id = _org(session, "volt")
    admin, _ = tokens.create_token(session, org_id, "admin")
    leaked, record = tokens.create_token(session, org_id, "leaked")
    session.commit()
    response = client.delete(f"/api/v1/tokens/{record.id}", headers=_bearer(admin))
    assert response.status_code == 200, response.text
    assert response.json()["state"] == "revoked" and response.json()["revoked_at"]
    refused = client.get("/api/v1/organisations/me", headers=_bearer(leaked))
    assert refused.status_code == 401 and "revoked" in refused.json()["error"]["message"]
    assert client.delete("/api/v1/tokens/999999", headers=_bearer(admin)).status_code == 404
    # A token may revoke itself; the very next request with it is refused.
    listed = client.get("/api/v1/organisations/volt/tokens", headers=_bearer(admin)).json()
    [own] = [t["id"] for t in listed if t["name"] == "admin"]
    assert client.delete(f"/api/v1/tokens/{own}", headers=_bearer(admin)).status_code == 200
    assert client.get("/api/v1/organisations/me", headers=_bearer(admin)).status_code == 401


def test_no_request_after_the_revocation_commits_succeeds(
    client: TestClient, session: Session, engine: Engine
) -> None:
    """Requests hammer the API with a token while another connection revokes it: every
    request *sent* after the revoking transaction committed is refused."""
    org_id = _org(session, "volt")
    token, record = tokens.create_token(session, org_id)
    session.commit()
    warmed_up, revoked, stop = threading.Event(), threading.Event(), threading.Event()
    results: list[tuple[bool, int]] = []
    lock = threading.Lock()

    def hammer() -> None:
        while not stop.is_set():
            sent_after_revoke = revoked.is_set()
            status = client.get("/api/v1/organisations/me", headers=_bearer(token)).status_code
            with lock:
                results.append((sent_after_revoke, status))
                if len(results) >= 8:
                    warmed_up.set()
                if sum(after for after, _ in results) >= 24:
                    stop.set()

    with ThreadPoolExecutor(max_workers=4) as pool:
        workers = [pool.submit(hammer) for _ in range(4)]
        try:
            assert warmed_up.wait(60)
            # A writer, as the CLI's and the API's revocations are.
            with Session(writer(engine)) as other:
                tokens.revoke_token(other, pk(record), org_id)
                other.commit()
            revoked.set()
            for worker in workers:
                worker.result(timeout=120)
        finally:
            stop.set()  # whatever failed above, the hammering threads end
    after = [status for sent_after, status in results if sent_after]
    before = [status for sent_after, status in results if not sent_after]
    # Refused: 401, or 429 once the address has spent its budget of failed tokens.
    assert len(after) >= 24 and 401 in after and set(after) <= {401, 429}
    # Sent before the commit but answered after it: refused too (401, or 429 past the budget).
    assert 200 in before and set(before) <= {200, 401, 429}
