"""Recipients through real HTTP on both databases: the list with its states, filters, search
and keyset pages, the CSV export, `GET /api/v1/credentials`, a credential's page with its
history, revoke / suspend / unsuspend / resend with their audit events, and the roles."""

from __future__ import annotations

import csv
import email
import email.policy
import io
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from accounts.models import AuditEvent
from accounts.roles import Role
from badges import issuing, recipients, status
from badges.issuing import vc_api
from badges.models import IssuedCredential, StatusChange
from badges.sharing import delivery
from openbadges_schemas.loader import CREDENTIALS_V2
from skillshub.cli import app as cli
from skillshub.settings import Settings
from tests.support.app import app_of
from tests.support.console import ConsoleLogin
from tests.support.present import one, present
from tests.support.world import World, make_world

Login = Callable[..., ConsoleLogin]


@pytest.fixture
def world(session: Session, master_key: str) -> World:
    return make_world(session, master_key)


def _issue(session: Session, world: World, name: str, email: str, **fields) -> IssuedCredential:
    record = issuing.issue(
        session,
        world.master_key,
        issuer=world.issuer,
        micro_credential=world.mc,
        recipient=issuing.Recipient(name, email, **fields),
        base_url="http://testserver",
        status_purposes=status.PURPOSES,  # suspendable too (the default is revocation only)
    )
    session.commit()
    return record


def _events(engine: Engine, action: str) -> list[AuditEvent]:
    with Session(engine) as fresh:
        return list(fresh.exec(select(AuditEvent).where(AuditEvent.action == action)).all())


def _names(page_html: str) -> list[str]:
    link = r'<td data-label="Learner"><a href="/console/orgs/[^/]+/credentials/[^"]+">([^<]+)</a>'
    return re.findall(link, page_html)


def _states(session: Session, world: World, settings: Settings) -> dict[str, IssuedCredential]:
    """One credential in each state."""
    made = {
        state: _issue(session, world, f"{state.title()} Person", f"{state}@example.org")
        for state in recipients.STATES
    }
    made["public"].public = True
    made["emailed"].delivery_status = "sent"
    made["delivery_failed"].delivery_status = "failed"
    made["delivery_failed"].delivery_error = "mailbox full"
    made["expired"].valid_until = datetime.now(UTC) - timedelta(days=1)
    made["suspended"].suspended = True
    made["revoked"].revoked_at = datetime.now(UTC)
    for record in made.values():
        session.add(record)
    session.commit()
    sent = delivery.send_claim_link(session, settings, made["claimed"])
    assert sent.sent
    token = _claim_token(settings, made["claimed"].uuid)
    delivery.redeem_claim(session, made["claimed"].uuid, token)
    session.commit()
    return made


def _claim_token(settings: Settings, credential_uuid: str) -> str:
    for mail in sorted((settings.data_dir / "outbox").glob("*.eml")):
        message = email.message_from_bytes(mail.read_bytes(), policy=email.policy.default)
        text = present(message.get_body(("plain",))).get_content()
        found = re.search(rf"/credentials/{credential_uuid}/claim\?token=(\S+)", text)
        if found:
            return unquote(found[1])
    raise AssertionError("no claim e-mail")


def test_each_state_filter_shows_exactly_its_credentials(
    console_as: Login, world: World, session: Session, settings: Settings
) -> None:
    made = _states(session, world, settings)
    viewer = console_as(world.org, Role.viewer)
    base = f"/console/orgs/{world.org.slug}/recipients"
    everything = viewer.client.get(base)
    assert everything.status_code == 200
    assert "8 badges." in everything.text
    for state in recipients.STATES:
        page = viewer.client.get(f"{base}?state={state}")
        expected = [f"{state.title()} Person"]
        if state == "issued":  # public is shown beside the state: that one is issued too
            expected = ["Public Person", "Issued Person"]
        assert _names(page.text) == expected, state
        assert f'class="state state-{state}"' in page.text or state == "public"
    with Session(app_of(viewer.client).state.engine) as fresh:
        claimed = fresh.get(IssuedCredential, made["claimed"].id)
        assert claimed is not None and claimed.claimed_at is not None
    bad = viewer.client.get(f"{base}?state=lost")
    assert bad.status_code == 422 and "One of issued, emailed" in bad.text


