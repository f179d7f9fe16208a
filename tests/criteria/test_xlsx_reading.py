"""criteria.xlsx reads an upload within limits, inside its checks, and writes long text visibly
cut: the rules every workbook reader and writer of the project shares."""

from __future__ import annotations

import datetime
import io
import re
import zipfile

import pytest
from openpyxl import Workbook, load_workbook

from criteria import xlsx
from tests import hostile

TABLE = {"Dữ liệu": [["Mã", "Tên"], ["06280", "Xã Hữu Khánh"], [], ["06070", 5]]}


def read(content: bytes, **limits) -> list[tuple]:
    wb = xlsx.open_upload(io.BytesIO(content))
    try:
        return xlsx.read_sheet(wb, "Dữ liệu", **{"max_rows": 10, "max_columns": 5, **limits})
    finally:
        wb.close()


def refusal(content: bytes, **limits) -> str:
    with pytest.raises(xlsx.WorkbookInvalid) as error:
        read(content, **limits)
    return " ".join(error.value.errors)


def test_rows_come_back_in_their_place_with_empty_rows_empty():
    rows = read(hostile.workbook_bytes(TABLE))

    assert rows == [("Mã", "Tên"), ("06280", "Xã Hữu Khánh"), (), ("06070", 5)]


def test_a_value_beyond_the_rows_or_columns_a_sheet_may_use_is_refused():
    content = hostile.workbook_bytes(TABLE)

    assert "4" in refusal(content, max_rows=3)
    assert "B" in refusal(content, max_columns=1)


def test_blank_formatted_cells_beyond_the_limits_are_allowed():
    def formatted(xml: str) -> str:
        return xml.replace("</sheetData>", '<row r="40"><c r="H40" s="0"/></row></sheetData>')

    content = hostile.edit_sheet(hostile.workbook_bytes(TABLE), "Dữ liệu", formatted)

    assert read(content)[-1] == ("06070", 5)


def test_a_size_declared_far_beyond_the_limits_is_refused_before_any_cell_is_read():
    def claim(xml: str) -> str:
        return xml.replace('<dimension ref="A1:B4" />', '<dimension ref="A1:B1048576" />')

    content = hostile.edit_sheet(hostile.workbook_bytes(TABLE), "Dữ liệu", claim)

    assert "1048576" in refusal(content)


DIGITS = '<c r="B4" t="n"><v>' + "9" * 5000 + "</v></c>"


@pytest.mark.parametrize(
    ("damage", "row"),
    [
        (lambda c: hostile.text_in_number_cell(c, "Dữ liệu", "B4"), 4),
        (lambda c: hostile.bad_shared_string(c, "Dữ liệu", "B4"), 4),
        (lambda c: hostile.cell_xml(c, "Dữ liệu", "B4", DIGITS), 4),
        (lambda c: hostile.edit_sheet(c, "Dữ liệu", lambda x: x.replace('r="4"', 'r="2"', 1)), 2),
    ],
    ids=["text in a number cell", "missing shared string", "5000 digits", "row 2 twice"],
)
def test_a_damaged_row_is_named(damage, row):
    assert f"row {row}" in refusal(damage(hostile.workbook_bytes(TABLE))).replace("dòng", "row")


def test_a_cell_holding_nul_is_refused_naming_its_row():
    nul = '<c r="B2" t="inlineStr"><is><t>Xã_x0000_</t></is></c>'

    assert "2" in refusal(hostile.cell_xml(hostile.workbook_bytes(TABLE), "Dữ liệu", "B2", nul))


def test_no_more_than_200_errors_are_listed_and_the_last_line_counts_them():
    errors = [f"Dòng {n}: sai." for n in range(10_523)]

    shown = xlsx.WorkbookInvalid(errors).errors

    assert shown[:200] == errors[:200] and len(shown) == 201
    assert "10.523" in shown[-1]


