"""Excel plumbing shared by every workbook the project writes or reads.

Exporters turn their rows into cells with `cell()` (or `append()`), uploads are opened with
`open_upload()` and read with `read_sheet()` and `cell_text()`, and downloads leave through
`download()`. It sits in `criteria`, the bottom of the import graph, so `assessments` and `reports`
can use it without importing each other.

User text always goes into a cell as text, verbatim. openpyxl takes a str starting with "=" for a
formula and "#N/A" for an error, and a number format of "@" does not stop it, so text cells are
marked as strings explicitly here. Characters an XML file cannot carry as they are (control
characters, and the carriage return that every XML reader turns into a line feed) are written as
Excel's own `_xHHHH_` escapes, which Excel shows as the character and `read_sheet()` reads back:
a value goes out and comes back unchanged. Text longer than a cell holds is cut with a note
saying so, never silently.

An upload is read within limits its reader gives (rows, columns), judged from the size a sheet
declares before any cell is read and then from the rows it actually has: a 2 KB file can number
its one row 99,999,999, and reading up to it would hold a worker for minutes. Every cell is read
inside that check, so a damaged cell is an error naming its row, and no more than
MAX_ERRORS_SHOWN errors are ever listed.
"""

from __future__ import annotations

import io
import math
import re
import zipfile
from collections.abc import Iterable, Iterator
from typing import IO, Any
from xml.sax.saxutils import escape as xml_escape

from django.http import FileResponse
from django.utils import numberformat
from django.utils.formats import get_format
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.worksheet._reader import WorkSheetParser
from openpyxl.worksheet.worksheet import Worksheet
from python_calamine import CalamineWorkbook

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_TEXT = 32767  # what one Excel cell holds; openpyxl cuts longer text there
MAX_ERRORS_SHOWN = 200  # a file with ten thousand errors must not make a page of megabytes
QUOTED = 60  # the characters of a cell's text that an error message repeats

HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
HEADER_ALIGNMENT = Alignment(wrap_text=True, vertical="top")

# What XML cannot carry verbatim, and an underscore that would otherwise read as an escape.
_NEEDS_ESCAPE = re.compile(r"[\x00-\x08\x0b-\x1f]|_(?=x[0-9A-Fa-f]{4}_)")
_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")


class WorkbookInvalid(Exception):
    """The workbook cannot be imported; `errors` lists every problem in words."""

    def __init__(self, errors: list[str]):
        errors = first_errors(errors)
        super().__init__("\n".join(errors))
        self.errors = errors


def first_errors(errors: list[str]) -> list[str]:
    """At most MAX_ERRORS_SHOWN errors, then a line saying how many there are in all."""
    if len(errors) <= MAX_ERRORS_SHOWN:
        return errors
    return [
        *errors[:MAX_ERRORS_SHOWN],
        _("These are the first %(shown)s of %(total)s errors. Correct them and upload again.")
        % {"shown": MAX_ERRORS_SHOWN, "total": grouped(len(errors))},
    ]


def grouped(number: int) -> str:
    """A count with its thousands grouped as the language writes them: 10.523 in Vietnamese."""
    return numberformat.format(
        number,
        get_format("DECIMAL_SEPARATOR"),
        grouping=3,
        thousand_sep=get_format("THOUSAND_SEPARATOR"),
        force_grouping=True,
    )


def quoted(value: Any) -> str:
    """A cell's text as an error message repeats it: its start, if it is long."""
    text = cell_text(value)
    return text if len(text) <= QUOTED else text[: QUOTED - 1] + "…"


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
    made.value = _fitted(escape(value))  # openpyxl may take it for a formula or an error here,
    made.data_type = "s"  # so it is marked as text: never a formula, never an error
    return made


def _fitted(text: str) -> str:
    """The text as one cell holds it: cut, with a note saying so, where openpyxl would cut it
    without a word."""
    if len(text) <= MAX_TEXT:
        return text
    note = _(" … [cut: the text has %(n)s characters, more than a cell holds]") % {
        "n": grouped(len(text))
    }
    return text[: MAX_TEXT - len(note)] + note


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
    """The values of each row from `min_row` on, text as it was written. For workbooks the
    project wrote itself: an upload is read with `read_sheet()`, within limits."""
    for row in ws.iter_rows(min_row=min_row, values_only=True):
        yield tuple(unescape(v) if isinstance(v, str) else v for v in row)


