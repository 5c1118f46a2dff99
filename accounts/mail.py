"""The console's e-mails (password reset, invitation), sent through the app's mail layer
(badges.sharing.mail: file, console or SMTP backend). Each holds a one-time link, so the
body is never logged; a failed send is logged without the address and never raised: the
request that asked for it has answered already (the mail goes out after the response).
Each is written in the language of the page that asked for it (English or German: the web
layer passes it down), and says so in its Content-Language header."""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Protocol

from babel.dates import format_date

from badges.sharing.mail import Mailer, MailError, MailSettings, make_mailer

log = logging.getLogger("skillshub.console.mail")


class ConsoleMailSettings(MailSettings, Protocol):
    smtp_from: str


def _one_line(text: str) -> str:
    return " ".join(text.split())


def until_text(when: datetime, date_locale: str) -> str:
    """A link's end in the reader's form: "5 December 2026, 14:05 UTC", "5. Dezember 2026,
    14:05 UTC" (the times are UTC)."""
    return f"{format_date(when, 'long', locale=date_locale)}, {when:%H:%M} UTC"


def link_message(
    settings: ConsoleMailSettings,
    to: str,
    subject: str,
    paragraphs: list[str],
    link: str,
    language: str = "en",
    *,
    greeting: str = "",
) -> EmailMessage:
    """An e-mail carrying a one-time link (also the learners' backpack sign-in link), in
    `language` (its Content-Language); plain text and HTML alike: the greeting (when given) on
    a line of its own, the first paragraph, the link (as an anchor in HTML), then the others."""
    message = EmailMessage()
    message["Subject"] = _one_line(subject)
    message["From"] = settings.smtp_from
    local, _, domain = to.rpartition("@")
    message["To"] = Address(username=local, domain=domain)
    _, sender = parseaddr(settings.smtp_from)
    message["Reply-To"] = sender
    opening = [greeting] if greeting else []
    text = "\n\n".join([*opening, *paragraphs[:1], link, *paragraphs[1:]])
    message.set_content(text + "\n")
    e = html.escape
    body = "".join(f"<p>{e(p)}</p>" for p in [*opening, paragraphs[0]])
    body += f'<p><a href="{e(link)}">{e(link)}</a></p>'
    body += "".join(f"<p>{e(p)}</p>" for p in paragraphs[1:])
    message.add_alternative(body, subtype="html")
    # After the parts: making the message multipart moves Content-* headers into its first part.
    message["Content-Language"] = language
    return message


@dataclass(frozen=True)
class ResetWords:
    """The password reset e-mail's words in one language ({until} filled)."""

    subject: str
    greeting: str
    choose: str
    sessions: str
    ignore: str
    date_locale: str


RESET_WORDS = {
    "en": ResetWords(
        subject="Reset your Skills Hub console password",
        greeting="Hello,",
        choose="Someone (we hope you) asked to reset the password of your Skills Hub console "
        "account. Choose a new password here; the link works once, until {until}:",
        sessions="Setting a new password signs out every browser signed in with the old one.",
        ignore="If you did not ask for this, ignore this e-mail: your password stays as it is.",
        date_locale="en_GB",
    ),
    "de": ResetWords(
        subject="Passwort für die Skills-Hub-Konsole zurücksetzen",
        greeting="Guten Tag,",
        choose="Jemand (hoffentlich Sie) hat darum gebeten, das Passwort Ihres Kontos in der "
        "Skills-Hub-Konsole zurückzusetzen. Wählen Sie hier ein neues Passwort; der Link gilt "
        "einmal, bis zum {until}:",
        sessions="Mit dem neuen Passwort wird jeder Browser abgemeldet, der mit Ihrem alten "
        "Passwort angemeldet ist.",
        ignore="Wenn Sie das nicht angefordert haben, ignorieren Sie diese E-Mail: Ihr Passwort "
        "bleibt, wie es ist.",
        date_locale="de_DE",
    ),
}


def reset_message(
    settings: ConsoleMailSettings,
    to: str,
    link: str,
    expires_at: datetime,
    language: str = "en",
) -> EmailMessage:
    """The console's password reset e-mail, in the language of the page that asked for it."""
    language = language if language in RESET_WORDS else "en"
    words = RESET_WORDS[language]
    until = until_text(expires_at, words.date_locale)
    return link_message(
        settings,
        to,
        words.subject,
        [words.choose.format(until=until), words.sessions, words.ignore],
        link,
        language,
        greeting=words.greeting,
    )


@dataclass(frozen=True)
class InvitationWords:
    """The console invitation's words in one language ({organisation}, {inviter}, {role},
    {until} filled; `roles` names the roles as the console's pages do)."""

    subject: str
    greeting: str
    invited: str
    ignore: str
    date_locale: str
    roles: dict[str, str] = field(default_factory=dict)


INVITATION_WORDS = {
    "en": InvitationWords(
        subject="Join {organisation} on Skills Hub",
        greeting="Hello,",
        invited="{inviter} invited you to the Skills Hub console of {organisation}, with the "
        "{role} role. Accept here; the link works once, until {until}:",
        ignore="If you do not know why you got this, ignore it: nothing happens unless the link "
        "is opened and accepted.",
        date_locale="en_GB",
    ),
    "de": InvitationWords(
        subject="Einladung zu {organisation} auf Skills Hub",
        greeting="Guten Tag,",
        invited="{inviter} hat Sie in die Skills-Hub-Konsole von {organisation} eingeladen, mit "
        "der Rolle „{role}“. Nehmen Sie die Einladung hier an; der Link gilt einmal, bis zum "
        "{until}:",
        ignore="Wenn Sie nicht wissen, warum Sie diese E-Mail erhalten, ignorieren Sie sie: Es "
        "geschieht nichts, solange der Link nicht geöffnet und die Einladung angenommen wird.",
        date_locale="de_DE",
        roles={"viewer": "Betrachter", "issuer": "Aussteller", "owner": "Inhaber"},
    ),
}


def invitation_message(
    settings: ConsoleMailSettings,
    to: str,
    link: str,
    *,
    organisation: str,
    role: str,
    inviter: str,
    expires_at: datetime,
    language: str = "en",
) -> EmailMessage:
    """The console invitation, in the language of the page the owner invited from."""
    language = language if language in INVITATION_WORDS else "en"
    words = INVITATION_WORDS[language]
    until = until_text(expires_at, words.date_locale)
    return link_message(
        settings,
        to,
        words.subject.format(organisation=organisation),
        [
            words.invited.format(
                inviter=inviter,
                organisation=organisation,
                role=words.roles.get(role, role),
                until=until,
            ),
            words.ignore,
        ],
        link,
        language,
        greeting=words.greeting,
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
