"""Excel entry and commune lists: damaged cells, crafted sizes and over-long notes are errors that
name their row, found quickly, never a 500 or a worker held for a minute."""

from __future__ import annotations

import io
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from assessments import services
from assessments.models import CommuneFlagRecord, IndicatorResult
from assessments.unit_import import UnitFileInvalid
from assessments.unit_lists import read_list, row_limit
from criteria import xlsx
from tests import hostile
from tests.assessments.test_excel_entry import column, edit, errors, template, upload
from tests.conftest import POSTAL_ALL, indicator, make_list_file

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def client(district_officer):
    client = Client(raise_request_exception=False)
    client.force_login(district_officer)
    return client


def noted(assessment, officer, note: str):
    """The assessment with 8.1 entered and a note saved as it is (not through the form)."""
    services.save_entry(
        user=officer,
        assessment=assessment,
        indicator=indicator(assessment.criteria_set, "8.1"),
        entry=services.Entry(inputs=POSTAL_ALL, note=note),
        seen_version=None,
    )
    assessment.refresh_from_db()
    return assessment


@pytest.fixture
def scored(assessment, district_officer):
    return noted(assessment, district_officer, "Bưu điện văn hóa xã")


def ref(wb, sheet: str, key: str, row: int = 2) -> str:
    return f"{get_column_letter(column(wb[sheet], key))}{row}"


def quick(started: float) -> bool:
    return time.process_time() - started < 5


# ---------------------------------------------------------------- damaged cells


@pytest.mark.parametrize(
    "damage",
    [hostile.text_in_number_cell, hostile.bad_shared_string],
    ids=["text in a number cell", "a shared string that does not exist"],
)
def test_a_damaged_cell_is_an_error_naming_its_row(client, scored, damage):
    before = list(IndicatorResult.objects.values_list("inputs", "note"))

    response = upload(client, scored, damage(template(client, scored), "Xã", "B2"))

    assert response.status_code == 200
    assert "Trang tính «Xã», dòng 2" in errors(response)
    assert list(IndicatorResult.objects.values_list("inputs", "note")) == before


@pytest.mark.parametrize("as_text", [True, False])
def test_a_count_of_1e999999999_is_refused_quickly(client, scored, as_text):
    content = edit(template(client, scored), lambda wb: None)
    cell = ref(load_workbook(io.BytesIO(content)), "Xã", "8.4/5")
    content = edit(content, lambda wb: setattr(wb["Xã"][cell], "value", 5))
    damaged = hostile.huge_exponent(content, "Xã", cell, as_text=as_text)
    started = time.process_time()

    response = upload(client, scored, damaged)

    assert f"dòng 2, cột {cell[:-1]}" in errors(response)
    assert quick(started)


# ---------------------------------------------------------------- size


def test_a_tiny_file_whose_row_is_numbered_99999999_is_refused_at_once(client, scored):
    far = hostile.far_row(template(client, scored), "Xã")
    started = time.process_time()

    response = upload(client, scored, far)

    assert "99999999" in errors(response)
    assert quick(started)


def test_the_rows_a_sheet_may_use_follow_the_xa_in_scope(client, scored):
    """One xã in scope: a header, its row and a hundred rows of room."""
    last = 1 + 1 + 100

    def write_at(row: int):
        return lambda wb: setattr(wb["Xã"].cell(row, 2), "value", "thừa")

    inside = upload(client, scored, edit(template(client, scored), write_at(last)))
    outside = upload(client, scored, edit(template(client, scored), write_at(last + 1)))

    assert f"dòng {last}" in errors(inside)  # an error of its own: no xã code on that row
    assert f"{last + 1}" in errors(outside) and f"dòng {last}" not in errors(outside)


def test_a_sheet_repeating_one_cell_a_million_times_is_refused_before_it_is_parsed(client, scored):
    def repeat(xml: str) -> str:
        cells = '<c r="A3" t="n"><v>1</v></c>' * 1_000_000
        return xml.replace("</sheetData>", f'<row r="3">{cells}</row></sheetData>')

    dense = hostile.edit_sheet(template(client, scored), "Xã", repeat)
    started = time.process_time()

    response = upload(client, scored, dense)

    assert errors(response)
    assert quick(started)


