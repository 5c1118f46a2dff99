"""Page texts in the reader's language: English (the source) and German.

The language of a request: `?lang=de` (the switch in the page header, remembered in a cookie),
else that cookie, else the best match in `Accept-Language` (q-values), else English. Catalogue
content (course titles, a badge's own text) stays in the language it was written in: only the
pages' own words are translated, and a skill's label, which the catalogue may hold in several
languages (ESCO's), is shown in the page's language where it has one (the catalogue pages).

Templates use Jinja2's i18n extension (`{% trans %}`, `_()`); the German catalogue is
`locales/de/LC_MESSAGES/messages.po` (Babel's format, extracted with `pybabel extract -F
babel.cfg`), compiled in memory when the app first needs it, so a fresh `pip install .` needs
no build step. Dates and numbers are formatted by Babel in the reader's form ("3 March 2026",
"3. März 2026").
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from gettext import NullTranslations
from pathlib import Path
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urlencode

from babel.dates import format_date, format_time
from babel.lists import format_list
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations
from babel.units import format_unit
from jinja2 import Environment, pass_context
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LANGUAGES = {"en": "English", "de": "Deutsch"}
DEFAULT = "en"
COOKIE = "shub_lang"
QUERY = "lang"
LOCALES_DIR = Path(__file__).with_name("locales")
# Babel locales for dates and numbers: British English writes "3 March 2026".
FORMAT_LOCALES = {"en": "en_GB", "de": "de_DE"}
_MAX_LANGUAGE_RANGES = 32
_STATE = "language"


@cache
def translations(language: str) -> NullTranslations:
    """The compiled catalogue of `language` (English: the messages themselves)."""
    path = LOCALES_DIR / language / "LC_MESSAGES" / "messages.po"
    if language == DEFAULT or not path.is_file():
        return NullTranslations()
    with path.open("rb") as po:
        catalog = read_po(po, locale=language)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled)


def _quality(value: str) -> float:
    try:
        quality = float(value)
    except ValueError:
        return 0.0
    return quality if 0.0 <= quality <= 1.0 else 0.0


def negotiate(accept_language: str) -> str | None:
    """The best of LANGUAGES for an Accept-Language header (RFC 9110 §12.5.4), or None."""
    ranked: list[tuple[float, int, str]] = []
    for order, part in enumerate(accept_language.split(",")[:_MAX_LANGUAGE_RANGES]):
        tag, *params = (p.strip() for p in part.split(";"))
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                quality = _quality(value.strip())
        primary = tag.split("-")[0].lower()
        if quality > 0 and (primary in LANGUAGES or primary == "*"):
            ranked.append((-quality, order, DEFAULT if primary == "*" else primary))
    return min(ranked)[2] if ranked else None


def language_of(request: Request) -> str:
    """The request's language (cached on the request)."""
    chosen = getattr(request.state, _STATE, None)
    if chosen is None:
        asked = request.query_params.get(QUERY)
        kept = request.cookies.get(COOKIE)
        if asked in LANGUAGES:
            chosen = asked
        elif kept in LANGUAGES:
            chosen = kept
        else:
            chosen = negotiate(request.headers.get("accept-language", "")) or DEFAULT
        setattr(request.state, _STATE, chosen)
    return chosen


def gettext_for(request: Request, message: str) -> str:
    return translations(language_of(request)).gettext(message)


# --- messages the Python side puts on pages --------------------------------------------------


def N_(message: str) -> str:  # gettext's marker: "translate this where it is shown"
    return message


