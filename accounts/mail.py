"""The console's e-mails (password reset, invitation), sent through the app's mail layer
(badges.sharing.mail: file, console or SMTP backend). Each holds a one-time link, so the
body is never logged; a failed send is logged without the address and never raised: the
request that asked for it has answered already (the mail goes out after the response)."""

from __future__ import annotations

import html
import logging
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Protocol

from badges.sharing.mail import Mailer, MailError, MailSettings, make_mailer

log = logging.getLogger("skillshub.console.mail")


class ConsoleMailSettings(MailSettings, Protocol):
    smtp_from: str


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _message(
    settings: ConsoleMailSettings, to: str, subject: str, paragraphs: list[str], link: str
) -> EmailMessage:
    """Plain text and HTML alike: the paragraphs, then the link as a button-like anchor."""
    message = EmailMessage()
    message["Subject"] = _one_line(subject)
    message["From"] = settings.smtp_from
    local, _, domain = to.rpartition("@")
    message["To"] = Address(username=local, domain=domain)
    _, sender = parseaddr(settings.smtp_from)
    message["Reply-To"] = sender
    text = "\n\n".join([*paragraphs[:1], link, *paragraphs[1:]])
    message.set_content(text + "\n")
    e = html.escape
    body = f"<p>{e(paragraphs[0])}</p>" + f'<p><a href="{e(link)}">{e(link)}</a></p>'
    body += "".join(f"<p>{e(p)}</p>" for p in paragraphs[1:])
    message.add_alternative(body, subtype="html")
    return message


def link_message(
    settings: ConsoleMailSettings, to: str, subject: str, paragraphs: list[str], link: str
) -> EmailMessage:
    """An e-mail carrying a one-time link (also the learners' backpack sign-in link)."""
    return _message(settings, to, subject, paragraphs, link)


def reset_message(
    settings: ConsoleMailSettings, to: str, link: str, expires_at: datetime
) -> EmailMessage:
    return _message(
        settings,
        to,
        "Reset your Skills Hub console password",
        [
            "Someone (we hope you) asked to reset the password of your Skills Hub console "
            f"account. Choose a new password here; the link works once, until "
            f"{expires_at:%d %B %Y %H:%M} UTC:",
            "Setting a new password signs out every browser signed in with the old one.",
            "If you did not ask for this, ignore this e-mail: your password stays as it is.",
        ],
        link,
    )


def invitation_message(
    settings: ConsoleMailSettings,
    to: str,
    link: str,
    *,
    organisation: str,
    role: str,
    inviter: str,
    expires_at: datetime,
) -> EmailMessage:
    return _message(
        settings,
        to,
        f"Join {organisation} on Skills Hub",
        [
            f"{inviter} invited you to the Skills Hub console of {organisation}, with the "
            f"{role} role. Accept here; the link works once, until "
            f"{expires_at:%d %B %Y %H:%M} UTC:",
            "If you do not know why you got this, ignore it: nothing happens unless the link "
            "is opened and accepted.",
        ],
        link,
    )


def send(
    settings: ConsoleMailSettings, message: EmailMessage, mailer: Mailer | None = None
) -> bool:
    """Send `message`; False (logged, without the address or the body) when it failed."""
    try:
        (mailer or make_mailer(settings)).send(message)
    except MailError as exc:
        log.warning("console e-mail %r not sent: %s", message["Subject"], exc.message)
        return False
    except Exception as exc:
        # Its text may quote the address: only its type is kept.
        log.warning("console e-mail %r not sent (%s)", message["Subject"], type(exc).__name__)
        return False
    return True
