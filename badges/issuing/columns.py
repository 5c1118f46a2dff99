"""Which column of a class list holds what: a guess from the header ("Name", "Vorname" +
"Nachname", "E-Mail", "email", "Mail", "Note", "grade", …) that the person confirms or
changes, then every row checked into a recipient or a reason it cannot be issued.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from badges.issuing.bulk import ParsedRow
from badges.issuing.service import Recipient, check_recipient
from badges.issuing.spreadsheet import Table, TableRow, column_letter
from catalogue.errors import DomainError, InvalidInput
from catalogue.text import fold

# What a column can be, in the order the mapping form lists them, with its label.
TARGETS: dict[str, str] = {
    "name": "Full name",
    "first_name": "First name",
    "last_name": "Last name",
    "email": "E-mail address",
    "grade": "Grade",
    "evidence_url": "Evidence (a web address)",
    "evidence_narrative": "Evidence (in words)",
    "external_id": "Your reference (kept as the external id)",
    "did": "Learner's DID",
    "contact_consent": "E-mail shown in Europass (the learner agreed: yes/no)",
}
# Header titles, folded and stripped of everything but letters and digits.
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "name": (
        "name", "fullname", "vollstandigername", "namevorname", "vornamename", "learner",
        "learnername", "participant", "teilnehmer", "teilnehmerin", "teilnehmende",
        "teilnehmername", "student", "studentname", "recipient", "recipientname", "empfanger",
        "nom", "nomcomplet",
    ),
    "first_name": ("vorname", "firstname", "givenname", "forename", "prenom", "rufname"),
    "last_name": ("nachname", "lastname", "surname", "familyname", "familienname", "zuname"),
    "email": (
        "email", "mail", "emailadresse", "emailaddress", "mailadresse", "courriel",
        "emailteilnehmer", "emailteilnehmerin",
    ),
    "grade": ("note", "grade", "mark", "marks", "result", "ergebnis", "bewertung", "score"),
    "evidence_url": ("evidence", "evidenceurl", "nachweis", "nachweisurl", "portfolio"),
    "evidence_narrative": ("evidencenarrative", "narrative", "nachweistext"),
    "external_id": (
        "externalid", "id", "reference", "ref", "referenz", "matrikelnummer", "kundennummer",
        "teilnehmernummer", "teilnehmerid", "personalnummer",
    ),
    "did": ("did", "learnerdid"),
    "contact_consent": (
        "contactconsent", "consent", "einwilligung", "emailineuropass", "europassemail",
        "europasscontact", "europasskontakt",
    ),
}  # fmt: skip
# A second pass: a title containing one of these ("E-Mail des Teilnehmers").
_CONTAINS: dict[str, tuple[str, ...]] = {
    "email": ("email", "mail"),
    "first_name": ("vorname", "firstname"),
    "last_name": ("nachname", "lastname", "surname"),
    "grade": ("note", "grade"),
}
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")

Mapping = dict[str, int | None]


def _key(title: str) -> str:
    return _NOT_ALNUM.sub("", fold(title))


def guess(header: list[str]) -> Mapping:
    """Each target's column (an index into the header), or None."""
    keys = [_key(title) for title in header]
    mapping: Mapping = dict.fromkeys(TARGETS)
    for passes in (_SYNONYMS, _CONTAINS):
        for target, words in passes.items():
            if mapping[target] is not None:
                continue
            taken = {i for i in mapping.values() if i is not None}
            for index, key in enumerate(keys):
                hit = key in words if passes is _SYNONYMS else any(w in key for w in words)
                if index not in taken and key and hit:
                    mapping[target] = index
                    break
    # German lists often say "Name" for the family name beside "Vorname".
    if mapping["first_name"] is not None and mapping["last_name"] is None:
        name = mapping["name"]
        if name is not None and keys[name] == "name":
            mapping["last_name"], mapping["name"] = name, None
    return mapping


