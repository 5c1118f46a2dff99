"""A class list as a table of text: CSV (comma, semicolon or tab, sniffed; UTF-8 with or
without BOM, UTF-16 with BOM, else Windows-1252, as Excel saves "CSV" in Germany) or XLSX
(read by python-calamine).

Hostile or broken files are refused with a message a person can act on, before anything is
stored (SpreadsheetError, naming the form field "file"):
- what is neither (an old .xls, a password-protected workbook, a PDF, a picture);
- a file cut off in transfer (a zip without its directory, a CSV ending inside a quote);
- an XLSX that would unpack to more than MAX_UNPACKED bytes (a zip bomb);
- more than MAX_ROWS learners, or more than MAX_COLUMNS columns;
- merged cells (which cell holds the value is a guess; unmerge them first).
Formulas are never calculated: a formula cell gives the value the spreadsheet program saved
with it, and one saved without a value (a file written by a program that does not calculate)
is a problem of its row, named in the preview.
"""

from __future__ import annotations

import csv
import io
import posixpath
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from xml.etree import ElementTree

import python_calamine

from catalogue.errors import InvalidInput

MAX_ROWS = 100_000
MAX_COLUMNS = 100
MAX_CELL = 2000
MAX_UNPACKED = 200 * 1024 * 1024
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab"}
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PACKAGE_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_CELL_REF = re.compile(r"([A-Z]{1,3})([0-9]{1,7})")


class SpreadsheetError(InvalidInput):
    code = "spreadsheet_unreadable"

    def __init__(self, message: str) -> None:
        super().__init__(message, details={"field": "file"})


@dataclass(frozen=True)
class TableRow:
    line: int  # the row's number as the spreadsheet program shows it (the header is row 1)
    cells: list[str]
    problems: dict[int, str] = field(default_factory=dict)  # column index -> why unreadable


@dataclass(frozen=True)
class Table:
    kind: str  # "csv" | "xlsx"
    header: list[str]
    rows: list[TableRow]
    notes: list[str]  # how it was read, for the preview ("semicolon-separated, Windows-1252")


def column_letter(index: int) -> str:
    """0 -> "A", 27 -> "AB": how spreadsheet programs name a column."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def read_table(data: bytes, filename: str = "") -> Table:
    """The file's first sheet (or the CSV) as a header and rows of text; by content, not
    by the file name's extension."""
    if not data.strip():
        raise SpreadsheetError("The file is empty.")
    if data.startswith(b"PK\x03\x04"):
        return _xlsx(data)
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise SpreadsheetError(
            "This is an old Excel file (.xls) or a password-protected workbook: save it as "
            "an Excel workbook (.xlsx) without a password, or as CSV, and upload that."
        )
    if filename.lower().endswith((".xlsx", ".xlsm")):
        raise SpreadsheetError(
            "This file is not a readable Excel workbook: it may be damaged, or the upload was "
            "cut off. Save it again and upload it once more."
        )
    return _csv(data)


# --- CSV -----------------------------------------------------------------------------------


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
        try:
            return data.decode("utf-8"), "UTF-8"
        except UnicodeDecodeError:  # some programs put the mark before Windows-1252 text
            pass
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "UTF-16"
    if b"\x00" in data[:4096]:
        raise SpreadsheetError(
            "This is not a CSV or Excel file (it holds binary data). Upload the class list as "
            ".xlsx or .csv."
        )
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError as exc:
        raise SpreadsheetError(
            f"The file's text is neither UTF-8 nor Windows-1252 (byte {exc.start + 1} cannot "
            'be read). Save it as "CSV UTF-8" and upload it again.'
        ) from None