# ---------------------------------------------------------------- notes


def test_a_note_longer_than_4000_characters_is_an_error_naming_its_cell(client, scored):
    content = template(client, scored)
    cell = ref(load_workbook(io.BytesIO(content)), "Xã", "8.1/ghi chú")

    too_long = edit(content, lambda wb: setattr(wb["Xã"][cell], "value", "x" * 4001))

    response = upload(client, scored, too_long)

    assert f"dòng 2, cột {cell[:-1]}" in errors(response)
    assert "4001" in errors(response)
    assert IndicatorResult.objects.get(indicator__code="8.1").note == "Bưu điện văn hóa xã"


def test_a_long_note_saved_before_the_limit_comes_back_unchanged(
    client, assessment, district_officer
):
    noted(assessment, district_officer, "ghi chú dài " * 400 + "hết")  # 4,803 characters

    response = upload(client, assessment, template(client, assessment))

    assert 'data-testid="no-changes"' in response.content.decode()


def test_a_note_longer_than_a_cell_is_not_cut_silently(client, assessment, district_officer):
    long_note = "Ghi chú " * 4999 + "hết"  # 39,995 characters: more than an Excel cell holds
    noted(assessment, district_officer, long_note)
    content = template(client, assessment)
    wb = load_workbook(io.BytesIO(content))
    cell = wb["Xã"][ref(wb, "Xã", "8.1/ghi chú")].value

    response = upload(client, assessment, content)

    assert len(cell) <= xlsx.MAX_TEXT and "39.995" in xlsx.unescape(cell)
    assert "dòng 2" in errors(response)  # the cut note is not taken for the note
    assert IndicatorResult.objects.get(indicator__code="8.1").note == long_note


# ---------------------------------------------------------------- lists of communes


@pytest.fixture
def lists(manager):
    client = Client(raise_request_exception=False)
    client.force_login(manager)
    return client


def flag_upload(client, file):
    return client.post(
        reverse("assessments:flag_import"),
        {
            "flag": CommuneFlagRecord.Flag.DIFFICULT,
            "document": "QĐ 861/QĐ-TTg",
            "valid_from": "04/06/2021",
            "file": file,
        },
    )


def list_errors(response) -> str:
    assert response.status_code == 200
    return " ".join(response.context["form"].errors["file"])


def as_file(content: bytes, name: str = "danh-sach.xlsx"):
    return SimpleUploadedFile(name, content)


@pytest.mark.parametrize(
    "damage",
    [
        hostile.text_in_number_cell,
        hostile.bad_shared_string,
        lambda content, sheet, ref: hostile.far_row(content, sheet),
    ],
    ids=["text in a number cell", "a shared string that does not exist", "row 99999999"],
)
def test_a_damaged_or_crafted_list_is_an_error(lists, commune, damage):
    content = make_list_file([[commune.code, commune.name]], kind="xlsx").read()
    started = time.process_time()

    response = flag_upload(lists, as_file(damage(content, "Sheet", "B2")))

    assert "2" in list_errors(response) or "99999999" in list_errors(response)
    assert not CommuneFlagRecord.objects.exists()
    assert quick(started)


def test_a_csv_line_longer_than_the_csv_reader_takes_is_an_error(lists, commune):
    content = f"Mã PX,Phường Xã\n{commune.code},{'x' * 200_000}\n".encode()

    response = flag_upload(lists, as_file(content, "danh-sach.csv"))

    assert "2" in list_errors(response)


def test_a_list_with_ten_thousand_bad_rows_shows_the_first_200_and_their_count(province):
    upload_file = make_list_file([[f"x{n}"] for n in range(1000)])

    with pytest.raises(UnitFileInvalid) as error:
        read_list(upload_file, size=upload_file.size, max_rows=2000)

    assert len(error.value.errors) == 201
    assert "1.000" in error.value.errors[-1]
    assert row_limit(province) < 2000