@dataclass(frozen=True)
class Said:
    """A message for a page with its values, translated where it is shown (`said` filter).

    Python code that words something for a page (a notice, an error next to a field, a
    confirmation's question) gives the English message (marked with `N_` for extraction) and
    its values; `str()` is the English text, for logs and for callers that are not pages."""

    message: str
    values: Mapping[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message % dict(self.values) if self.values else self.message

    def in_language(self, language: str) -> str:
        text = translations(language).gettext(self.message)
        values = {
            k: v.in_language(language) if isinstance(v, Worded) else v
            for k, v in self.values.items()
        }
        return text % values if values else text


def say(message: str, **values: Any) -> Said:
    return Said(message, values)


@runtime_checkable
class Worded(Protocol):
    """Page text worded by the web layer for each language (`said` calls `in_language`)."""

    def in_language(self, language: str) -> str: ...


def human_day(language: str, value: Any, form: str = "long") -> str:
    """A day in Babel's `form` for `language` (long: "3 March 2026", "3. März 2026");
    anything unreadable as given."""
    moment = _moment(value)
    if moment is None:
        return str(value) if value is not None else ""
    locale = FORMAT_LOCALES.get(language, FORMAT_LOCALES[DEFAULT])
    return format_date(moment, format=form, locale=locale)


# Texts worded elsewhere that public pages translate with `_(text)`: the backpack's notices
# (routes/backpack.py), its sign-in link's refusals (backpack/accounts.py) and words of the
# verify page. Listed here so that `pybabel extract` keeps them in the catalogue.
ELSEWHERE = [
    N_("You are signed in."),
    N_("The badge is in your backpack."),
    N_("Every badge awarded to your address is in your backpack."),
    N_("The badge was checked and added to your backpack."),
    N_("This badge was in your backpack already."),
    N_("The badge was taken out of your backpack."),
    N_("Your profile settings are saved."),
    N_("The collection is saved."),
    N_("The collection was deleted."),
    N_("That browser is signed out."),
    N_("The badge is on your profile; its page is public."),
    N_("The badge is no longer on your profile."),
    N_("This sign-in link is not valid: ask for a new one."),
    N_("This sign-in link was used already: ask for a new one."),
    N_("This sign-in link has expired: ask for a new one."),
    N_("could not be checked"),
    N_("does not verify"),
    N_("verified"),
]


# Messages worded below the web layer (the services' English, shared with the API and the CLI)
# that pages show: a pattern of the English text, and the page's message for it (N_-marked, its
# placeholders named after the pattern's groups). The services stay language-neutral; a message
# matching no pattern is shown as the service worded it.
_KNOWN: list[tuple[re.Pattern[str], str, frozenset[str]]] = []
# The groups whose values are words to translate too (the others are values: names, figures).
_TRANSLATED_GROUPS = frozenset({"label", "problem", "kind", "reason"})
# A group `items`: words joined by " and " ("ECTS credits and an EQF level"), each translated
# and the list written as the language writes one ("ECTS-Punkte und ein EQR-Niveau").
_LIST_GROUP = "items"
_SERVICE_AND = " and "
# A group `date`: a day the service wrote ("2026-03-31", "31 March 2026"), in the reader's
# long form ("31. März 2026").
_DATE_GROUP = "date"
_SERVICE_DATE_FORMS = ("%Y-%m-%d", "%d %B %Y")


def known_message(pattern: str, message: str) -> None:
    """Translate service messages matching `pattern` (whole text) as `message`; the values of
    the groups `label`, `problem`, `kind` and `reason` are translated in their turn, those of
    `items` item by item, and a `date` is written in the reader's form."""
    _KNOWN.append((re.compile(pattern, re.DOTALL), message, _TRANSLATED_GROUPS))


def _service_date(text: str) -> date | None:
    for form in _SERVICE_DATE_FORMS:
        try:
            return datetime.strptime(text, form).date()
        except ValueError:
            continue
    return None


def _group_value(
    language: str, name: str, value: str | None, translated: frozenset[str]
) -> str | None:
    """A matched group's value on the page: words translated, a list, a day; else as it is."""
    if value is None:
        return None
    if name in translated:
        return translate(language, value)
    if name == _LIST_GROUP:
        items = [translate(language, item) for item in value.split(_SERVICE_AND)]
        return format_list(items, locale=FORMAT_LOCALES.get(language, FORMAT_LOCALES[DEFAULT]))
    if name == _DATE_GROUP:
        day = _service_date(value)
        if day is not None:
            return human_day(language, day)
    return value


def translate(language: str, text: Any) -> str:
    """Text the Python side put on a page, in `language`: a `Said`, a message of the
    catalogue, or a service message matching a known pattern; anything else as it is."""
    if text is None:
        return ""
    if isinstance(text, Worded):
        return text.in_language(language)
    text = str(text)
    catalogue = translations(language)
    found = catalogue.gettext(text)
    if found != text or language == DEFAULT:
        return found
    for pattern, message, translated in _KNOWN:
        matched = pattern.fullmatch(text)
        if matched is not None:
            values = {
                k: _group_value(language, k, v, translated) for k, v in matched.groupdict().items()
            }
            return catalogue.gettext(message) % values
    return text


def translate_for(request: Request, text: Any) -> str:
    return translate(language_of(request), text)


# --- the templates' side -------------------------------------------------------------------


def _request(context: Any) -> Request | None:
    request = context.get("request")
    return request if isinstance(request, Request) else None


@pass_context
def _gettext(context: Any, message: str) -> str:
    request = _request(context)
    return gettext_for(request, message) if request is not None else message


@pass_context
def _ngettext(context: Any, singular: str, plural: str, n: int) -> str:
    request = _request(context)
    language = language_of(request) if request is not None else DEFAULT
    return translations(language).ngettext(singular, plural, n)


@pass_context
def _page_language(context: Any) -> str:
    request = _request(context)
    return language_of(request) if request is not None else DEFAULT


def _moment(value: Any) -> date | None:
    if isinstance(value, datetime | date):
        return value
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.strip())
    except ValueError:
        return None


