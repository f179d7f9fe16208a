"""Excel plumbing shared by every workbook the project writes or reads.

Exporters turn their rows into cells with `cell()` (or `append()`), uploads are opened with
`open_upload()` and read with `sheet_rows()` and `cell_text()`, and downloads leave through
`download()`. It sits in `criteria`, the bottom of the import graph, so `assessments` and `reports`
can use it without importing each other.

User text always goes into a cell as text, verbatim. openpyxl takes a str starting with "=" for a
formula and "#N/A" for an error, and a number format of "@" does not stop it, so text cells are
marked as strings explicitly here. Characters an XML file cannot carry as they are (control
characters, and the carriage return that every XML reader turns into a line feed) are written as
Excel's own `_xHHHH_` escapes, which Excel shows as the character and `sheet_rows()` reads back:
a value goes out and comes back unchanged.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Iterator
from typing import IO, Any

from django.http import FileResponse
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.worksheet import Worksheet

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_TEXT = 32767  # what one Excel cell holds; openpyxl cuts longer text there

HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
HEADER_ALIGNMENT = Alignment(wrap_text=True, vertical="top")

# What XML cannot carry verbatim, and an underscore that would otherwise read as an escape.
_NEEDS_ESCAPE = re.compile(r"[\x00-\x08\x0b-\x1f]|_(?=x[0-9A-Fa-f]{4}_)")
_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")


class WorkbookInvalid(Exception):
    """The workbook cannot be imported; `errors` lists every problem in words."""

    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


# ---------------------------------------------------------------- writing


def escape(text: str) -> str:
    """Text as a cell stores it: characters XML cannot hold become `_xHHHH_`."""
    return _NEEDS_ESCAPE.sub(lambda m: f"_x{ord(m.group()):04X}_", text)


def unescape(text: str) -> str:
    """The text a cell stored with `escape()` (or Excel wrote with the same escapes)."""
    return _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), text) if "_x" in text else text


def cell(ws: Worksheet, value: Any) -> Cell:
    """A cell for `ws.append()`: text stays text whatever it starts with; numbers, dates and
    None are written as openpyxl writes them. Works for normal and write-only sheets."""
    if not isinstance(value, str):
        return WriteOnlyCell(ws, value)
    made = WriteOnlyCell(ws)
    made.value = escape(value)  # openpyxl may take it for a formula or an error here,
    made.data_type = "s"  # so it is marked as text: never a formula, never an error
    return made


def append(ws: Worksheet, values: Iterable[Any]) -> None:
    """Append one row; every value goes through `cell()`, cells already made stay as they are."""
    ws.append([v if v is None or isinstance(v, Cell) else cell(ws, v) for v in values])


def header_cell(ws: Worksheet, label: str) -> Cell:
    """A header cell in the house look: bold on light blue, wrapped."""
    made = cell(ws, label)
    made.font, made.fill, made.alignment = HEADER_FONT, HEADER_FILL, HEADER_ALIGNMENT
    return made


def append_header(ws: Worksheet, labels: Iterable[str]) -> None:
    ws.append([header_cell(ws, label) for label in labels])


def to_bytes(wb: Workbook) -> bytes:
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def download(content: bytes, filename: str) -> FileResponse:
    """An xlsx file as a download named `filename`."""
    return FileResponse(
        io.BytesIO(content), as_attachment=True, filename=filename, content_type=CONTENT_TYPE
    )


# ---------------------------------------------------------------- reading


def open_upload(upload: IO[bytes]) -> Workbook:
    """The uploaded workbook, read-only with the values Excel last computed; the caller closes it.

    Raises WorkbookInvalid if it is not a readable xlsx file.
    """
    try:
        return load_workbook(upload, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds of error for a damaged file
        raise WorkbookInvalid(
            [_("The file could not be read as an Excel workbook. Save it as .xlsx and try again.")]
        ) from None


def require_sheets(wb: Workbook, names: Iterable[str]) -> None:
    """Raise WorkbookInvalid naming every sheet of `names` the workbook lacks."""
    missing = [name for name in names if name not in wb.sheetnames]
    if missing:
        raise WorkbookInvalid(
            [_("The workbook has no sheet named «%(sheet)s».") % {"sheet": n} for n in missing]
        )


def sheet_rows(ws: Worksheet, *, min_row: int = 1) -> Iterator[tuple]:
    """The values of each row from `min_row` on, text as it was written."""
    for row in ws.iter_rows(min_row=min_row, values_only=True):
        yield tuple(unescape(v) if isinstance(v, str) else v for v in row)


def cell_text(value: Any) -> str:
    """A cell's value as trimmed text: "" for an empty cell, 12.0 as "12"."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
