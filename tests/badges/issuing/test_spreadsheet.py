"""Class lists as people export them (badges.issuing.spreadsheet, badges.issuing.columns):
CSV in any common separator and encoding, XLSX written by a real spreadsheet library, and
the broken and hostile files that must be refused with a message saying what to do."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Sequence

import openpyxl
import pytest

from badges.issuing import Recipient, columns, spreadsheet
from badges.issuing.spreadsheet import SpreadsheetError, read_table
from skillshub.web.console.csv_export import safe_cell
from tests.support.present import present

GERMAN = [
    ("Jürgen", "Müller", "juergen@example.org", "1,3"),
    ("Zoë", "Weiß", "zoe@example.org", ""),
    ("Ada", "Lovelace", "ada@example.org", "2"),
]


def recipients(checked: columns.Checked) -> list[Recipient]:
    return [present(row.recipient) for row in checked.good]


def xlsx(rows: Sequence[Sequence[object]], *, setup=None) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.worksheets[0]
    for row in rows:
        sheet.append(list(row))
    if setup:
        setup(book, sheet)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def german_csv(separator: str = ";", encoding: str = "cp1252", bom: bytes = b"") -> bytes:
    lines = [separator.join(("Vorname", "Nachname", "E-Mail", "Note"))]
    lines += [separator.join(row) for row in GERMAN]
    return bom + "\r\n".join(lines).encode(encoding) + b"\r\n"


@pytest.mark.parametrize(
    ("data", "note"),
    [
        (german_csv(";", "cp1252"), "semicolon-separated text, Windows-1252"),
        (german_csv(";", "utf-8", b"\xef\xbb\xbf"), "semicolon-separated text, UTF-8"),
        (german_csv(";", "cp1252", b"\xef\xbb\xbf"), "semicolon-separated text, Windows-1252"),
        (german_csv(",", "utf-8").replace(b"1,3", b'"1,3"'), "comma-separated text, UTF-8"),
        (german_csv("\t", "utf-8"), "tab-separated text, UTF-8"),
        (german_csv(";", "utf-16"), "semicolon-separated text, UTF-16"),
    ],
)
def test_csv_in_every_common_separator_and_encoding(data: bytes, note: str) -> None:
    table = read_table(data, "liste.csv")
    assert table.kind == "csv" and table.notes == [note]
    assert table.header == ["Vorname", "Nachname", "E-Mail", "Note"]
    assert [row.cells[:3] for row in table.rows] == [list(r[:3]) for r in GERMAN]
    assert [row.line for row in table.rows] == [2, 3, 4]


def test_german_headers_are_matched_and_names_joined() -> None:
    table = read_table(german_csv())
    mapping = columns.guess(table.header)
    assert (mapping["first_name"], mapping["last_name"], mapping["email"]) == (0, 1, 2)
    assert mapping["grade"] == 3 and mapping["name"] is None
    checked = columns.check_rows(table, mapping)
    assert [(r.name, r.grade) for r in recipients(checked)] == [
        ("Jürgen Müller", "1,3"),
        ("Zoë Weiß", None),
        ("Ada Lovelace", "2"),
    ]
    # Kept apart too (the Europass export's givenName / familyName).
    assert [(r.given_name, r.family_name) for r in recipients(checked)] == [
        ("Jürgen", "Müller"),
        ("Zoë", "Weiß"),
        ("Ada", "Lovelace"),
    ]


def test_the_consent_column_is_read_as_yes_or_no() -> None:
    table = read_table(
        b"Name;E-Mail;Einwilligung\nAda;a@example.org;ja\nBo;b@example.org;\n"
        b"Cy;c@example.org;vielleicht\nDi;d@example.org;X\n",
        "liste.csv",
    )
    checked = columns.check_rows(table, columns.guess(table.header))
    assert [(r.name, r.contact_consent) for r in recipients(checked)] == [
        ("Ada", True),
        ("Bo", False),
        ("Di", True),
    ]
    [bad] = checked.bad
    assert bad.line == 4 and present(bad.error).startswith("E-mail in Europass: answer yes or no")


def test_given_and_family_name_columns_beside_a_full_name() -> None:
    table = read_table(
        b"given_name,family_name,name,email\n"
        b"Li,Wei,Li Wei,li@example.org\n"
        b"Anna,Kov\xc3\xa1cs,,anna@example.org\n"
        b",,Madonna,m@example.org\n"
        b",,,nobody@example.org\n",
        "list.csv",
    )
    mapping = columns.guess(table.header)
    assert (mapping["first_name"], mapping["last_name"], mapping["name"]) == (0, 1, 2)
    checked = columns.check_rows(table, mapping)
    names = [(r.name, r.given_name, r.family_name) for r in recipients(checked)]
    assert names == [
        ("Li Wei", "Li", "Wei"),  # the full name as given, the parts as given
        ("Anna Kovács", "Anna", "Kovács"),
        ("Madonna", None, None),  # a single name is not split into parts
    ]
    [bad] = checked.bad
    assert (bad.line, bad.error) == (5, "Name missing")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (["Name", "E-Mail"], {"name": 0, "email": 1}),
        (["Name", "Vorname", "Mail"], {"last_name": 0, "first_name": 1, "email": 2}),
        (["Full name", "email", "Grade"], {"name": 0, "email": 1, "grade": 2}),
        (["Teilnehmer", "E-Mail-Adresse", "Matrikelnummer"], {"name": 0, "email": 1}),
        (["First Name", "Last Name", "Email Address"], {"first_name": 0, "last_name": 1}),
        (["Kurs", "E-Mail des Teilnehmers"], {"email": 1, "name": None}),
        (["Name", "E-Mail", "Einwilligung"], {"email": 1, "contact_consent": 2}),
        (["email", "name", "contact_consent"], {"email": 0, "name": 1, "contact_consent": 2}),
    ],
)
def test_column_guesses(header: list[str], expected: dict[str, int | None]) -> None:
    mapping = columns.guess(header)
    assert {k: mapping[k] for k in expected} == expected


def test_every_bad_row_gets_its_reason_and_the_good_ones_go_on() -> None:
    data = (
        b"Name;E-Mail\n"
        b"Ada Lovelace;ada@example.org\n"
        b"Bob;\n"
        b";nobody@example.org\n"
        b"Cy;cy@@example\n"
        b"Ada again;ADA@example.org\n"
        b";\n"
        b"Dee;dee@example.org\n"
    )
    table = read_table(data)
    checked = columns.check_rows(table, columns.guess(table.header))
    assert [(r.line, r.error) for r in checked.bad] == [
        (3, "E-mail address missing"),
        (4, "Name missing"),
        (5, checked.bad[2].error),
        (6, "the same e-mail address as row 2: each person is issued the badge once"),
    ]
    assert present(checked.bad[2].error).startswith("E-mail address: ")
    assert [r.line for r in checked.good] == [2, 8]  # the empty row 7 is no row
    assert checked.values[3] == {"name": "Bob", "email": ""}


def test_a_mapping_without_an_email_column_says_so() -> None:
    problems = columns.problems(columns.guess(["Name", "Kurs"]))
    assert problems == {"map_email": "Choose the column with the e-mail addresses."}
    chosen = columns.from_form({"map_name": "0", "map_email": "0"}, 2)
    assert "mapping" in columns.problems(chosen)
    with pytest.raises(Exception, match="choose one of the file's columns"):
        columns.from_form({"map_email": "7"}, 2)


def test_xlsx_with_german_headers_numbers_and_dates() -> None:
    from datetime import date

    data = xlsx(
        [
            ["Vorname", "Nachname", "E-Mail", "Note", "Datum"],
            ["Jürgen", "Müller", "juergen@example.org", 1.3, date(2026, 3, 1)],
            ["Ada", "Lovelace", "ada@example.org", 2, None],
        ]
    )
    table = read_table(data, "liste.xlsx")
    assert table.kind == "xlsx" and table.notes == ["Excel workbook, sheet 'Sheet'"]
    assert [row.cells for row in table.rows] == [
        ["Jürgen", "Müller", "juergen@example.org", "1.3", "2026-03-01"],
        ["Ada", "Lovelace", "ada@example.org", "2"],
    ]


def _with_saved_value(data: bytes, cell: str, value: str) -> bytes:
    """The workbook as Excel saves it: a formula cell with its calculated value."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            body = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                body = re.sub(
                    rf'(<c r="{cell}"[^>]*>)(<f>[^<]*</f>)<v\s*/?>(</v>)?'.encode(),
                    rb"\1\2<v>" + value.encode() + b"</v>",
                    body,
                )
            target.writestr(info, body)
    return out.getvalue()


