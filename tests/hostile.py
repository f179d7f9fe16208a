"""Hostile values and damaged workbooks, shared by the hostile-input walk and the item tests.

Workbooks are made with openpyxl, then one worksheet's XML is edited by hand: that is how a
damaged or crafted file reaches the server (Excel itself never writes these).
"""

from __future__ import annotations

import io
import re
import zipfile

from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

# What a query-string or form parameter may hold when someone is not using the forms: not an
# integer at all, digits that str.isdigit() accepts and int() does not (²), digits that int()
# accepts and are not ASCII (٣), NUL (which PostgreSQL cannot store), numbers beyond every
# column's range, text beyond every length limit, JSON text with an escaped NUL.
HOSTILE_VALUES = (
    "abc",
    "²",
    "٣",
    "\x00",
    "1\x00",
    "-1",
    "0",
    "1.5",
    "9" * 40,
    "-9223372036854775809",
    "1E+999999999",
    "x" * 40_000,
    "",
    " ",
    "<b>&amp;",
    '["\\u0000"]',
    "\ufeff1",
)


def workbook_bytes(sheets: dict[str, list[list]]) -> bytes:
    """An xlsx file with the given sheets and rows, as openpyxl writes it."""
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def sheet_names(content: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        workbook = archive.read("xl/workbook.xml").decode()
    return re.findall(r'<sheet[^>]* name="([^"]*)"', workbook)


def edit_sheet(content: bytes, sheet: str, edit) -> bytes:
    """The workbook with the XML of `sheet` replaced by edit(xml)."""
    part = f"xl/worksheets/sheet{sheet_names(content).index(sheet) + 1}.xml"
    source = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == part:
                data = edit(data.decode()).encode()
            target.writestr(info, data)
    return out.getvalue()


def cell_xml(content: bytes, sheet: str, ref: str, xml: str) -> bytes:
    """The workbook with the cell `ref` of `sheet` replaced by the raw XML `xml`."""

    def edit(text: str) -> str:
        changed, count = re.subn(rf'<c r="{ref}"[^>]*?(/>|>.*?</c>)', xml, text, count=1)
        assert count == 1, f"no cell {ref} in {sheet}"
        return changed

    return edit_sheet(content, sheet, edit)


def text_in_number_cell(content: bytes, sheet: str, ref: str) -> bytes:
    return cell_xml(content, sheet, ref, f'<c r="{ref}" t="n"><v>abc</v></c>')


def bad_shared_string(content: bytes, sheet: str, ref: str) -> bytes:
    return cell_xml(content, sheet, ref, f'<c r="{ref}" t="s"><v>99999</v></c>')


def huge_exponent(content: bytes, sheet: str, ref: str, *, as_text: bool = False) -> bytes:
    if as_text:
        xml = f'<c r="{ref}" t="inlineStr"><is><t>1E+999999999</t></is></c>'
    else:
        xml = f'<c r="{ref}" t="n"><v>1E+999999999</v></c>'
    return cell_xml(content, sheet, ref, xml)


def far_row(content: bytes, sheet: str, *, row: int = 99_999_999, keep_dimension=True) -> bytes:
    """The last row of `sheet` renumbered `row`: a tiny file whose sheet is a hundred million
    rows long. With `keep_dimension` the sheet still claims its old, small size."""

    def edit(text: str) -> str:
        rows = re.findall(r'<row r="(\d+)"', text)
        last = rows[-1]
        text = text.replace(f'<row r="{last}"', f'<row r="{row}"')
        text = re.sub(rf'(<c r="[A-Z]+){last}"', rf'\g<1>{row}"', text)
        if not keep_dimension:
            text = re.sub(r"<dimension [^>]*/>", "", text)
        return text

    return edit_sheet(content, sheet, edit)


def upload(content: bytes, name: str = "tep.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)
