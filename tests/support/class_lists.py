"""Class lists for issuing to many, as providers upload them: 30 learners with German headers
(Vorname, Nachname, E-Mail, Note) and one broken e-mail, as an XLSX workbook or as the `;`
CSV with a BOM in Windows-1252 that German Excel saves."""

from __future__ import annotations

import io

import openpyxl


def _rows(people: int, bad_row: int | None) -> list[list[str]]:
    rows = [["Vorname", "Nachname", "E-Mail", "Note"]]
    for n in range(1, people + 1):
        email = f"lerner{n}@example.org" if n != bad_row else f"lerner{n}(at)example.org"
        rows.append([f"Lerner{n}", "Müller", email, "1,7"])
    return rows


def class_list(people: int = 30, *, bad_row: int | None = 17) -> bytes:
    """An XLSX class list with German headers; one row's e-mail is broken."""
    book = openpyxl.Workbook()
    sheet = book.worksheets[0]
    sheet.title = "Kurs März"
    for row in _rows(people, bad_row):
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def class_list_csv(people: int = 30, *, bad_row: int | None = 17) -> bytes:
    """The same list as German Excel's "CSV": `;`-separated, Windows-1252, with a UTF-8 BOM."""
    lines = [";".join(row) for row in _rows(people, bad_row)]
    return b"\xef\xbb\xbf" + "\r\n".join(lines).encode("cp1252") + b"\r\n"