def _date(context: Any, value: Any, form: str) -> str:
    """A date in Babel's `form` for the page's language; anything unreadable as given."""
    return human_day(_page_language(context), value, form)


@pass_context
def _human_date(context: Any, value: Any) -> str:
    """A date as people write it in the page's language: "3 March 2026", "3. März 2026"."""
    return _date(context, value, "long")


@pass_context
def _said(context: Any, value: Any) -> str:
    """Python-side page text (a `Said`, a marked message, a known service message) in the
    page's language."""
    return translate(_page_language(context), value)


@pass_context
def _short_date(context: Any, value: Any) -> str:
    """A date in a table: "3 Mar 2026", "03.03.2026"."""
    return _date(context, value, "medium")


@pass_context
def _date_time(context: Any, value: Any, seconds: bool = False) -> str:
    """A moment in UTC in the page's form: "3 Mar 2026, 14:05", "03.03.2026, 14:05"."""
    moment = _moment(value)
    if not isinstance(moment, datetime):
        return _date(context, value, "medium")
    locale = FORMAT_LOCALES[_page_language(context)]
    day = format_date(moment, format="medium", locale=locale)
    clock = format_time(moment, "HH:mm:ss" if seconds else "HH:mm", tzinfo=UTC, locale=locale)
    return f"{day}, {clock}"


@pass_context
def _month(context: Any, value: Any) -> str:
    """A month and its year: "March 2026", "März 2026"."""
    return _date(context, value, "LLLL yyyy")


@pass_context
def _number(context: Any, value: Any) -> str:
    if not isinstance(value, int | float):
        return str(value)
    return format_decimal(value, locale=FORMAT_LOCALES[_page_language(context)])


_DURATION = re.compile(
    r"P(?:(?P<year>\d+)Y)?(?:(?P<month>\d+)M)?(?:(?P<day>\d+)D)?"
    r"(?:T(?:(?P<hour>\d+)H)?(?:(?P<minute>\d+)M)?(?:(?P<second>\d+(?:\.\d+)?)S)?)?"
)


@pass_context
def _duration(context: Any, value: Any) -> str:
    """An xsd:duration in words of the page's language: "P1Y6M" is "1 year, 6 months"."""
    found = _DURATION.fullmatch(value) if isinstance(value, str) else None
    if found is None:
        return str(value)
    locale = FORMAT_LOCALES[_page_language(context)]
    parts = [
        format_unit(float(amount) if "." in amount else int(amount), f"duration-{unit}",
                    locale=locale)
        for unit, amount in found.groupdict().items()
        if amount
    ]  # fmt: skip
    return ", ".join(parts) or str(value)


@pass_context
def _switch_url(context: Any, language: str) -> str:
    """This page in another language: the same path and query, with ?lang= changed."""
    request = _request(context)
    if request is None:
        return f"?{QUERY}={language}"
    params = [(k, v) for k, v in request.query_params.multi_items() if k != QUERY]
    return f"{request.url.path}?{urlencode([*params, (QUERY, language)])}"


def install(env: Environment) -> None:
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=_gettext, ngettext=_ngettext, newstyle=True
    )
    env.globals["page_language"] = _page_language
    env.globals["page_languages"] = LANGUAGES
    env.globals["switch_url"] = _switch_url
    env.filters["human_date"] = _human_date
    env.filters["number"] = _number
    env.filters["said"] = _said
    env.filters["short_date"] = _short_date
    env.filters["date_time"] = _date_time
    env.filters["month"] = _month
    env.filters["duration"] = _duration


# --- the switch, remembered --------------------------------------------------------------------


class LanguageCookie:
    """Remembers a `?lang=` choice in a cookie, and marks pages as varying by language."""

    def __init__(self, app: ASGIApp, *, secure: bool) -> None:
        self.app = app
        self.secure = secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        asked = Request(scope).query_params.get(QUERY)

        async def send_with_language(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if headers.get("content-type", "").startswith("text/html"):
                    vary = headers.get("vary")
                    headers["Vary"] = f"{vary}, Accept-Language" if vary else "Accept-Language"
                if asked in LANGUAGES:
                    secure = "; Secure" if self.secure else ""
                    headers.append(
                        "Set-Cookie",
                        f"{COOKIE}={asked}; Path=/; Max-Age=31536000; SameSite=Lax{secure}",
                    )
            await send(message)

        await self.app(scope, receive, send_with_language)