def test_search_filters_and_keyset_pages(console_as: Login, world: World, session: Session) -> None:
    for n in range(53):
        _issue(session, world, f"Learner {n:02d}", f"l{n}@example.org")
    _issue(session, world, "Jürgen Müller", "jm@example.org")
    _issue(session, world, "Zoë Weiß", "zoe@Example.org")
    viewer = console_as(world.org, Role.viewer)
    base = f"/console/orgs/{world.org.slug}/recipients"
    for query, expected in [
        ("muller", ["Jürgen Müller"]),
        ("MÜLLER", ["Jürgen Müller"]),
        ("zoe@example", ["Zoë Weiß"]),
        ("weiss", ["Zoë Weiß"]),
        ("%", []),
        ("_", []),
    ]:
        assert _names(viewer.client.get(base, params={"q": query}).text) == expected, query
    first = viewer.client.get(base)
    names = _names(first.text)
    assert len(names) == 50 and names[:2] == ["Zoë Weiß", "Jürgen Müller"]
    older = present(re.search(r'href="([^"]+after=[^"]+)" rel="next"', first.text))[1]
    second = viewer.client.get(older.replace("&amp;", "&"))
    rest = _names(second.text)
    assert rest == ["Learner 04", "Learner 03", "Learner 02", "Learner 01", "Learner 00"]
    assert 'rel="next"' not in second.text
    newer = present(re.search(r'href="([^"]+before=[^"]+)" rel="prev"', second.text))[1]
    assert _names(viewer.client.get(newer.replace("&amp;", "&")).text) == names
    filtered = viewer.client.get(base, params={"micro_credential": world.mc.slug, "q": "learner 5"})
    assert _names(filtered.text) == ["Learner 52", "Learner 51", "Learner 50"]
    today = datetime.now(UTC).date()
    future = viewer.client.get(
        base, params={"issued_from": (today + timedelta(days=1)).isoformat()}
    )
    assert _names(future.text) == [] and "No badge matches" in future.text
    backwards = viewer.client.get(
        base, params={"issued_from": today.isoformat(), "issued_until": "2000-01-01"}
    )
    assert backwards.status_code == 422 and "before the start date" in backwards.text


def test_the_csv_export_holds_every_match_and_no_formula(
    console_as: Login, world: World, session: Session
) -> None:
    _issue(session, world, "=HYPERLINK(1)", "x@example.org")
    _issue(session, world, "Ada Lovelace", "ada@example.org", grade="-5")
    viewer = console_as(world.org, Role.viewer)
    answer = viewer.client.get(f"/console/orgs/{world.org.slug}/recipients.csv")
    assert answer.status_code == 200
    assert answer.headers["content-disposition"].startswith("attachment;")
    assert answer.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert [(r["name"], r["grade"], r["state"]) for r in rows] == [
        ("Ada Lovelace", "'-5", "issued"),
        ("'=HYPERLINK(1)", "", "issued"),
    ]
    only = viewer.client.get(f"/console/orgs/{world.org.slug}/recipients.csv?q=ada")
    assert only.content.decode("utf-8-sig").count("\n") == 2
    assert (
        viewer.client.get(f"/console/orgs/{world.org.slug}/recipients.csv?state=x").status_code
        == 422
    )


def test_the_api_lists_credentials_with_the_same_filters(
    client: TestClient, world: World, session: Session, master_key: str
) -> None:
    other = make_world(session, master_key, slug="otherco")
    _issue(session, other, "Not Mine", "other@example.org")
    for n in range(5):
        _issue(session, world, f"Learner {n}", f"l{n}@example.org")
    auth = {"authorization": f"Bearer {world.token}"}
    assert client.get("/api/v1/credentials").status_code == 401
    first = client.get("/api/v1/credentials", params={"limit": 2}, headers=auth).json()
    assert [i["recipient_name"] for i in first["items"]] == ["Learner 4", "Learner 3"]
    assert first["total"] == 5 and first["previous_cursor"] is None
    assert (
        first["items"][0]["state"] == "issued"
        and first["items"][0]["recipient_email"] == "l4@example.org"
    )
    second = client.get(
        "/api/v1/credentials", params={"limit": 2, "cursor": first["next_cursor"]}, headers=auth
    ).json()
    assert [i["recipient_name"] for i in second["items"]] == ["Learner 2", "Learner 1"]
    assert second["total"] is None
    back = client.get(
        "/api/v1/credentials",
        params={"limit": 2, "cursor": second["previous_cursor"], "direction": "before"},
        headers=auth,
    ).json()
    assert back["items"] == first["items"]
    search = client.get("/api/v1/credentials", params={"q": "learner 3"}, headers=auth).json()
    assert [i["recipient_name"] for i in search["items"]] == ["Learner 3"]
    for params, field in [
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"state": "lost"}, "state"),
        ({"micro_credential": other.mc.slug}, "micro_credential"),
    ]:
        refused = client.get("/api/v1/credentials", params=params, headers=auth)
        assert refused.status_code == 422, params
        assert refused.json()["error"]["details"]["field"] == field


