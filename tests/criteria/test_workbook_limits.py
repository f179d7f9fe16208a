"""A criteria-set workbook whose values do not fit the database, whose cells are damaged, or
that is far larger than a set can be: refused with the row named, nothing saved, no 500.

On PostgreSQL each over-long or out-of-range value was a 500; on SQLite a national target of
1E+20 was stored, and the list of sets was a 500 for everyone afterwards.
"""

from __future__ import annotations

import io
import json
import time
from decimal import InvalidOperation

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from criteria.forms import ConditionForm, IndicatorForm, TargetForm
from criteria.models import CriteriaSet, Indicator
from criteria.specs import SpecInvalid, canonical_number, normalize_spec, spec_from_set
from criteria.workbooks import META_SHEET, ROWS_SHEET
from tests import hostile
from tests.criteria.test_workbooks import as_upload, edited, exported, row_of

pytestmark = pytest.mark.django_db
NEW_CODE = "tinh-lang-son-2025"  # a new set, so nothing is locked


@pytest.fixture
def client(manager):
    client = Client(raise_request_exception=False)
    client.force_login(manager)
    return client


def upload(client, file):
    return client.post(reverse("criteria:set_import"), {"workbook": file})


def errors_of(response) -> list[str]:
    assert response.status_code == 200
    return response.context["form"].errors["workbook"]


def on_row(errors: list[str], row: int, *words: str) -> bool:
    return any(f"dòng {row}:" in e and all(w in e for w in words) for e in errors)


def test_over_long_and_out_of_range_values_are_named_by_row_and_nothing_is_saved(client, ntm_set):
    rows = {}

    def break_it(wb):
        meta, sheet = wb[META_SHEET], wb[ROWS_SHEET]
        meta["B2"].value = NEW_CODE
        meta["B3"].value = 70000  # Phiên bản
        meta["B4"].value = "Bộ " * 101  # Tên bộ tiêu chí: 303 characters
        meta["B10"].value = 1e20  # Mục tiêu toàn quốc
        rows["indicator"] = row_of(wb, "8.1")
        sheet.cell(rows["indicator"], 7).value = "đ" * 41  # Đơn vị
        sheet.cell(rows["indicator"], 13).value = "x" * 5000  # Nội dung cần xác nhận
        sheet.cell(rows["indicator"], 15).value = 1e20  # Mục tiêu chung
        rows["criterion"] = rows["indicator"] - 1
        sheet.cell(rows["criterion"], 2).value = 70000
        rows["condition"] = next(
            r
            for r in range(rows["indicator"], sheet.max_row)
            if sheet.cell(r, 1).value == "Điều kiện"
        )
        sheet.cell(rows["condition"], 11).value = 66.666  # Ngưỡng: three decimals
        sheet.cell(rows["condition"], 2).value = "1" * 21  # Số / mã

    response = upload(client, edited(exported(ntm_set), break_it))

    errors = errors_of(response)
    assert on_row(errors, 3, "Phiên bản", "32767")
    assert on_row(errors, 4, "Tên bộ tiêu chí", "300")
    assert on_row(errors, 10, "Mục tiêu toàn quốc")
    assert on_row(errors, rows["indicator"], "Đơn vị", "40")
    assert on_row(errors, rows["indicator"], "Nội dung cần xác nhận", "4000")
    assert on_row(errors, rows["indicator"], "Mục tiêu chung")
    assert on_row(errors, rows["criterion"], "Số / mã", "32767")
    assert on_row(errors, rows["condition"], "Ngưỡng")
    assert on_row(errors, rows["condition"], "Số / mã", "20")
    assert not CriteriaSet.objects.filter(code=NEW_CODE).exists()
    assert client.get(reverse("criteria:set_list")).status_code == 200


@pytest.mark.parametrize("target", [120, -1])
def test_a_national_target_outside_0_to_100_percent_is_refused(client, ntm_set, target):
    def set_target(wb):
        wb[META_SHEET]["B2"].value = NEW_CODE
        wb[META_SHEET]["B10"].value = target

    response = upload(client, edited(exported(ntm_set), set_target))

    assert on_row(errors_of(response), 10, "Mục tiêu toàn quốc")
    assert not CriteriaSet.objects.filter(code=NEW_CODE).exists()


def test_a_value_that_fits_still_imports(client, ntm_set):
    def fitting(wb):
        wb[META_SHEET]["B2"].value = NEW_CODE
        wb[META_SHEET]["B4"].value = "Bộ " * 100  # 300 characters with the last space cut
        wb[META_SHEET]["B10"].value = 100

    response = upload(client, edited(exported(ntm_set), fitting))

    assert response.status_code == 302
    assert CriteriaSet.objects.get(code=NEW_CODE).national_target_percent == 100


# ---------------------------------------------------------------- the same rules for JSON files


def raw_spec(criteria_set, **changes) -> dict:
    spec = spec_from_set(criteria_set)
    spec.update(code=NEW_CODE, **changes)
    return spec


