"""E-mail backends, delivery failures, learner sessions and the LinkedIn link."""

from __future__ import annotations

import logging
import re
import smtplib
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlmodel import Session, select

from badges import issuing
from badges.models import ClaimToken, IssuedCredential
from badges.sharing import delivery, mail
from badges.sharing import page as sharing
from skillshub.settings import Settings
from tests.support.present import present
from tests.support.world import World

EMAIL = "grace.hopper@navy.example"


def _issue(session: Session, world: World, fmt: str = "ldp") -> IssuedCredential:
    record = issuing.issue(
        session,
        world.master_key,
        issuer=world.issuer,
        micro_credential=world.mc,
        recipient=issuing.Recipient(name="Grace Hopper", email=EMAIL),
        base_url="http://testserver",
        fmt=fmt,
    )
    session.commit()
    return record


def replace_settings(settings: Settings, **changes: object) -> Settings:
    return settings.model_copy(update=changes)


class Recording:
    def __init__(self) -> None:
        self.sent: list = []

    def send(self, message) -> None:
        self.sent.append(message)


def test_file_backend_writes_eml_files(tmp_path: Path) -> None:
    mailer = mail.make_mailer(Settings(data_dir=tmp_path, email_backend="file"))
    assert isinstance(mailer, mail.FileMailer)
    message = EmailMessage()
    message["To"], message["Subject"] = EMAIL, "hello"
    message.set_content("body")
    mailer.send(message)
    mailer.send(message)
    files = sorted((tmp_path / "outbox").iterdir())
    assert len(files) == 2 and all(f.suffix == ".eml" for f in files)
    assert b"Subject: hello" in files[0].read_bytes()


