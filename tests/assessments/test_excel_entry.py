"""Offline entry: template round trip, preview, all-or-nothing apply, and bad uploads."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from assessments import services
from assessments.models import Change, IndicatorResult, State
from tests.conftest import POSTAL_ALL, indicator

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def scored(assessment, district_officer):
    services.save_entry(
        user=district_officer,
        assessment=assessment,
        indicator=indicator(assessment.criteria_set, "8.1"),
        entry=services.Entry(inputs=POSTAL_ALL, note="Bưu điện văn hóa xã"),
        seen_version=None,
    )
    assessment.refresh_from_db()
    return assessment


def template(client, assessment) -> bytes:
    district = assessment.commune.district
    response = client.get(
        reverse("assessments:excel_template", args=[district.pk]),
        {"period": assessment.period_id, "set": assessment.criteria_set_id},
    )
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def upload(client, assessment, content: bytes, name="mau.xlsx"):
    file = io.BytesIO(content)
    file.name = name
    district = assessment.commune.district
    return client.post(
        reverse("assessments:excel_upload", args=[district.pk]),
        {"period": assessment.period_id, "set": assessment.criteria_set_id, "workbook": file},
    )


def edit(content: bytes, change) -> bytes:
    wb = load_workbook(io.BytesIO(content))
    change(wb)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def column(ws, key: str) -> int:
    return next(c.column for c in ws[1] if c.value and str(c.value).split(":")[0] == key)


def test_template_is_prefilled_with_xa_villages_and_current_values(
    client, district_officer, scored, villages
):
    client.force_login(district_officer)

    wb = load_workbook(io.BytesIO(template(client, scored)))

    assert wb.sheetnames == ["Hướng dẫn", "Xã", "Thôn"]
    xa, thon = wb["Xã"], wb["Thôn"]
    assert xa["A2"].value == scored.commune.code and xa["A2"].number_format == "@"
    assert xa.cell(2, column(xa, "8.1/4")).value == "Có"
    assert xa.cell(2, column(xa, "8.1/ghi chú")).value == "Bưu điện văn hóa xã"
    assert sorted(r[3] for r in thon.iter_rows(min_row=2, values_only=True)) == sorted(
        v.name for v in villages
    )
    validations = [dv for dv in xa.data_validations.dataValidation if "Có" in dv.formula1]
    assert validations and validations[0].sqref


def test_unchanged_template_changes_nothing(client, district_officer, scored):
    client.force_login(district_officer)

    response = upload(client, scored, template(client, scored))

    assert 'data-testid="no-changes"' in response.content.decode()


def test_edited_template_previews_then_applies_once_with_history(
    client, district_officer, scored, villages
):
    client.force_login(district_officer)

    def change(wb):
        xa, thon = wb["Xã"], wb["Thôn"]
        xa.cell(2, column(xa, "8.1/4")).value = "Không"
        for row in range(2, 2 + len(villages)):
            for key in ("8.2/2", "8.2/3", "8.3/2"):
                thon.cell(row, column(thon, key)).value = "Có"
        xa.cell(2, column(xa, "8.3/1")).value = "Có"

    filled = edit(template(client, scored), change)
    preview = upload(client, scored, filled)

    plan = preview.context["plan"]
    assert {c.indicator.code for c in plan.changes} == {"8.1", "8.2", "8.3"}
    assert not IndicatorResult.objects.filter(assessment=scored, indicator__code="8.2").exists()

    response = client.post(reverse("assessments:excel_apply", args=[scored.commune.district_id]))

    assert response.status_code == 302
    results = {r.indicator.code: r for r in scored.results.select_related("indicator")}
    assert results["8.1"].is_met is False
    assert "Thời gian mở cửa" in results["8.1"].computed_reason
    assert results["8.2"].is_met is True and results["8.3"].is_met is True
    assert Change.objects.filter(assessment=scored, source="Tệp Excel mau.xlsx").exists()

    again = upload(client, scored, filled)
    assert 'data-testid="no-changes"' in again.content.decode()


def errors(response) -> str:
    return " ".join(response.context["form"].errors["workbook"])


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda wb: setattr(wb["Xã"].cell(2, 3), "value", "có lẽ"), "cột C"),
        (lambda wb: setattr(wb["Xã"]["A2"], "value", "99999"), "«99999» không phải là xã"),
        (lambda wb: setattr(wb["Xã"]["C1"], "value", "9.9: Chỉ tiêu lạ"), "không thuộc mẫu này"),
    ],
)
def test_bad_cells_are_named_by_sheet_row_and_column_and_nothing_changes(
    client, district_officer, scored, change, expected
):
    client.force_login(district_officer)
    before = list(IndicatorResult.objects.values_list("inputs", flat=True))

    response = upload(client, scored, edit(template(client, scored), change))

    assert "Trang tính «Xã», dòng" in errors(response)
    assert expected in errors(response)
    assert list(IndicatorResult.objects.values_list("inputs", flat=True)) == before


def test_another_districts_xa_in_the_file_is_refused(
    client, district_officer, scored, other_commune
):
    client.force_login(district_officer)

    def add_stranger(wb):
        wb["Xã"].append([other_commune.code, other_commune.name, "Có"])

    response = upload(client, scored, edit(template(client, scored), add_stranger))

    assert other_commune.code in errors(response)


def test_a_change_to_an_approved_assessment_is_refused(client, district_officer, user, scored):
    # Until issue 11 an untouched row of an approved assessment was refused too; now only a
    # row that would change something is (see test_excel_versions.py).
    from tests.assessments.test_workflow import complete

    complete(scored, district_officer)
    services.submit(user=district_officer, assessment=scored)
    services.approve(user=user, assessment=scored)
    client.force_login(district_officer)

    def change(wb):
        wb["Xã"].cell(2, column(wb["Xã"], "8.1/4")).value = "Không"

    response = upload(client, scored, edit(template(client, scored), change))

    assert "đã được duyệt và khóa" in errors(response)
    scored.refresh_from_db()
    assert scored.state == State.APPROVED


@pytest.mark.parametrize("kind", ["not-xlsx", "too-big", "zip-bomb"])
def test_bad_files_are_refused_before_parsing(client, district_officer, scored, settings, kind):
    client.force_login(district_officer)
    content = b"%PDF-1.4 not a workbook"
    if kind == "too-big":
        settings.UPLOAD_MAX_BYTES = 1000
        content = template(client, scored)
    if kind == "zip-bomb":
        settings.UPLOAD_MAX_UNCOMPRESSED_BYTES = 1024 * 1024
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("[Content_Types].xml", "<Types/>")
            archive.writestr("xl/workbook.xml", "<workbook/>")
            archive.writestr("xl/worksheets/sheet1.xml", b"0" * (4 * 1024 * 1024))
        content = buffer.getvalue()

    response = upload(client, scored, content)

    assert response.status_code == 200
    assert errors(response)
    assert response.context["plan"] is None


def test_changes_made_after_the_preview_stop_the_apply(client, district_officer, scored):
    client.force_login(district_officer)

    def change(wb):
        wb["Xã"].cell(2, column(wb["Xã"], "8.1/4")).value = "Không"

    upload(client, scored, edit(template(client, scored), change))
    services.save_entry(
        user=district_officer,
        assessment=scored,
        indicator=indicator(scored.criteria_set, "8.1"),
        entry=services.Entry(inputs=POSTAL_ALL, note="Sửa trên web"),
        seen_version=None,
    )

    response = client.post(
        reverse("assessments:excel_apply", args=[scored.commune.district_id]), follow=True
    )

    assert "Chưa lưu gì" in response.content.decode()
    assert IndicatorResult.objects.get(assessment=scored, indicator__code="8.1").is_met is True


def test_template_and_upload_are_for_the_districts_own_officers(
    client, other_district_officer, district_viewer, scored
):
    district = scored.commune.district
    params = {"period": scored.period_id, "set": scored.criteria_set_id}
    client.force_login(other_district_officer)
    assert (
        client.get(reverse("assessments:excel_template", args=[district.pk]), params).status_code
        == 404
    )
    client.force_login(district_viewer)
    assert (
        client.get(reverse("assessments:excel_template", args=[district.pk]), params).status_code
        == 403
    )


# ---------------------------------------------------------------- what an upload keeps

FIELDS = (
    "inputs",
    "note",
    "override_met",
    "override_reason",
    "no_evidence_explanation",
    "is_met",
    "computed_reason",
)
HOSTILE_NOTE = '=HYPERLINK("http://evil.example","bấm")\r\nDòng hai\t@SUM(A1) _x000D_ -1'


@pytest.fixture
def full_entry(assessment, district_officer, villages):
    """Every indicator entered, with every field the form can set, in the forms the form saves:
    numbers as "85.50", answers left out, a note with a formula and a Windows line break."""
    first, second, *_rest = [str(v.pk) for v in villages]
    entries = {
        "8.1": services.Entry(
            inputs=POSTAL_ALL, note=HOSTILE_NOTE, no_evidence_explanation="Chờ văn bản"
        ),
        "8.2": services.Entry(
            inputs={
                "conditions": {},
                "villages": {first: {"1": True, "2": True, "3": True, "4": False}, second: {}},
            },
            override_met=True,
            override_reason="Đã kiểm tra thực tế",
        ),
        "8.3": services.Entry(
            inputs={"conditions": {"1": True}, "villages": {first: {"2": None}}},
            note="+84 912 345 678",
        ),
        "8.4": services.Entry(
            inputs={"conditions": {"1": "85.50", "2": True, "3": False, "5": "60.00"}},
            override_met=False,
            override_reason="=1+1 là lý do",
            no_evidence_explanation="@ xã chưa gửi",
        ),
    }
    for code, entry in entries.items():
        services.save_entry(
            user=district_officer,
            assessment=assessment,
            indicator=indicator(assessment.criteria_set, code),
            entry=entry,
            seen_version=None,
        )
    assessment.refresh_from_db()
    return assessment


def saved(assessment) -> dict:
    return {
        r.indicator.code: {name: getattr(r, name) for name in FIELDS}
        for r in assessment.results.select_related("indicator")
    }


def apply(client, assessment):
    response = client.post(
        reverse("assessments:excel_apply", args=[assessment.commune.district_id])
    )
    assert response.status_code == 302
    return response


def test_untouched_template_uploaded_and_applied_changes_nothing_at_all(
    client, district_officer, full_entry
):
    client.force_login(district_officer)
    before, version = saved(full_entry), full_entry.version
    history = Change.objects.filter(assessment=full_entry).count()

    preview = upload(client, full_entry, template(client, full_entry))
    apply(client, full_entry)

    assert preview.context["plan"].changes == []
    full_entry.refresh_from_db()
    assert full_entry.version == version
    assert Change.objects.filter(assessment=full_entry).count() == history
    assert saved(full_entry) == before


@pytest.mark.parametrize(
    ("code", "field"),
    [
        ("8.4", "override_met"),
        ("8.4", "override_reason"),
        ("8.1", "no_evidence_explanation"),
    ],
)
def test_a_field_the_file_does_not_hold_survives_a_changed_note(
    client, district_officer, full_entry, code, field
):
    client.force_login(district_officer)
    kept = saved(full_entry)[code][field]

    def change(wb):
        wb["Xã"].cell(2, column(wb["Xã"], f"{code}/ghi chú")).value = "Ghi chú mới"

    upload(client, full_entry, edit(template(client, full_entry), change))
    apply(client, full_entry)

    after = saved(full_entry)[code]
    assert after["note"] == "Ghi chú mới"  # the upload was applied
    assert after[field] == kept


def test_the_note_survives_a_changed_answer_exactly(client, district_officer, full_entry):
    client.force_login(district_officer)

    def change(wb):
        wb["Xã"].cell(2, column(wb["Xã"], "8.1/4")).value = "Không"

    upload(client, full_entry, edit(template(client, full_entry), change))
    apply(client, full_entry)

    after = saved(full_entry)["8.1"]
    assert after["inputs"]["conditions"]["4"] is False  # the upload was applied
    assert after["note"] == HOSTILE_NOTE


def test_the_inputs_survive_a_changed_note_exactly(client, district_officer, full_entry):
    client.force_login(district_officer)
    inputs = {code: fields["inputs"] for code, fields in saved(full_entry).items()}

    def change(wb):
        for code in ("8.2", "8.3", "8.4"):
            wb["Xã"].cell(2, column(wb["Xã"], f"{code}/ghi chú")).value = "Đã xem lại"

    upload(client, full_entry, edit(template(client, full_entry), change))
    apply(client, full_entry)

    after = saved(full_entry)
    assert {code: after[code]["note"] for code in ("8.2", "8.3", "8.4")} == dict.fromkeys(
        ("8.2", "8.3", "8.4"), "Đã xem lại"
    )
    assert {code: fields["inputs"] for code, fields in after.items()} == inputs


def test_a_changed_number_replaces_the_saved_one_and_an_equal_one_keeps_its_form(
    client, district_officer, full_entry
):
    client.force_login(district_officer)

    def change(wb):
        xa = wb["Xã"]
        xa.cell(2, column(xa, "8.4/1")).value = 90
        xa.cell(2, column(xa, "8.4/5")).value = "60,0"

    upload(client, full_entry, edit(template(client, full_entry), change))
    apply(client, full_entry)

    conditions = saved(full_entry)["8.4"]["inputs"]["conditions"]
    assert conditions["1"] == "90"
    assert conditions["5"] == "60.00"


# ---------------------------------------------------------------- blank is "not entered"


def test_a_blank_cell_is_not_entered_never_no(client, district_officer, full_entry, villages):
    client.force_login(district_officer)
    first = str(villages[0].pk)

    def change(wb):
        xa, thon = wb["Xã"], wb["Thôn"]
        xa.cell(2, column(xa, "8.1/4")).value = None
        row = next(r[0].row for r in thon.iter_rows(min_row=2) if str(r[2].value) == first)
        thon.cell(row, column(thon, "8.2/4")).value = None

    upload(client, full_entry, edit(template(client, full_entry), change))
    apply(client, full_entry)

    after = saved(full_entry)
    assert "4" not in after["8.1"]["inputs"]["conditions"]
    assert after["8.1"]["is_met"] is None  # undecided, not failed
    assert after["8.2"]["inputs"]["villages"][first] == {"1": True, "2": True, "3": True}


def test_a_blank_cell_of_an_answer_never_entered_changes_nothing(
    client, district_officer, full_entry
):
    client.force_login(district_officer)
    before = saved(full_entry)

    def change(wb):
        wb["Xã"].cell(2, column(wb["Xã"], "8.4/4")).value = None  # was never entered

    preview = upload(client, full_entry, edit(template(client, full_entry), change))

    assert preview.context["plan"].changes == []
    assert saved(full_entry) == before


# ---------------------------------------------------------------- impossible numbers


@pytest.mark.parametrize(
    ("cell", "value", "words"),
    [
        ("8.4/1", 150, "150"),
        ("8.4/5", -5, "-5"),
        ("8.4/1", "nhiều", "nhiều"),
    ],
)
def test_an_impossible_share_is_named_by_sheet_row_and_column_and_nothing_is_saved(
    client, district_officer, full_entry, cell, value, words
):
    client.force_login(district_officer)
    before = saved(full_entry)
    letters = {}

    def change(wb):
        xa = wb["Xã"]
        letters["bad"] = xa.cell(1, column(xa, cell)).column_letter
        xa.cell(2, column(xa, cell)).value = value
        xa.cell(2, column(xa, "8.1/4")).value = "Không"  # a good change in the same file

    response = upload(client, full_entry, edit(template(client, full_entry), change))

    message = next(e for e in response.context["form"].errors["workbook"] if words in e)
    assert message.startswith(f"Trang tính «Xã», dòng 2, cột {letters['bad']}:")
    assert response.context["plan"] is None
    assert saved(full_entry) == before


def test_a_negative_count_is_refused(client, district_officer, full_entry):
    from criteria.models import Condition

    Condition.objects.filter(indicator__code="8.4", code="1").update(text="Số máy tính của xã")
    client.force_login(district_officer)

    def change(wb):
        wb["Xã"].cell(2, column(wb["Xã"], "8.4/1")).value = -3

    response = upload(client, full_entry, edit(template(client, full_entry), change))

    messages = response.context["form"].errors["workbook"]
    assert any(e.startswith("Trang tính «Xã», dòng 2, cột") and "-3" in e for e in messages)
    assert response.context["plan"] is None


def test_template_checks_shares_while_typing(client, district_officer, full_entry):
    client.force_login(district_officer)

    xa = load_workbook(io.BytesIO(template(client, full_entry)))["Xã"]

    letter = xa.cell(1, column(xa, "8.4/1")).column_letter
    shares = [dv for dv in xa.data_validations.dataValidation if dv.type == "decimal"]
    assert [(dv.operator, dv.formula1, dv.formula2) for dv in shares] == [("between", "0", "100")]
    assert f"{letter}2" in shares[0].sqref


# ---------------------------------------------------------------- the template's columns


def header_of(content: bytes, sheet: str, key: str) -> tuple[str, str]:
    """(header text, letter) of a template column, as downloaded."""
    ws = load_workbook(io.BytesIO(content))[sheet]
    index = column(ws, key)
    return str(ws.cell(1, index).value), ws.cell(1, index).column_letter


@pytest.mark.parametrize(
    ("sheet", "key"), [("Xã", "8.1/4"), ("Xã", "8.1/ghi chú"), ("Thôn", "8.2/2")]
)
def test_a_deleted_column_is_an_error_naming_it_and_nothing_is_saved(
    client, district_officer, scored, villages, sheet, key
):
    # A UX walkthrough: a file with an indicator column deleted was taken as "nothing new",
    # with that column's answers silently not read.
    client.force_login(district_officer)
    content = template(client, scored)
    header, letter = header_of(content, sheet, key)

    def delete(wb):
        ws = wb[sheet]
        ws.delete_cols(column(ws, key))
        if sheet == "Xã":  # a change elsewhere in the row, which must not be saved either
            ws.cell(2, column(ws, "8.3/1")).value = "Có"

    before = list(IndicatorResult.objects.values_list("inputs", "note"))
    response = upload(client, scored, edit(content, delete))

    assert response.status_code == 200
    assert response.context["plan"] is None
    message = errors(response)
    assert f"Trang tính «{sheet}», dòng 1" in message
    assert f"thiếu cột «{header}»" in message
    assert f"cột {letter} của mẫu" in message
    assert 'data-testid="no-changes"' not in response.content.decode()
    assert 'name="workbook"' in response.content.decode()  # the form, to upload again
    assert list(IndicatorResult.objects.values_list("inputs", "note")) == before
    assert client.session.get("excel_entry") is None


def test_a_duplicated_column_is_an_error_naming_both_places(client, district_officer, scored):
    client.force_login(district_officer)
    content = template(client, scored)
    header, letter = header_of(content, "Xã", "8.1/4")

    def duplicate(wb):
        ws = wb["Xã"]
        ws.cell(1, column(ws, "8.3/1")).value = header  # 8.3/1 renamed as 8.1/4

    response = upload(client, scored, edit(content, duplicate))

    message = errors(response)
    assert f"cột «{header}» có hai lần" in message
    assert letter in message
    assert "thiếu cột «8.3/1" in message
    assert response.context["plan"] is None


def test_a_renamed_column_is_unknown_and_the_template_column_missing(
    client, district_officer, scored
):
    client.force_login(district_officer)
    content = template(client, scored)
    header, letter = header_of(content, "Xã", "8.1/4")

    def rename(wb):
        wb["Xã"][f"{letter}1"].value = "Thời gian mở cửa"

    response = upload(client, scored, edit(content, rename))

    message = errors(response)
    assert "cột «Thời gian mở cửa» không thuộc mẫu này" in message
    assert f"thiếu cột «{header}» (cột {letter} của mẫu)" in message


def test_the_no_changes_page_offers_the_upload_again_and_the_way_back(
    client, district_officer, scored
):
    client.force_login(district_officer)

    page = upload(client, scored, template(client, scored)).content.decode()

    assert 'data-testid="no-changes"' in page
    assert 'name="workbook"' in page
    assert reverse("assessments:worklist") in page.split('data-testid="no-changes"')[1]