def _sniff(text: str) -> str:
    """The separator that splits the first lines most consistently into several fields."""
    sample = text.splitlines()[:20]
    best, best_score = ",", (-1, -1)
    for delimiter in DELIMITERS:
        counts = [len(row) for row in csv.reader(sample, delimiter=delimiter) if row]
        if not counts or counts[0] < 2:
            continue
        score = (sum(1 for c in counts if c == counts[0]), counts[0])
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _csv(data: bytes) -> Table:
    text, encoding = _decode(data)
    if text.count('"') % 2:
        raise SpreadsheetError(
            "The file ends inside a quoted value: it was cut off in the upload, or a quote "
            "mark is missing. Save it again and upload it once more."
        )
    delimiter = _sniff(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header, rows = _collect(_csv_rows(reader))
    except csv.Error as exc:
        raise SpreadsheetError(f"Row {reader.line_num} cannot be read: {exc}.") from None
    notes = [f"{DELIMITERS[delimiter]}-separated text, {encoding}"]
    return Table("csv", header, rows, notes)


def _csv_rows(reader: Any) -> Iterator[TableRow]:
    for cells in reader:
        yield TableRow(reader.line_num, cells)


def _collect(rows: Iterator[TableRow]) -> tuple[list[str], list[TableRow]]:
    """The first non-empty row as the header, the non-empty rows below it, with the bounds
    checked as they come (a huge file is refused without being kept whole)."""
    header: list[str] | None = None
    found: list[TableRow] = []
    count = 0
    for row in rows:
        cells = [cell.strip() for cell in row.cells]
        while cells and not cells[-1]:
            cells.pop()
        if not cells:
            continue
        if len(cells) > MAX_COLUMNS:
            raise SpreadsheetError(
                f"Row {row.line} has {len(cells)} columns; at most {MAX_COLUMNS} are read."
            )
        long = next((i for i, cell in enumerate(cells) if len(cell) > MAX_CELL), None)
        if long is not None:
            raise SpreadsheetError(
                f"Cell {column_letter(long)}{row.line} holds more than {MAX_CELL} characters."
            )
        if header is None:
            header = cells
            continue
        count += 1
        if count <= MAX_ROWS:
            found.append(TableRow(row.line, cells, row.problems))
    if header is None:
        raise SpreadsheetError("The file is empty.")
    if count > MAX_ROWS:
        raise SpreadsheetError(
            f"The file has {count:,} rows of learners; at most {MAX_ROWS:,} can be issued at "
            "once. Split it into smaller files."
        )
    if not found:
        raise SpreadsheetError(
            "There are no learners below the header row (the first row is read as the "
            "columns' titles)."
        )
    return header, found


# --- XLSX ----------------------------------------------------------------------------------


def _open_zip(data: bytes) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError):
        raise SpreadsheetError(
            "This Excel file is incomplete or damaged (was the upload cut off?). Save it again "
            "and upload it once more."
        ) from None
    if sum(info.file_size for info in archive.infolist()) > MAX_UNPACKED:
        raise SpreadsheetError(
            f"This workbook unpacks to more than {MAX_UNPACKED // 2**20} MB; a class list is "
            "far smaller. Save only the sheet with the learners, or save it as CSV."
        )
    return archive