def test_console_backend_logs_a_redacted_line(
    session: Session, world: World, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    record = _issue(session, world)
    console = replace_settings(settings, email_backend="console")
    with caplog.at_level(logging.INFO, logger="skillshub.mail"):
        result = delivery.deliver(session, console, record)
    assert result.sent
    [line] = [r.getMessage() for r in caplog.records if r.name == "skillshub.mail"]
    assert "g…@navy.example" in line and world.mc.title in line
    assert EMAIL not in line and "claim?token" not in line
    # Not the e-mail's: the token exists only as a hash.
    [token] = session.exec(select(ClaimToken)).all()
    assert token.token_hash not in line


class FakeSmtp:
    """Stands in for smtplib.SMTP and records the conversation."""

    calls: list[tuple] = []

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.calls.append(("connect", host, port))

    def __enter__(self) -> FakeSmtp:
        return self

    def __exit__(self, *exc: object) -> None:
        self.calls.append(("quit",))

    def starttls(self, context) -> None:
        self.calls.append(("starttls",))

    def login(self, user: str, password: str) -> None:
        self.calls.append(("login", user, password))

    def send_message(self, message) -> None:
        self.calls.append(("send", message["To"].addresses[0].addr_spec))


def test_smtp_backend_upgrades_to_tls_before_logging_in(
    session: Session, world: World, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    FakeSmtp.calls = []
    monkeypatch.setattr(smtplib, "SMTP", FakeSmtp)
    record = _issue(session, world)
    smtp = replace_settings(
        settings,
        email_backend="smtp",
        smtp_host="mail.example",
        smtp_port=587,
        smtp_username="hub",
        smtp_password="s3cret",
    )
    assert delivery.deliver(session, smtp, record).sent
    assert FakeSmtp.calls == [
        ("connect", "mail.example", 587),
        ("starttls",),
        ("login", "hub", "s3cret"),
        ("send", EMAIL),
        ("quit",),
    ]


def test_a_failed_send_keeps_the_credential_and_reports(
    session: Session, world: World, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise ConnectionRefusedError("no route")

    monkeypatch.setattr(smtplib, "SMTP", refuse)
    record = _issue(session, world)
    smtp = replace_settings(settings, email_backend="smtp", smtp_host="mail.example")
    result = delivery.deliver(session, smtp, record)
    assert not result.sent and "no route" in (result.error or "")
    assert issuing.get_credential(session, record.uuid).uuid == record.uuid
    # The token committed before the send failed: a new link can be sent later.
    assert len(session.exec(select(ClaimToken)).all()) == 1
    misconfigured = replace_settings(settings, email_backend="smtp", smtp_host=None)
    assert "SMTP_HOST" in (delivery.deliver(session, misconfigured, record).error or "")
    with pytest.raises(mail.MailError, match="EMAIL_BACKEND"):
        mail.make_mailer(Settings(email_backend="pigeon"))


@pytest.mark.parametrize(
    "refusal",
    [
        smtplib.SMTPRecipientsRefused({EMAIL: (550, f"5.1.1 <{EMAIL}>: unknown user".encode())}),
        smtplib.SMTPDataError(554, f"5.7.1 <{EMAIL}>: message refused".encode()),
    ],
)
def test_an_smtp_refusal_is_reported_without_the_address(
    session: Session,
    world: World,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    refusal: smtplib.SMTPException,
) -> None:
    class Refusing(FakeSmtp):
        def send_message(self, message) -> None:
            raise refusal

    monkeypatch.setattr(smtplib, "SMTP", Refusing)
    record = _issue(session, world)
    smtp = replace_settings(settings, email_backend="smtp", smtp_host="mail.example")
    result = delivery.deliver(session, smtp, record)
    assert not result.sent and "mail.example" in (result.error or "")
    assert "55" in (result.error or "")  # the SMTP code tells the operator what happened
    assert EMAIL not in (result.error or "") and EMAIL not in caplog.text


def test_claim_message_content(session: Session, world: World, settings: Settings) -> None:
    record = _issue(session, world)
    outbox = Recording()
    result = delivery.deliver(session, settings, record, mailer=outbox)
    [message] = outbox.sent
    assert message["To"].addresses[0].display_name == "Grace Hopper"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    link = next(w for w in text.split() if "/claim?token=" in w)
    assert f'href="{link}"' in html
    expected = datetime.now(UTC) + timedelta(hours=settings.claim_token_ttl_hours)
    assert abs((result.expires_at - expected).total_seconds()) < 60


@pytest.mark.parametrize(
    ("languages", "expected"),
    [([], "en"), (["fr"], "en"), (["fr", "de", "en"], "de"), (["en", "de"], "en")],
)
def test_the_claim_email_speaks_the_micro_credentials_language(
    session: Session, world: World, settings: Settings, languages: list[str], expected: str
) -> None:
    world.mc.languages = languages
    session.add(world.mc)
    record = _issue(session, world)
    outbox = Recording()
    result = delivery.deliver(session, settings, record, mailer=outbox)
    [message] = outbox.sent
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert message["Content-Language"] == expected
    if expected == "de":
        assert message["Subject"] == f"Ihr Badge: {world.mc.title}"
        assert text.startswith("Guten Tag Grace Hopper,") and "Hello" not in text
        # The expiry date as a German reader writes it: "5. Dezember 2026".
        assert re.search(r"bis zum \d{1,2}\. [A-ZÄÖÜ][a-zä]+ \d{4}\)", text)
        assert ">Badge abholen</a>" in html
    else:
        assert message["Subject"] == f"Your badge: {world.mc.title}"
        assert text.startswith("Hello Grace Hopper,") and "Guten Tag" not in text
        assert re.search(r"until \d{1,2} [A-Z][a-z]+ \d{4}\)", text)
        assert ">Claim your badge</a>" in html
    assert str(result.expires_at.year) in text


def test_session_tokens(session: Session, world: World, settings: Settings) -> None:
    record = _issue(session, world)
    outbox = Recording()
    delivery.deliver(session, settings, record, mailer=outbox)
    text = outbox.sent[0].get_body(("plain",)).get_content()
    token = parse_qs(urlsplit(next(w for w in text.split() if "token=" in w)).query)["token"][0]
    assert delivery.check_claim(session, record.uuid, token).uuid == record.uuid
    owned, session_token = delivery.redeem_claim(session, record.uuid, token)
    session.commit()
    assert owned.uuid == record.uuid and session_token != token
    assert (
        present(delivery.learner_credential(session, record.uuid, session_token)).uuid
        == record.uuid
    )
    assert delivery.learner_credential(session, record.uuid, token) is None  # single-purpose
    later = datetime.now(UTC) + delivery.SESSION_TTL + timedelta(days=1)
    assert delivery.learner_credential(session, record.uuid, session_token, now=later) is None
    with pytest.raises(delivery.ClaimUsed):
        delivery.redeem_claim(session, record.uuid, token)
    with pytest.raises(delivery.ClaimNotFound):
        delivery.redeem_claim(session, record.uuid, session_token)
    delivery.end_session(session, session_token)
    session.commit()
    assert delivery.learner_credential(session, record.uuid, session_token) is None


def test_linkedin_link_is_encoded(session: Session, world: World) -> None:
    record = _issue(session, world)
    view = replace(
        sharing.badge_view(session, record, "http://testserver"),
        achievement_name="HV batteries: safe work & repair (level 2)",
        issuer_name="Volt & Co. Academy",
    )
    url = sharing.linkedin_url(view)
    assert url.startswith("https://www.linkedin.com/profile/add?startTask=CERTIFICATION_NAME&")
    assert " " not in url and "&repair" not in url
    fields = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert fields == {
        "startTask": "CERTIFICATION_NAME",
        "name": "HV batteries: safe work & repair (level 2)",
        "organizationName": "Volt & Co. Academy",
        "issueYear": str(record.valid_from.year),
        "issueMonth": str(record.valid_from.month),
        "expirationYear": str(present(record.valid_until).year),
        "expirationMonth": str(present(record.valid_until).month),
        "certId": record.uuid,
        "certUrl": f"http://testserver/credentials/{record.uuid}",
    }


def _unsaved(**columns: Any) -> IssuedCredential:
    """A record as status_of sees it: the required columns, then those given."""
    return IssuedCredential(
        uuid="urn:x", issuer_id=1, format="ldp", recipient_name="Ada", signed="{}", **columns
    )


def test_status_order() -> None:
    record = _unsaved(valid_until=datetime.now(UTC) - timedelta(days=1), suspended=True)
    assert sharing.status_of(record) == "suspended"
    record.revoked_at = datetime.now(UTC)
    assert sharing.status_of(record) == "revoked"
    assert sharing.status_of(_unsaved(valid_until=None)) == "valid"
