"""Words the public pages show that come from Python, in the reader's language.

Page titles and messages set by routes are English msgids marked with `N_` (gettext's "translate
this where it is shown" marker, found by `pybabel extract`); a template shows them with the
`translated` filter. Unlike `_()`, the filter never treats its text as markup or as a format
string, so it is safe for any message, also one that echoes what a visitor typed: a text the
German catalogue does not hold stays as it is.

The labels of the EU controlled vocabularies (catalogue/vocabularies.py: modes, assessment
types, quality assurance, EQF levels, languages, countries, …) are facts of the catalogue, kept
in English there; the `vocab` filter shows a concept in the page's language: languages and
countries by their Babel (CLDR) names, the other schemes from the German catalogue.
"""

from __future__ import annotations

import unicodedata
from decimal import Decimal
from functools import cache
from typing import Any

from babel import Locale
from babel.numbers import format_decimal
from jinja2 import Environment, pass_context

from catalogue import vocabularies
from skillshub.web import i18n
from skillshub.web.i18n import _FORMAT_LOCALES


def N_(message: str) -> str:  # gettext's marker: "translate this where it is shown"
    return message


# The labels of the schemes translated through the catalogue, as catalogue/vocabularies.py
# writes them (tests/skillshub/test_i18n_catalogue_complete.py checks that every label of these
# schemes is here, so a new concept is not shown in English by mistake).
TRANSLATED_SCHEMES = (
    "learning-setting",
    "mode",
    "assessment",
    "quality-assurance",
    "supervision",
    "credit-system",
    "skill-type",
    "reuse-level",
)
VOCABULARY_LABELS = (
    # learning setting
    N_("formal learning"),
    N_("non-formal learning"),
    # mode of learning and assessment
    N_("Online"),
    N_("Blended"),
    N_("Presential"),
    N_("Workbased"),
    N_("Project based"),
    N_("Research-Lab based"),
    # type of assessment
    N_("artefact assessment"),
    N_("continuous evaluation"),
    N_("group performance"),
    N_("level of attendance"),
    N_("marked assignment"),
    N_("oral examination"),
    N_("peer assessment"),
    N_("peer review"),
    N_("portfolio"),
    N_("practical assessment"),
    N_("problem based learning"),
    N_("project work"),
    N_("quiz"),
    N_("written examination"),
    # type of quality assurance
    N_("Institutional Quality Assurance"),
    N_("Program Quality Assurance"),
    N_("Institutional License"),
    N_("Program License"),
    # supervision and identity verification
    N_("Unsupervised without ID Verification"),
    N_("Supervised with ID Verification"),
    # credit system
    N_("European Credit Transfer System"),
    N_("European credit system for vocational education and training"),
    # skill type
    N_("skill"),
    N_("knowledge"),
    # skill reuse level
    N_("transversal skills and competences"),
    N_("cross-sector skills and competences"),
    N_("sector specific skills and competences"),
    N_("occupation specific skills and competences"),
)
EQF_LEVEL = N_("Level %(level)s")


@cache
def _by_iri() -> dict[str, vocabularies.Concept]:
    return {c.iri: c for s in vocabularies.SCHEMES.values() for c in s.concepts}


def _language(context: Any) -> str:
    request = context.get("request")
    return i18n.language_of(request) if request is not None else i18n.DEFAULT


def vocabulary_label(concept: Any, language: str) -> str:
    """The label of a vocabulary concept (a Concept or a ConceptRef: anything with `iri` and
    `label`) in `language`; English, and anything unknown, as the catalogue writes it."""
    label = str(getattr(concept, "label", "") or "")
    if language == i18n.DEFAULT:
        return label
    known = _by_iri().get(str(getattr(concept, "iri", "")))
    if known is None:
        return label
    if known.scheme == "language":
        name = Locale.parse(language).languages.get(known.code)
        return name[:1].upper() + name[1:] if name else label
    if known.scheme == "country":
        return Locale.parse(language).territories.get(known.code) or label
    catalogue = i18n.translations(language)
    if known.scheme == "eqf":
        return catalogue.gettext(EQF_LEVEL) % {"level": known.code}
    if known.scheme in TRANSLATED_SCHEMES:
        return catalogue.gettext(label)
    return label


@pass_context
def _vocab(context: Any, concept: Any, first_upper: bool = False) -> str:
    if concept is None:
        return ""
    label = vocabulary_label(concept, _language(context))
    return label[:1].upper() + label[1:] if first_upper else label


def _sort_key(text: str) -> str:
    """Alphabetical as readers expect it: "Österreich" with the O's, not after "Zypern"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


@pass_context
def _by_vocab_label(context: Any, concepts: Any) -> list[Any]:
    """Concepts in the alphabetical order of their labels in the page's language."""
    language = _language(context)
    return sorted(concepts, key=lambda c: _sort_key(vocabulary_label(c, language)))


@pass_context
def _translated(context: Any, message: Any) -> str:
    """A message set in Python, in the page's language: plain text, never markup."""
    if message is None:
        return ""
    return str(i18n.translations(_language(context)).gettext(str(message)))


@pass_context
def _money(context: Any, amount: Any) -> str:
    """An amount with two decimals in the reader's form: "1,234.50", "1.234,50"."""
    if not isinstance(amount, int | float | Decimal):
        return str(amount)
    return format_decimal(amount, format="#,##0.00", locale=_FORMAT_LOCALES[_language(context)])


@pass_context
def _rating(context: Any, value: Any) -> str:
    """An average rating with one decimal in the reader's form: "4.5", "4,5"."""
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return str(value)
    return format_decimal(number, format="0.0", locale=_FORMAT_LOCALES[_language(context)])


def install(env: Environment) -> None:
    env.filters["rating"] = _rating
    env.filters["money"] = _money
    env.filters["vocab"] = _vocab
    env.filters["by_vocab_label"] = _by_vocab_label
    env.filters["translated"] = _translated
