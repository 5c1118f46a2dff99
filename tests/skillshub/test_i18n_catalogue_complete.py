"""The German catalogue is complete: every message `pybabel extract -F babel.cfg` finds (the
templates and the Python files babel.cfg names) has a German translation, neither empty nor
fuzzy, keeping the message's placeholders; the vocabulary labels the pages translate are all
in it."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from catalogue import vocabularies
from skillshub.web import words
from skillshub.web.i18n import translations

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "skillshub/web/locales/de/LC_MESSAGES/messages.po"
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _catalog() -> Catalog:
    with PO.open("rb") as po:
        return read_po(po, locale="de")


def _extracted() -> dict[str, str | tuple[str, ...]]:
    """Every message babel.cfg extracts: msgid -> the message (a tuple for a plural)."""
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found: dict[str, str | tuple[str, ...]] = {}
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map
    ):
        msgid = message if isinstance(message, str) else message[0]
        found[msgid] = message
    return found


def test_every_page_message_has_a_german_translation() -> None:
    catalog = _catalog()
    used = _extracted()
    assert len(used) > 500  # the public pages, not an empty extraction
    for msgid, message in used.items():
        entry = catalog.get(msgid)
        assert entry is not None, f"not in messages.po: {msgid!r}"
        assert not entry.fuzzy, f"fuzzy: {msgid!r}"
        strings = entry.string if isinstance(entry.string, tuple | list) else (entry.string,)
        forms = [form for form in strings if form]
        assert forms and len(forms) == len(strings), f"no German translation: {msgid!r}"
        sources = [
            source or "" for source in (message if isinstance(message, tuple) else (message,))
        ]
        wanted = set(PLACEHOLDER.findall(sources[-1]))
        for form in forms:
            assert set(PLACEHOLDER.findall(form)) <= wanted | set(
                PLACEHOLDER.findall(sources[0])
            ), (msgid, form)
        assert set(PLACEHOLDER.findall(forms[-1])) == wanted, (msgid, forms[-1])


def test_messages_pot_is_what_extraction_finds_today() -> None:
    with (PO.parents[2] / "messages.pot").open("rb") as pot:
        template = read_po(pot)
    in_template = {m.id if isinstance(m.id, str) else m.id[0] for m in template if m.id}
    assert set(_extracted()) == in_template, "re-extract messages.pot (see README: Page texts)"


def test_the_pages_python_words_are_extracted() -> None:
    """A route's page title or message marked N_ reaches the catalogue: babel.cfg names it."""
    used = _extracted()
    for msgid in (
        "Open your claim link first",  # routes/learner.py
        "Micro-credential",  # routes/catalogue_pages.py KINDS
        "an unexpected error occurred",  # errors.py
        "You are signed in.",  # routes/backpack.py NOTICES
        "Level %(level)s",  # words.py
    ):
        assert msgid in used, msgid


def test_every_translated_vocabulary_label_is_in_the_catalogue() -> None:
    german = translations("de")
    listed = set(words.VOCABULARY_LABELS)
    for key in words.TRANSLATED_SCHEMES:
        for concept in vocabularies.scheme(key).concepts:
            assert concept.label in listed, (key, concept.label)
            shown = words.vocabulary_label(concept, "de")
            assert shown == german.gettext(concept.label), (key, concept.label)
            assert shown != concept.label or concept.label == "Online", (key, shown)
            assert words.vocabulary_label(concept, "en") == concept.label
    # ISCED-F: a field, or a field with its qualifier, both in German.
    fields = set(words.ISCED_F_FIELDS)
    for concept in vocabularies.scheme("isced-f").concepts:
        field = concept.label
        for suffix in words.ISCED_F_QUALIFIERS:
            field = field.removesuffix(suffix)
        assert field in fields, concept.label
        shown = words.vocabulary_label(concept, "de")
        assert german.gettext(field) in shown and shown != concept.label, (concept.label, shown)
        assert words.vocabulary_label(concept, "en") == concept.label
    electronics = vocabularies.concept("isced-f", "0714")
    assert words.vocabulary_label(electronics, "de") == "Elektronik und Automation"
    # Languages and countries by their CLDR names; EQF levels by the catalogue.
    assert words.vocabulary_label(vocabularies.concept("language", "de"), "de") == "Deutsch"
    assert words.vocabulary_label(vocabularies.concept("country", "AT"), "de") == "Österreich"
    assert words.vocabulary_label(vocabularies.concept("eqf", "6"), "de") == "Niveau 6"
    assert words.vocabulary_label(vocabularies.concept("eqf", "6"), "en") == "Level 6"