def _cred(world: World, record: IssuedCredential) -> str:
    return f"/console/orgs/{world.org.slug}/credentials/{record.uuid}"


def test_revoke_needs_a_reason_and_a_confirmation_and_is_logged(
    console_as: Login, world: World, session: Session, engine: Engine
) -> None:
    record = _issue(session, world, "Ada Lovelace", "ada@example.org")
    issuer = console_as(world.org, Role.issuer)
    path = _cred(world, record)
    page = issuer.client.get(path)
    assert "Revoke the badge" in page.text and "cannot be undone" in page.text
    no_reason = issuer.post(path + "/revoke", {"reason": " ", "confirm": "yes"})
    assert no_reason.status_code == 422 and 'id="revoke_reason-error"' in no_reason.text
    unconfirmed = issuer.post(path + "/revoke", {"reason": "issued in error"})
    assert unconfirmed.status_code == 422 and "revocation is final" in unconfirmed.text
    assert "issued in error" in unconfirmed.text  # the reason typed is kept
    with Session(engine) as fresh:
        assert one(fresh, IssuedCredential, record.id).revoked_at is None
    done = issuer.post(path + "/revoke", {"reason": "issued in error", "confirm": "yes"})
    assert done.status_code == 303 and done.headers["location"].endswith("?notice=revoke")
    after = issuer.client.get(done.headers["location"])
    assert "The badge is revoked" in after.text and "state-revoked" in after.text
    assert f"<strong>Revoked</strong> by {issuer.user.email}: issued in error" in after.text
    [event] = _events(engine, "credential.revoke")
    assert event.details == {"reason": "issued in error"} and event.actor_user_id == issuer.user.id
    again = issuer.post(path + "/revoke", {"reason": "twice", "confirm": "yes"})
    assert again.status_code in (409, 422)
    resend = issuer.post(path + "/resend")
    assert resend.status_code == 409 and "no claim link is sent" in resend.text
    assert _events(engine, "credential.resend") == []


def test_suspend_unsuspend_and_resend(
    console_as: Login, world: World, session: Session, engine: Engine, settings: Settings
) -> None:
    record = _issue(session, world, "Ada Lovelace", "ada@example.org")
    issuer = console_as(world.org, Role.issuer)
    path = _cred(world, record)
    assert issuer.post(path + "/suspend", {"reason": ""}).status_code == 422
    assert issuer.post(path + "/suspend", {"reason": "exam under review"}).status_code == 303
    assert issuer.post(path + "/unsuspend").status_code == 303
    with Session(engine) as fresh:
        changes = fresh.exec(select(StatusChange).order_by(col(StatusChange.id))).all()
    assert [(c.action, c.reason, c.actor) for c in changes] == [
        ("suspend", "exam under review", issuer.user.email),
        ("unsuspend", None, issuer.user.email),
    ]
    resent = issuer.post(path + "/resend")
    assert resent.status_code == 303 and resent.headers["location"].endswith("notice=resent")
    [event] = _events(engine, "credential.resend")
    assert event.subject_id == record.uuid and event.details == {"recipient": "a…@example.org"}
    assert len(list((settings.data_dir / "outbox").glob("*.eml"))) == 1
    page = issuer.client.get(path)
    history = re.findall(r"<strong>([^<]+)</strong>", page.text.split("<h2>History</h2>")[1])
    assert history[:5] == [
        "Issued", "Suspended", "Suspension lifted", "Claim link e-mailed", "Claim link sent again",
    ] or history[:5] == [
        "Issued", "Suspended", "Suspension lifted", "Claim link sent again", "Claim link e-mailed",
    ]  # fmt: skip


def test_a_viewer_sees_but_changes_nothing(
    console_as: Login, world: World, session: Session, engine: Engine
) -> None:
    record = _issue(session, world, "Ada Lovelace", "ada@example.org")
    viewer = console_as(world.org, Role.viewer)
    path = _cred(world, record)
    page = viewer.client.get(path)
    assert page.status_code == 200 and "Ada Lovelace" in page.text
    assert "Revoke the badge" not in page.text and "/resend" not in page.text
    for action in ("revoke", "suspend", "unsuspend", "resend"):
        refused = viewer.post(f"{path}/{action}", {"reason": "x", "confirm": "yes"})
        assert refused.status_code == 403, action
        assert "needs the issuer role" in refused.text
    with Session(engine) as fresh:
        assert fresh.exec(select(StatusChange)).all() == []
    assert viewer.client.post(f"{path}/revoke", data={"reason": "x"}).status_code == 403  # no CSRF


