"""E-mail backends behind one small interface: `file` (development and tests), `console`, `smtp`.

A backend only sends an already built message; what goes into it is the caller's business.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path
from typing import Protocol

from catalogue.errors import DomainError

log = logging.getLogger("skillshub.mail")
BACKENDS = ("file", "console", "smtp")
OUTBOX = "outbox"
# Implicit TLS ("SMTPS"); every other port speaks plain SMTP upgraded with STARTTLS.
SMTPS_PORT = 465


class MailError(DomainError):
    code = "mail_error"


class Mailer(Protocol):
    def send(self, message: EmailMessage) -> None: ...


class MailSettings(Protocol):
    """The settings a backend reads (skillshub.settings.Settings has them)."""

    email_backend: str
    data_dir: Path
    smtp_host: str | None
    smtp_port: int
    smtp_username: str | None
    smtp_password: str | None


def redact(address: str) -> str:
    """`a…@example.org`: enough to tell messages apart in a log, not to read the address."""
    local, _, domain = address.rpartition("@")
    return f"{local[:1]}…@{domain}" if local else "…"


def _recipients(message: EmailMessage) -> list[str]:
    return [address for _, address in getaddresses(message.get_all("To", []))]


@dataclass(frozen=True)
class FileMailer:
    """Writes each message as an .eml file into the outbox directory."""

    outbox: Path

    def send(self, message: EmailMessage) -> None:
        # Owner-only: the messages hold live claim links.
        self.outbox.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.outbox.mkdir(mode=0o700, exist_ok=True)
        name = f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:12]}.eml"
        partial = self.outbox / f".{name}.part"
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(message.as_bytes())
        partial.replace(self.outbox / name)  # readers never see half a message


class ConsoleMailer:
    """Logs one redacted line per message: the body holds a secret link, so it is not logged."""

    def send(self, message: EmailMessage) -> None:
        to = ", ".join(redact(a) for a in _recipients(message))
        log.info("e-mail to %s: %r (body not logged)", to, message["Subject"])


@dataclass(frozen=True)
class SmtpMailer:
    host: str
    port: int = 587
    username: str | None = None
    password: str | None = None
    timeout: float = 30.0

    def send(self, message: EmailMessage) -> None:
        context = ssl.create_default_context()
        try:
            if self.port == SMTPS_PORT:
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout, context=context
                )
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            with smtp:
                if self.port != SMTPS_PORT:
                    smtp.starttls(context=context)  # never send credentials or links in clear
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(
                f"SMTP delivery via {self.host}:{self.port} failed: {_reason(exc)}"
            ) from None


def _reason(exc: Exception) -> str:
    """The failure without the server's words: a refusal echoes the recipient's address, and
    this message is logged and returned to API clients."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = sorted({code for code, _ in exc.recipients.values()})
        return f"the server refused the recipient (SMTP {', '.join(map(str, codes))})"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{type(exc).__name__} (SMTP {exc.smtp_code})"
    return str(exc)


def make_mailer(settings: MailSettings) -> Mailer:
    backend = settings.email_backend
    if backend == "file":
        return FileMailer(settings.data_dir / OUTBOX)
    if backend == "console":
        return ConsoleMailer()
    if backend == "smtp":
        if not settings.smtp_host:
            raise MailError("EMAIL_BACKEND=smtp needs SMTP_HOST")
        return SmtpMailer(
            settings.smtp_host,
            settings.smtp_port,
            settings.smtp_username,
            settings.smtp_password,
        )
    raise MailError(f"EMAIL_BACKEND must be one of {', '.join(BACKENDS)}, not {backend!r}")