def test_formulas_are_never_calculated() -> None:
    rows = [
        ["Vorname", "Nachname", "E-Mail"],
        ["Ada", "Lovelace", '=LOWER(A2)&"@example.org"'],
        ["Bob", "Byte", '=LOWER(A3)&"@example.org"'],
    ]
    data = _with_saved_value(xlsx(rows), "C2", "ada@example.org")
    table = read_table(data, "liste.xlsx")
    assert "2 formula cell(s): the values saved with them were used" in table.notes[-1]
    checked = columns.check_rows(table, columns.guess(table.header))
    # The saved value is used; the formula without one is the row's problem, not evaluated.
    assert [r.email for r in recipients(checked)] == ["ada@example.org"]
    [bad] = checked.bad
    assert bad.line == 3 and present(bad.error).startswith(
        "cell C3 holds a formula saved without its value"
    )


def test_merged_cells_are_refused_naming_them() -> None:
    def merge(book, sheet) -> None:
        sheet.merge_cells("A2:B2")

    data = xlsx([["Name", "E-Mail"], ["Ada", "ada@example.org"]], setup=merge)
    with pytest.raises(SpreadsheetError, match=r"merged cells \(A2:B2\)\. Unmerge them"):
        read_table(data, "liste.xlsx")


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"", "x.csv", "The file is empty"),
        (b"   \n\n", "x.csv", "The file is empty"),
        (b"Name;E-Mail\n", "x.csv", "no learners below the header row"),
        (b'Name,E-Mail\n"Ada, ada@example.org\n', "x.csv", "ends inside a quoted value"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "x.csv", "holds binary data"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "x.xls", "old Excel file"),
        (b"Name;E-Mail\n\x81\x8d\x8f\x90\x9d\n", "x.csv", "neither UTF-8 nor Windows-1252"),
        (b"not really a workbook", "x.xlsx", "not a readable Excel workbook"),
    ],
)
def test_unreadable_files_are_refused_with_what_to_do(
    data: bytes, filename: str, message: str
) -> None:
    with pytest.raises(SpreadsheetError, match=re.escape(message)) as refused:
        read_table(data, filename)
    assert refused.value.details == {"field": "file"}