def read_sheet(wb: Workbook, name: str, *, max_rows: int, max_columns: int) -> list[tuple]:
    """The values of a sheet of an upload (opened with `open_upload()`), one tuple per row from
    row 1 to the last row with a value (an empty row is ()), text as it was written.

    Raises WorkbookInvalid if a value lies beyond row `max_rows` or column `max_columns`, if the
    sheet declares a size far beyond them (blank formatted cells are allowed some room), if a
    cell cannot be read (text in a number cell, a shared string that does not exist) or holds
    the NUL character (which PostgreSQL cannot store). Rows are read as they are in the file, so
    the cost is that of the file, never that of the row numbers it claims.
    """
    row_room, column_room = 10 * max_rows + 100, 4 * max_columns + 20
    rows: list[tuple] = []
    parser, last = None, 0

    def refuse(message: str, **values) -> WorkbookInvalid:
        return WorkbookInvalid([message % {"sheet": name, **values}])

    too_far = _(
        "Sheet «%(sheet)s» reaches row %(row)s, and this file has at most %(limit)s rows. "
        "Check that it is the right file."
    )
    too_wide = _(
        "Sheet «%(sheet)s» reaches column %(column)s, and this file has at most %(limit)s "
        "columns. Check that it is the right file."
    )
    try:
        ws = wb[name]
        if (ws.max_row or 0) > row_room:
            raise refuse(too_far, row=ws.max_row, limit=max_rows)
        if (ws.max_column or 0) > column_room:
            raise refuse(too_wide, column=get_column_letter(ws.max_column), limit=max_columns)
        with ws._get_source() as source:
            if _more_cells_than(source, 2 * max_rows * max_columns + 10_000):
                raise refuse(
                    _(
                        "Sheet «%(sheet)s» has more cells than this file can have. Check that it "
                        "is the right file."
                    )
                )
        plain = _plain_rows(wb, ws, max_rows=max_rows, max_columns=max_columns)
        if plain is not None:
            return plain
        # openpyxl's own reader of one sheet, without its filling of the rows the file leaves
        # out: those rows are counted, not made.
        with ws._get_source() as source:
            parser = WorkSheetParser(
                source,
                ws._shared_strings,
                data_only=True,
                epoch=wb.epoch,
                date_formats=wb._date_formats,
                timedelta_formats=wb._timedelta_formats,
            )
            for number, cells in parser.parse():
                if number > row_room:
                    raise refuse(too_far, row=number, limit=max_rows)
                if number <= last:  # Excel writes each row once, in order
                    raise _Damaged
                last = number
                values = _row_values(cells, max_columns)
                if values and number > max_rows:
                    raise refuse(too_far, row=number, limit=max_rows)
                if values:
                    rows.extend([()] * (number - 1 - len(rows)))
                    rows.append(values)
    except WorkbookInvalid:
        raise
    except _TooWide as exc:
        raise refuse(too_wide, column=get_column_letter(exc.column), limit=max_columns) from None
    except _HasNul:
        raise refuse(
            _("Sheet «%(sheet)s», row %(row)s: a cell holds the NUL character; remove it."),
            row=parser.row_counter,
        ) from None
    except Exception:  # openpyxl raises many kinds of error for a damaged file or cell
        if parser is None:
            raise refuse(_("The sheet «%(sheet)s» is damaged and cannot be read.")) from None
        raise refuse(
            _(
                "Sheet «%(sheet)s», row %(row)s: a cell cannot be read (a damaged file, or text "
                "in a cell marked as a number). Retype the row and save the file again."
            ),
            row=parser.row_counter,
        ) from None
    return rows


# ---------------------------------------------------------------- the quick reader
# Reading a sheet of 10,000 rows cell by cell with openpyxl takes seconds; python-calamine (a
# compiled reader) takes a tenth of that. It is given only what the checks above and below have
# seen: the sheet's XML as Python's zipfile read it (the declared size, the CRC checked) and the
# shared strings openpyxl parsed (through defusedxml), in a workbook of their own. And only a
# sheet whose every row and cell is where it says it is, within the limits, and whose values
# read the same in both readers: anything else (a date, an error cell, a boolean, an empty
# text, an escaped character, a row out of order, a cell beyond the limits) is read by openpyxl
# as before, which names the row of what is wrong.

