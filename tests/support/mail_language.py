"""E-mails in the reader's language: the plain and HTML bodies of a message, the greeting they
open with ("Hello," / "Guten Tag,", as the claim e-mail's), and the end of a link or code as
the e-mail should write it, in English ("5 December 2026, 14:05 UTC") or German ("5. Dezember
2026, 14:05 UTC"). The month names are spelled out here, not asked of Babel, so that a wrong
locale in the app cannot make the expectation agree with it."""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage

from tests.support.present import present

MONTHS = {
    "en": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
    "de": [
        "Januar",
        "Februar",
        "März",
        "April",
        "Mai",
        "Juni",
        "Juli",
        "August",
        "September",
        "Oktober",
        "November",
        "Dezember",
    ],
}


def until_words(when: datetime, language: str) -> str:
    month = MONTHS[language][when.month - 1]
    day = f"{when.day}." if language == "de" else str(when.day)
    return f"{day} {month} {when.year}, {when:%H:%M} UTC"


def plain_text(message: EmailMessage) -> str:
    return str(present(message.get_body(("plain",))).get_content())


def html_text(message: EmailMessage) -> str:
    return str(present(message.get_body(("html",))).get_content())


# The first line of the account e-mails (password reset, invitation, backpack sign-in link).
GREETINGS = {"en": "Hello,", "de": "Guten Tag,"}


def after_greeting(message: EmailMessage, language: str) -> tuple[str, str]:
    """The plain and HTML bodies after their greeting in `language`, which both open with."""
    greeting = GREETINGS[language]
    text, html = plain_text(message), html_text(message)
    assert text.startswith(greeting + "\n\n"), text[:200]
    assert html.startswith(f"<p>{greeting}</p><p>"), html[:200]
    return text.removeprefix(greeting + "\n\n"), html.removeprefix(f"<p>{greeting}</p>")