@pytest.mark.parametrize("write_only", [False, True])
def test_text_longer_than_a_cell_holds_is_cut_with_a_note_never_silently(write_only):
    wb = Workbook(write_only=write_only)
    ws = wb.create_sheet("Dữ liệu")
    xlsx.append(ws, ["x" * 40_000, "ngắn"])

    (row,) = xlsx.sheet_rows(load_workbook(io.BytesIO(xlsx.to_bytes(wb)))["Dữ liệu"])

    assert len(row[0]) == xlsx.MAX_TEXT
    assert row[0].startswith("x" * 30_000) and "40.000" in row[0]
    assert row[1] == "ngắn"


# ---------------------------------------------------------------- the quick reader (calamine)


@pytest.fixture
def readers(monkeypatch):
    """read() by each reader: python-calamine where it may (what uploads get), and openpyxl
    alone; and whether calamine's rows were taken."""
    used = []
    quick = xlsx._grid_rows

    def spy(grid):
        rows = quick(grid)
        used.append(True)
        return rows

    monkeypatch.setattr(xlsx, "_grid_rows", spy)

    def by_openpyxl(content, **limits):
        with monkeypatch.context() as m:
            m.setattr(xlsx, "_plain_rows", lambda *args, **kwargs: None)
            return read(content, **limits)

    return read, by_openpyxl, used


def test_a_plain_sheet_is_read_by_calamine_as_openpyxl_reads_it(readers):
    quick, slow, used = readers
    table = {
        "Dữ liệu": [
            ["Mã xã", "Tên xã", "8.1/1", "8.4/1", "ghi chú"],
            ["06280", "Xã Hữu Khánh", "Có", 90, "  Bưu điện & <trạm> \n dòng hai "],
            [],
            ["06070", None, "Không", 65.5, None],
            [None, None, None, -3, 0.1],
            ["00001", "Xã Thử", "Có", 10**12, "Đã kiểm tra"],
        ]
    }
    content = hostile.workbook_bytes(table)

    rows = quick(content)

    assert used
    assert rows == slow(content)
    assert rows[1] == ("06280", "Xã Hữu Khánh", "Có", 90, "  Bưu điện & <trạm> \n dòng hai ")
    assert rows[2] == () and rows[4] == (None, None, None, -3, 0.1)
    assert isinstance(rows[3][3], float) and isinstance(rows[5][3], int)


def shared_strings(content: bytes) -> bytes:
    """The workbook with its text in a shared-strings table, as Excel writes it (openpyxl
    writes text inline)."""
    table: list[str] = []

    def to_index(match) -> str:
        table.append(match.group(2))
        return f'<c r="{match.group(1)}" t="s"><v>{len(table) - 1}</v></c>'

    source = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename).decode()
            if info.filename.startswith("xl/worksheets/"):
                data = re.sub(
                    r'<c r="([A-Z]+[0-9]+)" t="inlineStr"><is><t>(.*?)</t></is></c>', to_index, data
                )
            elif info.filename == "[Content_Types].xml":
                data = data.replace(
                    "</Types>",
                    '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.'
                    'openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
                )
            elif info.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(
                    "</Relationships>",
                    '<Relationship Id="rIdS" Type="http://schemas.openxmlformats.org/'
                    'officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
                    "</Relationships>",
                )
            target.writestr(info, data)
        items = "".join(f'<si><t xml:space="preserve">{text}</t></si>' for text in table)
        target.writestr(
            "xl/sharedStrings.xml",
            f'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">{items}</sst>',
        )
    assert table
    return out.getvalue()


def test_text_in_a_shared_strings_table_is_read_alike(readers):
    quick, slow, used = readers
    content = shared_strings(hostile.workbook_bytes(TABLE))

    rows = quick(content)

    assert used
    assert rows == slow(content) == [("Mã", "Tên"), ("06280", "Xã Hữu Khánh"), (), ("06070", 5)]