PLAIN_MAX_BYTES = 32 * 1024 * 1024  # a larger sheet is read by openpyxl
# A row or cell tag whose position is its first attribute, every attribute double-quoted.
_POSITIONED = re.compile(
    rb'<(c|row)\s+r="([A-Z]{0,3})([1-9][0-9]{0,8})"'
    rb'(?:\s+[^\s<>/="]+="[^"]*")*\s*/?>'
)
_ANY_POSITIONED = re.compile(rb"<(?:c|row)[\s/>]")
# What the two readers read differently, or what only openpyxl names well when it is wrong:
# error, date, boolean and formula-text cells; an empty text or value; phonetic runs; Excel's
# escapes of characters XML cannot carry; line ends the XML parsers do not turn alike into line
# feeds; comments, CDATA and document types; elements with a namespace prefix. Each is looked
# for on its own: one pattern of them all would try each at every byte of the sheet.
_NOT_PLAIN_TEXT = (b"\r", b"<!", b"<rPh", b"<is/>", b"<is></is>", b"></t>", b"></v>")
_NOT_PLAIN = (
    re.compile(rb't="(?:e|d|b|str)"'),  # within a cell tag written as _POSITIONED takes it
    re.compile(rb"<(?:t|v|is)(?:\s[^<>]*)?/>"),
    re.compile(rb"_x[0-9A-Fa-f]{4}_"),
    re.compile(rb"<[^\s<>/=:!?]+:"),
    # A value that is not a whole number of at most 15 digits or a decimal that is not whole:
    # openpyxl reads "90" as an int and "90.5" as a float, and calamine both as floats (made
    # ints again when whole); "90.0", "1E2", " 7 " or "1_000" are read by openpyxl alone.
    re.compile(rb"<v(?:\s[^<>]*)?>(?!-?(?:[0-9]{1,15}|[0-9]+\.[0-9]*[1-9][0-9]*)</v>)"),
)


def _not_plain(xml: bytes) -> bool:
    return any(text in xml for text in _NOT_PLAIN_TEXT) or any(
        pattern.search(xml) for pattern in _NOT_PLAIN
    )


_STYLE = re.compile(rb'\ss="([0-9]+)"')
_SHARED = '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">{}</sst>'
_PACKAGE = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
        'package/2006/content-types"><Default Extension="rels" ContentType="application/'
        'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
        'ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType='
        '"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
        'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName='
        '"/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        'spreadsheetml.sharedStrings+xml"/></Types>'
    ),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
        'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://'
        'schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
        'Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.'
        'org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/'
        '2006/relationships"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets>'
        "</workbook>"
    ),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
        'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://'
        'schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target='
        '"worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.'
        'org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
        "</Relationships>"
    ),
}


def _plain_rows(wb: Workbook, ws, *, max_rows: int, max_columns: int) -> list[tuple] | None:
    """The sheet's rows as `read_sheet()` gives them, read by python-calamine; None when the
    sheet is not one it reads the same as openpyxl (openpyxl then reads it)."""
    try:
        if wb._archive.getinfo(ws._worksheet_path).file_size > PLAIN_MAX_BYTES:
            return None
        with ws._get_source() as source:
            xml = source.read()  # all of it: zipfile checks its size and CRC at the end
        if _not_plain(xml) or not _plainly_placed(xml, max_rows, max_columns):
            return None
        dated = wb._date_formats | wb._timedelta_formats
        if dated and {int(s) for s in set(_STYLE.findall(xml))} & dated:
            return None  # a number shown as a date or a time: openpyxl makes it one
        shared = ws._shared_strings
        if any(text == "" or "_x" in text or "\r" in text for text in shared):
            return None
        package = io.BytesIO()
        with zipfile.ZipFile(package, "w", zipfile.ZIP_STORED) as archive:
            for part, content in _PACKAGE.items():
                archive.writestr(part, content)
            archive.writestr("xl/worksheets/sheet1.xml", xml)
            items = "".join(
                f'<si><t xml:space="preserve">{xml_escape(text)}</t></si>' for text in shared
            )
            archive.writestr("xl/sharedStrings.xml", _SHARED.format(items))
        del xml
        package.seek(0)
        grid = CalamineWorkbook.from_filelike(package).get_sheet_by_name("S")
        return _grid_rows(grid.to_python(skip_empty_area=False))
    except Exception:  # noqa: BLE001 - anything unexpected: openpyxl reads the sheet
        return None