def _sheet_paths(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> its XML part in the package (workbook.xml and its relationships)."""
    try:
        workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ElementTree.ParseError, zipfile.BadZipFile, OSError):
        return {}
    targets = {
        rel.get("Id"): rel.get("Target", "") for rel in rels.iter(f"{_PACKAGE_REL}Relationship")
    }
    paths = {}
    for sheet in workbook.iter(f"{_MAIN}sheet"):
        target = targets.get(sheet.get(f"{_REL}id"), "")
        path = target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
        paths[sheet.get("name", "")] = posixpath.normpath(path)
    return paths


def _formula_cells(archive: zipfile.ZipFile, path: str | None) -> tuple[int, set[tuple[int, int]]]:
    """(formula cells, those saved without a value) of a sheet, as (row, column) from 0."""
    if path is None:
        return 0, set()
    try:
        xml = archive.read(path)
    except (KeyError, zipfile.BadZipFile, OSError):
        return 0, set()
    if b"<f" not in xml:  # most class lists: no formula, no parse
        return 0, set()
    formulas, empty = 0, set()
    try:
        for _, element in ElementTree.iterparse(io.BytesIO(xml)):
            if element.tag == f"{_MAIN}c":
                if element.find(f"{_MAIN}f") is not None:
                    formulas += 1
                    value = element.find(f"{_MAIN}v")
                    match = _CELL_REF.fullmatch(element.get("r", ""))
                    if (value is None or not (value.text or "").strip()) and match:
                        empty.add(_position(match))
                element.clear()
    except ElementTree.ParseError:
        raise SpreadsheetError(
            "This Excel file is damaged (a sheet cannot be read). Save it again and upload it "
            "once more."
        ) from None
    return formulas, empty


def _position(match: re.Match[str]) -> tuple[int, int]:
    letters, digits = match.groups()
    column = 0
    for letter in letters:
        column = column * 26 + ord(letter) - 64
    return int(digits) - 1, column - 1


def _first_sheet(workbook: python_calamine.CalamineWorkbook) -> tuple[str, list[str]]:
    sheets = [
        meta.name
        for meta in workbook.sheets_metadata
        if meta.typ == python_calamine.SheetTypeEnum.WorkSheet
        and meta.visible == python_calamine.SheetVisibleEnum.Visible
    ]
    if not sheets:
        raise SpreadsheetError("This workbook has no visible worksheet.")
    return sheets[0], sheets[1:]


def _text(value: Any) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="minutes" if value.second == 0 else "seconds")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    return str(value)


def _merged(sheet: python_calamine.CalamineSheet) -> list[str]:
    ranges = sheet.merged_cell_ranges or []
    return [
        f"{column_letter(c1)}{r1 + 1}:{column_letter(c2)}{r2 + 1}" for (r1, c1), (r2, c2) in ranges
    ]


def _xlsx(data: bytes) -> Table:
    archive = _open_zip(data)
    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        name, others = _first_sheet(workbook)
        sheet = workbook.get_sheet_by_name(name)
        merged = _merged(sheet)
        if merged:
            shown = ", ".join(merged[:5]) + (" …" if len(merged) > 5 else "")
            raise SpreadsheetError(
                f"The sheet {name!r} has merged cells ({shown}). Unmerge them (Excel: Home → "
                "Merge & Center → Unmerge Cells), give every learner a row of their own, and "
                "upload the file again."
            )
        if sheet.height > MAX_ROWS + 1000:  # clearly too many: refused before reading
            raise SpreadsheetError(
                f"The sheet {name!r} has {sheet.height - 1:,} rows below its header; at most "
                f"{MAX_ROWS:,} learners can be issued at once. Split it into smaller files."
            )
        values = sheet.to_python(skip_empty_area=False)
    except SpreadsheetError:
        raise
    except Exception as exc:  # calamine's errors (zip, XML, password) and any parser failure
        raise SpreadsheetError(
            f"This Excel file cannot be read ({type(exc).__name__}): it may be damaged or "
            "password-protected. Save it again without a password and upload it once more."
        ) from None
    formulas, unsaved = _formula_cells(archive, _sheet_paths(archive).get(name))
    header, rows = _collect(_sheet_rows(values, unsaved))
    notes = [f"Excel workbook, sheet {name!r}"]
    if others:
        notes.append(f"other sheets left alone: {', '.join(repr(o) for o in others)}")
    if formulas:
        notes.append(
            f"{formulas} formula cell(s): the values saved with them were used; formulas "
            "are never calculated here"
        )
    return Table("xlsx", header, rows, notes)


_UNSAVED = (
    "holds a formula saved without its value (open the file in Excel, save it again, and "
    "upload it once more)"
)


def _sheet_rows(values: list[list[Any]], unsaved: set[tuple[int, int]]) -> Iterator[TableRow]:
    by_row: dict[int, dict[int, str]] = {}
    for row, column in unsaved:
        by_row.setdefault(row, {})[column] = _UNSAVED
    for index, cells in enumerate(values):
        yield TableRow(index + 1, [_text(v) for v in cells], by_row.get(index, {}))