def test_another_organisations_credential_does_not_exist_here(
    console_as: Login, world: World, session: Session, master_key: str
) -> None:
    other = make_world(session, master_key, slug="otherco")
    theirs = _issue(session, other, "Not Mine", "x@example.org")
    owner = console_as(world.org, Role.owner)
    assert owner.client.get(_cred(world, theirs)).status_code == 404
    refused = owner.post(_cred(world, theirs) + "/revoke", {"reason": "x", "confirm": "yes"})
    assert refused.status_code == 404
    assert _names(owner.client.get(f"/console/orgs/{world.org.slug}/recipients").text) == []


def test_api_and_cli_changes_are_in_the_audit_log(
    client: TestClient,
    world: World,
    session: Session,
    engine: Engine,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    auth = {"authorization": f"Bearer {world.token}"}
    issued = client.post(
        f"/api/v1/issuers/{world.issuer.slug}/credentials",
        json={"micro_credential": world.mc.slug, "name": "Ada", "email": "ada@example.org"},
        headers=auth,
    ).json()
    revoked = client.post(
        f"/api/v1/credentials/{issued['id']}/revoke", json={"reason": "oops"}, headers=auth
    )
    assert revoked.status_code == 200
    assert revoked.json()["history"][0]["actor"] == f"organisation:{world.org.slug}"
    bulk = client.post(
        f"/api/v1/issuers/{world.issuer.slug}/credentials/bulk?micro_credential={world.mc.slug}",
        content=b"name,email\nBob,bob@example.org\n",
        headers=auth | {"content-type": "text/csv"},
    )
    assert bulk.status_code == 202
    [issue_event] = _events(engine, "credential.issue")
    [revoke_event] = _events(engine, "credential.revoke")
    [bulk_event] = _events(engine, "bulk.start")
    for event in (issue_event, revoke_event, bulk_event):
        assert event.actor_kind == "token" and event.organisation_id == world.org.id
        assert event.address == "testclient"
    assert bulk_event.subject_id == bulk.json()["id"] and bulk_event.details["rows"] == 1

    for key, value in {
        "SKILLSHUB_DATABASE_URL": settings.database_url,
        "SKILLSHUB_DATA_DIR": str(settings.data_dir),
        "SKILLSHUB_MASTER_KEY": settings.master_key,
        "SKILLSHUB_BASE_URL": settings.base_url,
        "SKILLSHUB_STATUS_PURPOSES": '["revocation", "suspension"]',
    }.items():
        monkeypatch.setenv(key, str(value))
    runner = CliRunner()
    made = runner.invoke(
        cli,
        ["issue", "--micro-credential", world.mc.slug, "--name", "Cy", "--email", "cy@example.org"],
    )
    assert made.exit_code == 0, made.output
    uuid = present(
        next(e.subject_id for e in _events(engine, "credential.issue") if e.actor_kind == "cli")
    )
    suspended = runner.invoke(cli, ["revoke", uuid, "--suspend", "--reason", "check"])
    assert suspended.exit_code == 0, suspended.output
    [cli_issue] = [e for e in _events(engine, "credential.issue") if e.actor_kind == "cli"]
    [cli_suspend] = _events(engine, "credential.suspend")
    command = present(cli_issue.command)
    assert command.startswith(f"skillshub issue --micro-credential {world.mc.slug}")
    assert "c…@example.org" in command and "cy@example.org" not in command
    assert cli_suspend.command == f"skillshub revoke {uuid} --suspend"
    assert (
        cli_suspend.details == {"reason": "check"} and cli_suspend.organisation_id == world.org.id
    )


def test_a_vc_api_credential_is_listed_and_shown_without_an_award_or_e_mail(
    console_as: Login, world: World, session: Session
) -> None:
    signed = vc_api.issue_submitted(
        session,
        world.master_key,
        organisation_id=world.org.id,
        credential={
            "@context": [CREDENTIALS_V2, {"@vocab": "https://skillshub.example/vocab#"}],
            "type": ["VerifiableCredential", "ExampleCredential"],
            "issuer": world.issuer.did,
            "credentialSubject": {"id": "did:example:learner", "skill": "welding"},
        },
        options={},
        base_url="http://testserver",
    )
    session.commit()
    issuer = console_as(world.org, Role.issuer)
    listing = issuer.client.get(f"/console/orgs/{world.org.slug}/recipients").text
    assert "Signed through the VC-API" in listing and ">None<" not in listing
    page = issuer.client.get(_cred(world, signed))
    assert page.status_code == 200
    assert "Signed through the VC-API" in page.text and "None" not in page.text
    assert "Send a new claim link" not in page.text  # no one to send it to