def _plainly_placed(xml: bytes, max_rows: int, max_columns: int) -> bool:
    """Whether every row and cell of the sheet names its place, rows in order and cells in
    order within their row, all within `max_rows` and `max_columns`, and the cells fill most of
    the rectangle they span: then the two readers put every value in the same place, and
    calamine makes no more cells than the file has, give or take."""
    tags = _POSITIONED.findall(xml)
    if len(tags) != len(_ANY_POSITIONED.findall(xml)):
        return False  # a row or cell placed by its order, or written in another way
    row, column, widest, cells = 0, 0, 0, 0
    columns: dict[bytes, int] = {}
    for kind, letters, digits in tags:
        number = int(digits)
        if kind == b"row":
            if letters or number <= row or number > max_rows:
                return False
            row, column = number, 0
            continue
        index = columns.get(letters)
        if index is None:
            index = columns[letters] = column_index_from_string(letters.decode())
        if number != row or index <= column or index > max_columns:
            return False
        column, widest, cells = index, max(widest, index), cells + 1
    # calamine makes every cell of the rectangle the values span: a sparse sheet (a value in A1
    # and one far away) is left to openpyxl, which makes only the cells there are
    return row * widest <= 4 * cells + 10_000


def _grid_rows(grid: list[list]) -> list[tuple]:
    """calamine's rows as `read_sheet()` gives them: an empty cell is None, a whole number an
    int (openpyxl's reading of the numbers Excel writes), a row ends at its last value, and
    the rows end at the last with one."""
    rows: list[tuple] = []
    for cells in grid:
        values = [None if v == "" else _whole(v) if isinstance(v, float) else v for v in cells]
        while values and values[-1] is None:
            values.pop()
        rows.append(tuple(values))
    while rows and not rows[-1]:
        rows.pop()
    return rows


def _whole(number: float):
    if not math.isfinite(number) or abs(number) >= 2**53:
        raise ValueError("a number openpyxl reads differently")  # → openpyxl reads the sheet
    return int(number) if number.is_integer() else number


# The start of a cell element, <c …> or <x:c …>: what the parser spends its time on.
_CELL_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]{0,20}:)?c[\s/>]")


def _more_cells_than(source: IO[bytes], limit: int) -> bool:
    """Whether a sheet's XML has more than `limit` cells, counted without parsing it: a file
    can repeat one cell a million times within the rows and columns it may use."""
    count, tail = 0, b""
    while chunk := source.read(1 << 20):
        text = tail + chunk
        cut = max(len(text) - 32, 0)  # a tag across the cut is counted with the next chunk
        count += sum(1 for m in _CELL_TAG.finditer(text) if m.start() < cut)
        if count > limit:
            return True
        tail = text[cut:]
    return count + len(_CELL_TAG.findall(tail)) > limit


class _TooWide(Exception):
    def __init__(self, column: int):
        self.column = column


class _HasNul(Exception):
    pass


class _Damaged(Exception):
    pass


def _row_values(cells: list[dict], max_columns: int) -> tuple:
    """A parsed row's values by column, text unescaped; () if it has none."""
    found = {}
    for cell in cells:
        value = cell["value"]
        if value is None:
            continue
        if cell["column"] > max_columns:
            raise _TooWide(cell["column"])
        if isinstance(value, str):
            value = unescape(value)
            if "\x00" in value:
                raise _HasNul
        found[cell["column"]] = value
    if not found:
        return ()
    return tuple(found.get(column) for column in range(1, max(found) + 1))


def cell_text(value: Any) -> str:
    """A cell's value as trimmed text: "" for an empty cell, 12.0 as "12"."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