@pytest.mark.parametrize(
    "changes",
    [
        {"national_target_percent": "1E+20"},
        {"national_target_percent": "150"},
        {"name": "x" * 301},
        {"version": 70000},
        {"notes": "x" * 4001},
        {"notes": "ghi\x00chú"},
    ],
)
def test_normalize_spec_refuses_values_the_fields_cannot_hold(ntm_set, changes):
    with pytest.raises(SpecInvalid):
        normalize_spec(raw_spec(ntm_set, **changes))


def test_a_threshold_of_a_billion_digits_is_never_written_out(ntm_set):
    started = time.process_time()

    assert canonical_number("1E+999999999") == "1E+999999999"
    spec = raw_spec(ntm_set)
    indicators = [i for g in spec["groups"] for c in g["criteria"] for i in c["indicators"]]
    next(i for i in indicators if i["targets"])["targets"][0]["threshold"] = "1E+999999999"
    with pytest.raises(SpecInvalid, match="threshold"):
        normalize_spec(spec)
    assert time.process_time() - started < 1
    with pytest.raises(InvalidOperation):
        canonical_number("NaN")


def test_load_criteria_refuses_a_file_with_a_value_its_field_cannot_hold(ntm_set, tmp_path):
    path = tmp_path / "bo-tinh.json"
    path.write_text(
        json.dumps(raw_spec(ntm_set, national_target_percent="1E+20"), default=str),
        encoding="utf-8",
    )

    with pytest.raises(CommandError, match="national_target_percent"):
        call_command("load_criteria", str(path), verbosity=0)

    assert not CriteriaSet.objects.filter(code=NEW_CODE).exists()


# ---------------------------------------------------------------- damaged cells


@pytest.mark.parametrize(
    "damage",
    [
        lambda content: hostile.text_in_number_cell(content, META_SHEET, "B3"),
        lambda content: hostile.bad_shared_string(content, META_SHEET, "B4"),
        lambda content: hostile.cell_xml(
            content, META_SHEET, "B4", '<c r="B4" t="inlineStr"><is><t>a_x0000_b</t></is></c>'
        ),
    ],
    ids=["text in a number cell", "a shared string that does not exist", "NUL"],
)
def test_a_damaged_cell_is_an_error_naming_its_row(client, ntm_set, damage):
    count = CriteriaSet.objects.count()

    response = upload(client, as_upload(damage(exported(ntm_set))))

    assert any("dòng" in e for e in errors_of(response))
    assert CriteriaSet.objects.count() == count


def test_a_target_of_1e999999999_is_refused_quickly(client, ntm_set):
    content = exported(ntm_set)
    row = row_of(load_workbook(io.BytesIO(content)), "8.1")
    damaged = hostile.huge_exponent(content, ROWS_SHEET, f"O{row}")  # an infinite float
    started = time.process_time()

    response = upload(client, as_upload(damaged))

    assert on_row(errors_of(response), row)
    assert time.process_time() - started < 5


# ---------------------------------------------------------------- size


def test_a_tiny_file_whose_row_is_numbered_99999999_is_refused_at_once(client, ntm_set):
    far = hostile.far_row(exported(ntm_set), ROWS_SHEET)
    started = time.process_time()

    response = upload(client, as_upload(far))

    assert any("99999999" in e for e in errors_of(response))
    assert time.process_time() - started < 5


def test_a_sheet_repeating_one_cell_a_million_times_is_refused_before_it_is_parsed(client, ntm_set):
    def repeat(xml: str) -> str:
        cells = '<c r="A2" t="n"><v>1</v></c>' * 1_000_000
        return xml.replace("</sheetData>", f'<row r="2000">{cells}</row></sheetData>')

    dense = hostile.edit_sheet(exported(ntm_set), ROWS_SHEET, repeat)
    started = time.process_time()

    response = upload(client, as_upload(dense))

    assert errors_of(response)
    assert time.process_time() - started < 5


def test_ten_thousand_errors_are_shown_as_the_first_200_and_their_count(client, ntm_set):
    def bad_rows(wb):
        wb[META_SHEET]["B2"].value = NEW_CODE
        for row in range(2, 902):
            wb[ROWS_SHEET].cell(row, 1).value = "Loại lạ"

    response = upload(client, edited(exported(ntm_set), bad_rows))

    errors = errors_of(response)
    assert len(errors) == 201
    assert "200" in errors[-1] and "900" in errors[-1]


# ---------------------------------------------------------------- the pages take the same


def test_the_indicator_page_takes_texts_of_at_most_4000_characters_as_the_import(ntm_set):
    criterion = Indicator.objects.filter(criterion__criteria_set=ntm_set).first().criterion
    too_long = "x" * 4001
    indicator = {"code": "9.9", "content": too_long, "guidance": too_long}
    indicator.update(value_type="yes_no", comparison="gte", to_confirm_note=too_long)

    forms = [
        IndicatorForm(indicator, criterion=criterion),
        ConditionForm({"code": "1", "text": too_long, "scope": "commune"}),
        TargetForm({"text": "Đạt", "to_confirm_note": too_long}, column=None),
    ]

    assert {"content", "guidance", "to_confirm_note"} <= set(forms[0].errors)
    assert "text" in forms[1].errors
    assert "to_confirm_note" in forms[2].errors
    assert IndicatorForm(
        {**indicator, "content": "x" * 4000, "guidance": "", "to_confirm_note": ""},
        criterion=criterion,
    ).is_valid()
