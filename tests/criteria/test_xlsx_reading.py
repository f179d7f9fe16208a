"""criteria.xlsx reads an upload within limits, inside its checks, and writes long text visibly
cut: the rules every workbook reader and writer of the project shares."""

from __future__ import annotations

import io

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