@pytest.mark.parametrize(
    "edit",
    [
        lambda xml: xml.replace(
            "</sheetData>", '<row r="9"><c r="A9" t="b"><v>1</v></c></row></sheetData>'
        ),
        lambda xml: xml.replace(
            "</sheetData>", '<row r="9"><c r="A9" t="e"><v>#N/A</v></c></row></sheetData>'
        ),
        lambda xml: xml.replace(
            "</sheetData>",
            '<row r="9"><c r="A9" t="d"><v>2025-01-02T00:00:00</v></c></row></sheetData>',
        ),
        lambda xml: xml.replace(
            "</sheetData>",
            '<row r="9"><c r="A9" t="inlineStr"><is><t>a_x000D_b</t></is></c></row></sheetData>',
        ),
        lambda xml: xml.replace(
            "</sheetData>", '<row r="9"><c r="A9" t="inlineStr"><is><t/></is></c></row></sheetData>'
        ),
        lambda xml: xml.replace(
            "</sheetData>",
            '<row r="9"><c r="A9" t="inlineStr"><is><t>a\r\nb</t></is></c></row></sheetData>',
        ),
        lambda xml: xml.replace("</sheetData>", '<!-- <row r="99999999"> --></sheetData>'),
        lambda xml: xml.replace(
            "</sheetData>", '<row r="9"><c t="n"><v>7</v></c></row></sheetData>'
        ),
        lambda xml: xml.replace(
            "</sheetData>", "<row r=\"9\"><c r='A9'><v>7</v></c></row></sheetData>"
        ),
        lambda xml: xml.replace(
            "</sheetData>",
            '<row r="9"><c r="A9"><v>123456789012345678901</v></c></row></sheetData>',
        ),
        lambda xml: xml.replace(
            "</sheetData>", '<row r="9"><c r="A9"><v> 7 </v></c></row></sheetData>'
        ),
        lambda xml: xml.replace(
            "</sheetData>",
            '<row r="9"><c r="B9"><v>1</v></c><c r="A9"><v>2</v></c></row></sheetData>',
        ),
        lambda xml: xml.replace(
            "</sheetData>", '<row r="9"><c r="A8"><v>1</v></c></row></sheetData>'
        ),
        lambda xml: xml.replace(
            "</sheetData>", '<row r="40"><c r="A40"><v>1</v></c></row></sheetData>'
        ),
        lambda xml: xml.replace(
            "</sheetData>", '<row r="9"><c r="Z9"><v>1</v></c></row></sheetData>'
        ),
    ],
    ids=[
        "boolean",
        "error cell",
        "date cell",
        "escaped control character",
        "empty text",
        "carriage return",
        "comment",
        "cell without its place",
        "single quotes",
        "21 digits",
        "spaces around a number",
        "cells out of order",
        "cell in another row",
        "row beyond the limit",
        "column beyond the limit",
    ],
)
def test_what_calamine_might_read_otherwise_is_read_by_openpyxl_as_before(readers, edit):
    quick, slow, used = readers
    for content in (hostile.workbook_bytes(TABLE), shared_strings(hostile.workbook_bytes(TABLE))):
        content = hostile.edit_sheet(content, "Dữ liệu", edit)
        try:
            expected = slow(content)
        except xlsx.WorkbookInvalid as error:
            assert refusal(content) == " ".join(error.errors)
        else:
            assert quick(content) == expected
        assert not used


def test_a_sheet_with_a_date_format_is_read_by_openpyxl_which_makes_its_dates(readers):
    quick, _slow, used = readers
    wb = Workbook()
    ws = wb.active
    ws.title = "Dữ liệu"
    ws.append(["Ngày", datetime.datetime(2025, 7, 1)])
    content = xlsx.to_bytes(wb)

    assert quick(content) == [("Ngày", datetime.datetime(2025, 7, 1))]
    assert not used


def test_a_sparse_sheet_is_read_by_openpyxl_which_makes_only_the_cells_there_are(readers):
    quick, slow, used = readers

    def far_cell(xml: str) -> str:
        return xml.replace(
            "</sheetData>", '<row r="50000"><c r="E50000"><v>7</v></c></row></sheetData>'
        )

    content = hostile.edit_sheet(hostile.workbook_bytes(TABLE), "Dữ liệu", far_cell)

    rows = quick(content, max_rows=60_000)

    assert not used
    assert rows == slow(content, max_rows=60_000)
    assert len(rows) == 50_000 and rows[-1] == (None, None, None, None, 7)
