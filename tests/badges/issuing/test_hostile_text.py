"""Learner names and catalogue text that once broke claim e-mails or gave a 500, and claim
e-mail failures the issuer can now see (issue 11, section 3)."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from badges import issuing
from badges.models import IssuedCredential
from badges.sharing import delivery
from badges.sharing.mail import MailError
from skillshub.settings import Settings
from tests.support.world import World

EMAIL = "ada.lovelace@example.org"


def _auth(world: World) -> dict[str, str]:
    return {"authorization": f"Bearer {world.token}"}


def _issue_body(world: World, **changes: Any) -> dict[str, Any]:
    return {"micro_credential": world.mc.slug, "name": "Ada Lovelace", "email": EMAIL} | changes


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("name", "Ada\r\nBcc: victim@example.org", "must be a single line"),
        ("name", "Ada\nLovelace", "must be a single line"),
        ("name", "Ada\x85Lovelace", "must be a single line"),  # NEL breaks lines too
        ("name", "Ada\x07", "control character (U+0007)"),
        ("name", "\ud800", "lone surrogate (U+D800)"),
        ("grade", "A\x00", "control character (U+0000)"),
        ("external_id", "x\ud800", "lone surrogate"),
        ("micro_credential", "\ud800", "lone surrogate"),
    ],
)
def test_issuing_refuses_control_characters_and_surrogates(
    client: TestClient, world: World, field: str, value: str, problem: str
) -> None:
    response = client.post(
        f"/api/v1/issuers/{world.issuer.slug}/credentials",
        content=json.dumps(_issue_body(world, **{field: value})),
        headers=_auth(world) | {"content-type": "application/json"},
    )
    assert response.status_code == 422, response.text
    message = response.json()["error"]["message"]
    assert field in message and problem in message


def test_bulk_rows_with_control_characters_are_row_errors(client: TestClient, world: World) -> None:
    url = f"/api/v1/issuers/{world.issuer.slug}/credentials/bulk"
    csv_text = (
        'name,email\nAda,ada@example.org\n"Bob\r\nBcc: x@example.org",bob@example.org\n'
        "Cy\x01,cy@example.org\n"
    )
    response = client.post(
        url,
        params={"micro_credential": world.mc.slug},
        content=csv_text,
        headers=_auth(world) | {"content-type": "text/csv"},
    )
    assert response.status_code == 202, response.text
    job = client.get(response.json()["href"], headers=_auth(world)).json()
    assert (job["issued"], job["failed"]) == (1, 2)
    errors = [r["error"] for r in job["rows"] if r["status"] == "failed"]
    assert errors == [
        "name: must be a single line (it holds a line break, U+000D)",
        "name: holds a control character (U+0001)",
    ]
    rows = [{"name": "\ud800", "email": "d@example.org"}, {"\ud800": "x", "name": "E"}]
    response = client.post(
        url,
        params={"micro_credential": world.mc.slug},
        content=json.dumps(rows),
        headers=_auth(world) | {"content-type": "application/json"},
    )
    assert response.status_code == 202, response.text
    job = client.get(response.json()["href"], headers=_auth(world)).json()
    assert job["failed"] == 2
    assert "lone surrogate" in job["rows"][0]["error"]
    assert "unknown column(s): '\\ud800'" in job["rows"][1]["error"]


# --- claim e-mails -------------------------------------------------------------------------


class Recording:
    def __init__(self) -> None:
        self.sent: list = []

    def send(self, message: Any) -> None:
        self.sent.append(message)


class Failing:
    def send(self, message: Any) -> None:
        raise MailError("SMTP delivery via mail.example:587 failed: no route")


def _issue(session: Session, world: World) -> IssuedCredential:
    record = issuing.issue(
        session,
        world.master_key,
        issuer=world.issuer,
        micro_credential=world.mc,
        recipient=issuing.Recipient(name="Ada Lovelace", email=EMAIL),
        base_url="http://testserver",
    )
    session.commit()
    return record


def test_stored_title_with_a_line_break_cannot_inject_a_header(
    session: Session, world: World, settings: Settings
) -> None:
    # Text stored before titles were checked: the e-mail still goes, on one Subject line.
    world.mc.title = "Battery\r\nBcc: victim@example.org"
    session.add(world.mc)
    session.commit()
    record = _issue(session, world)
    outbox = Recording()
    result = delivery.deliver(session, settings, record, mailer=outbox)
    assert result.sent, result.error
    [message] = outbox.sent
    assert message["Subject"] == "Your badge: Battery Bcc: victim@example.org"
    assert message["Bcc"] is None and b"\nBcc:" not in message.as_bytes()
    assert record.delivery_status == "sent" and record.delivery_error is None


def test_an_unbuildable_message_is_a_recorded_failure(
    session: Session, world: World, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    record = _issue(session, world)
    record.recipient_email = "ada\r\n@example.org"  # stored before addresses were checked
    session.add(record)
    session.commit()
    with caplog.at_level(logging.WARNING, logger="skillshub.delivery"):
        result = delivery.deliver(session, settings, record, mailer=Recording())
    assert not result.sent
    assert record.delivery_status == "failed"
    assert record.delivery_error == "the e-mail could not be sent (ValueError)"
    # Not the address ("ada" alone also occurs in hex UUIDs, about one run in 140).
    assert "example.org" not in caplog.text and record.uuid in caplog.text


def test_a_delivery_failure_is_shown_to_the_issuer(
    client: TestClient,
    session: Session,
    world: World,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    record = _issue(session, world)
    path = f"/api/v1/credentials/{record.uuid}"
    assert client.get(path, headers=_auth(world)).json()["delivery_status"] is None
    with caplog.at_level(logging.WARNING, logger="skillshub.delivery"):
        delivery.deliver(session, settings, record, mailer=Failing())
    view = client.get(path, headers=_auth(world)).json()
    assert view["delivery_status"] == "failed"
    assert view["delivery_error"] == "SMTP delivery via mail.example:587 failed: no route"
    [line] = [r.getMessage() for r in caplog.records if r.name == "skillshub.delivery"]
    assert record.uuid in line and "no route" in line
    assert EMAIL not in line and "example.org" not in line
    # A later link that goes out clears the failure.
    delivery.send_claim_link(session, settings, record, mailer=Recording())
    view = client.get(path, headers=_auth(world)).json()
    assert (view["delivery_status"], view["delivery_error"]) == ("sent", None)


def test_issuing_through_the_api_records_the_delivery(client: TestClient, world: World) -> None:
    issued = client.post(
        f"/api/v1/issuers/{world.issuer.slug}/credentials",
        json=_issue_body(world),
        headers=_auth(world),
    )
    assert issued.status_code == 201, issued.text
    # The e-mail goes after the response (file backend in tests): the view shows it went.
    view = client.get(f"/api/v1/credentials/{issued.json()['id']}", headers=_auth(world))
    assert view.json()["delivery_status"] == "sent"


def test_deeply_nested_bulk_json_is_a_422(client: TestClient, world: World) -> None:
    response = client.post(
        f"/api/v1/issuers/{world.issuer.slug}/credentials/bulk",
        params={"micro_credential": world.mc.slug},
        content=b"[" * 50_000 + b"]" * 50_000,
        headers=_auth(world) | {"content-type": "application/json"},
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["message"] == "the JSON is nested too deeply"
