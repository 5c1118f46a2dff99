"""What text from outside may hold, per kind of field.

Catalogue text ends up in e-mail headers (a title with CR/LF made every claim e-mail fail),
PostgreSQL (no NUL), UTF-8 JSON (no lone surrogate; JSON's "\\ud800" escape makes one) and
signed credentials. So: single-line fields (titles, names, slugs, codes, URLs) hold no
control character at all, nor a Unicode line or paragraph separator; multi-line fields
(descriptions, learning outcomes) hold line feeds and tabs, with CRLF read as LF.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator

from catalogue.errors import InvalidInput

# C0 and C1 controls (NEL, U+0085, breaks lines too), DEL, U+2028/U+2029, lone surrogates.
_NOT_SINGLE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_NOT_MULTI_LINE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def _refusal(char: str, single_line: bool) -> str:
    code = f"U+{ord(char):04X}"
    if "\ud800" <= char <= "\udfff":
        return f"holds a lone surrogate ({code}), which is not Unicode text"
    if single_line and char in "\r\n\x85\u2028\u2029":
        return f"must be a single line (it holds a line break, {code})"
    return f"holds a control character ({code})"


def text_problem(value: str, *, single_line: bool) -> str | None:
    """Why `value` may not be stored in such a field, or None when it may."""
    found = (_NOT_SINGLE_LINE if single_line else _NOT_MULTI_LINE).search(value)
    return _refusal(found[0], single_line) if found else None


def check_fields(fields: dict[str, str | None], *, multi_line: tuple[str, ...] = ()) -> None:
    """For services that take text without a schema (the CLI's organisations, issuers)."""
    for name, value in fields.items():
        problem = value and text_problem(value, single_line=name not in multi_line)
        if problem:
            raise InvalidInput(f"{name}: {problem}", details={"field": name})


def single_line(value: str) -> str:
    problem = text_problem(value, single_line=True)
    if problem:
        raise ValueError(problem)
    return value


def multi_line(value: str) -> str:
    problem = text_problem(value, single_line=False)
    if problem:
        raise ValueError(problem)
    return value


def _unix_newlines(value: object) -> object:
    # A browser's textarea sends CRLF; stored text has LF only.
    return value.replace("\r\n", "\n") if isinstance(value, str) else value


Line = Annotated[str, AfterValidator(single_line)]
Text = Annotated[str, BeforeValidator(_unix_newlines), AfterValidator(multi_line)]


def fold(value: str) -> str:
    """Text for matching: case-folded, accents dropped ("Zoë Müller" -> "zoe muller"), so a
    search behaves alike on SQLite and PostgreSQL and finds "Müller" from "muller"."""
    decomposed = unicodedata.normalize("NFKD", value.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))