def test_a_cut_off_workbook_is_refused() -> None:
    data = xlsx([["Name", "E-Mail"]] + [[f"P{n}", f"p{n}@example.org"] for n in range(200)])
    for cut in (len(data) // 2, len(data) - 30):
        with pytest.raises(SpreadsheetError, match=r"incomplete or damaged|cannot be read"):
            read_table(data[:cut], "liste.xlsx")


def test_a_zip_bomb_is_refused_before_unpacking(monkeypatch: pytest.MonkeyPatch) -> None:
    data = xlsx([["Name", "E-Mail"], ["Ada", "ada@example.org"]])
    monkeypatch.setattr(spreadsheet, "MAX_UNPACKED", 1000)
    with pytest.raises(SpreadsheetError, match="unpacks to more than"):
        read_table(data, "liste.xlsx")


def test_100001_rows_are_refused_and_100000_taken() -> None:
    line = "Ada Lovelace;ada{}@example.org\n"
    taken = ("Name;E-Mail\n" + "".join(line.format(n) for n in range(100_000))).encode()
    assert len(read_table(taken).rows) == 100_000
    refused = taken + b"One More;more@example.org\n"
    with pytest.raises(SpreadsheetError, match="has 100,001 rows of learners; at most 100,000"):
        read_table(refused)


def test_too_many_rows_in_a_workbook(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spreadsheet, "MAX_ROWS", 5)
    data = xlsx([["Name", "E-Mail"]] + [[f"P{n}", f"p{n}@example.org"] for n in range(6)])
    with pytest.raises(SpreadsheetError, match="has 6 rows of learners; at most 5"):
        read_table(data, "liste.xlsx")


def test_a_huge_cell_is_refused() -> None:
    data = ("Name;E-Mail\n" + "A" * 3000 + ";a@example.org\n").encode()
    with pytest.raises(SpreadsheetError, match="Cell A2 holds more than 2000 characters"):
        read_table(data)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ('=HYPERLINK("http://evil.example")', '\'=HYPERLINK("http://evil.example")'),
        ("+49 30 1234", "'+49 30 1234"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("Ada Lovelace", "Ada Lovelace"),
        (None, ""),
        (3, "3"),
    ],
)
def test_csv_exports_neutralise_formulas(value: object, shown: str) -> None:
    assert safe_cell(value) == shown