def from_form(values: dict[str, str], columns: int) -> Mapping:
    """A mapping as the form sends it (`map_email=2`, empty for none), checked."""
    mapping: Mapping = dict.fromkeys(TARGETS)
    for target in TARGETS:
        raw = (values.get(f"map_{target}") or "").strip()
        if not raw:
            continue
        if not raw.isdigit() or int(raw) >= columns:
            field = f"map_{target}"
            message = f"{field}: choose one of the file's columns"
            raise InvalidInput(message, details={"field": field})
        mapping[target] = int(raw)
    return mapping


def problems(mapping: Mapping) -> dict[str, str]:
    """What the mapping lacks, by form field (empty: it can be used)."""
    found = {}
    if mapping["email"] is None:
        found["map_email"] = "Choose the column with the e-mail addresses."
    if mapping["name"] is None and mapping["first_name"] is None and mapping["last_name"] is None:
        found["map_name"] = (
            "Choose the column with the names, or the columns with first and last names."
        )
    used = [i for i in mapping.values() if i is not None]
    if len(used) != len(set(used)):
        found["mapping"] = "Each column can be chosen once only."
    return found


@dataclass(frozen=True)
class Checked:
    rows: list[ParsedRow]  # good and bad, in file order (bad ones carry their reason)
    values: dict[int, dict[str, str]]  # line -> the mapped cells, to show and report

    @property
    def good(self) -> list[ParsedRow]:
        return [row for row in self.rows if row.recipient is not None]

    @property
    def bad(self) -> list[ParsedRow]:
        return [row for row in self.rows if row.recipient is None]


def _cell(row: TableRow, index: int | None) -> str:
    return row.cells[index] if index is not None and index < len(row.cells) else ""


def _friendly(exc: DomainError, values: dict[str, str]) -> str:
    field = exc.details.get("field") if isinstance(exc.details, dict) else None
    if field == "email" and not values.get("email"):
        return "E-mail address missing"
    if field == "name" and not values.get("name"):
        return "Name missing"
    label = {
        "email": "E-mail address",
        "name": "Name",
        "given_name": "First name",
        "family_name": "Last name",
        "grade": "Grade",
        "contact_consent": "E-mail in Europass",
    }.get(str(field))
    message = exc.message.split(": ", 1)[1] if ": " in exc.message else exc.message
    return f"{label}: {message}" if label else exc.message


def _names(values: dict[str, str]) -> dict[str, str]:
    """The full name first (the name column, or first and last name joined), then the first
    and last names kept apart as the given and family names."""
    given, family = values.pop("first_name", ""), values.pop("last_name", "")
    full = values.pop("name", "") or " ".join(part for part in (given, family) if part)
    parts = {"given_name": given, "family_name": family}
    return {"name": full, **{k: v for k, v in parts.items() if v.strip()}, **values}


def check_rows(table: Table, mapping: Mapping) -> Checked:
    """Every row as a recipient, or the reason it cannot be issued ("E-mail address missing",
    "the same e-mail address as row 5")."""
    rows: list[ParsedRow] = []
    values_by_line: dict[int, dict[str, str]] = {}
    first_seen: dict[str, int] = {}
    for row in table.rows:
        values = {t: _cell(row, i) for t, i in mapping.items() if i is not None}
        values = _names(values)
        values_by_line[row.line] = values
        unreadable = [
            f"cell {column_letter(i)}{row.line} {why}"
            for i, why in row.problems.items()
            if i in mapping.values()
        ]
        if unreadable:
            rows.append(ParsedRow(row.line, None, "; ".join(unreadable), values))
            continue
        try:
            # Any: the consent cell is text here; check_recipient reads it as yes or no.
            fields: dict[str, Any] = dict(values)
            recipient = check_recipient(Recipient(**fields))
        except DomainError as exc:
            rows.append(ParsedRow(row.line, None, _friendly(exc, values), values))
            continue
        earlier = first_seen.setdefault(recipient.email.lower(), row.line)
        if earlier != row.line:
            why = f"the same e-mail address as row {earlier}: each person is issued the badge once"
            rows.append(ParsedRow(row.line, None, why, values))
            continue
        rows.append(ParsedRow(row.line, recipient))
    return Checked(rows, values_by_line)
