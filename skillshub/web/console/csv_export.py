"""CSV downloads of the console (recipients, a bulk job's results): streamed a row at a time,
UTF-8 with a BOM (so Excel reads the umlauts), and safe to open in a spreadsheet program.

CSV injection: a cell that begins with = + - @ (or a tab or carriage return, which some
programs skip before looking) would be read as a formula, so it gets a leading apostrophe,
which the program shows as text (OWASP's advice). Names and e-mails are other people's
input; "=HYPERLINK(…)" in a learner's name must not become a link in the provider's Excel.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from urllib.parse import quote

from fastapi.responses import StreamingResponse

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


CHUNK = 64 * 1024  # characters per streamed piece: one message per row would cost more


def _lines(header: Sequence[str], rows: Iterable[Sequence[object]]) -> Iterator[bytes]:
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
        if buffer.tell() >= CHUNK:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def csv_response(
    filename: str, header: Sequence[str], rows: Iterable[Sequence[object]]
) -> StreamingResponse:
    return StreamingResponse(
        _lines(header, rows),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}",
            "Cache-Control": "private, no-store",
        },
    )
