from __future__ import annotations

import io
import zipfile
from urllib.parse import unquote

import pytest
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from criteria.models import CriteriaSet, Indicator
from criteria.specs import spec_from_set
from criteria.workbooks import ROWS_SHEET, export_workbook
from tests.conftest import province_copy

pytestmark = pytest.mark.django_db


def exported(criteria_set: CriteriaSet) -> bytes:
    return export_workbook(spec_from_set(criteria_set))


def edited(content: bytes, edit) -> io.BytesIO:
    wb = load_workbook(io.BytesIO(content))
    edit(wb)
    out = io.BytesIO()
    wb.save(out)
    out.seek(0)
    out.name = "bo-tieu-chi.xlsx"
    return out


def upload(client, file) -> object:
    return client.post(reverse("criteria:set_import"), {"workbook": file})


def as_upload(content: bytes, name: str = "bo-tieu-chi.xlsx") -> io.BytesIO:
    file = io.BytesIO(content)
    file.name = name
    return file


def row_of(wb, code: str) -> int:
    sheet = wb[ROWS_SHEET]
    for row in sheet.iter_rows(min_row=2):
        if row[0].value == "Chỉ tiêu" and row[1].value == code:
            return row[0].row
    raise AssertionError(code)


def test_export_download_is_a_workbook_named_in_vietnamese(client, user, ntm_set):
    client.force_login(user)

    response = client.get(reverse("criteria:set_export", args=[ntm_set.pk]))

    assert response.status_code == 200
    disposition = unquote(response["Content-Disposition"])
    assert disposition.startswith("attachment; filename*=utf-8''Bộ tiêu chí xa-ntm-2021-2025")
    assert disposition.endswith(".xlsx")
    wb = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert wb.sheetnames == ["Bộ tiêu chí", "Nhóm xã", "Chỉ tiêu"]
    sheet = wb[ROWS_SHEET]
    assert sheet.freeze_panes == "A2"
    row = row_of(wb, "8.1")
    assert sheet.cell(row, 3).value == "Xã có điểm phục vụ bưu chính"
    assert sheet.cell(1, 15).value == "Mục tiêu chung"  # after the 14 columns of the rows
    assert sheet.cell(1, 16).value == "Trung du và miền núi phía Bắc"


@pytest.mark.parametrize(
    "code", ["xa-ntm-2021-2025", "xa-ntm-nang-cao-2021-2025", "xa-ntm-2026-2030"]
)
def test_export_then_import_gives_an_identical_set(client, manager, shipped_sets, code):
    original = shipped_sets[code]
    spec_before = spec_from_set(original)
    content = exported(original)
    original.delete()
    client.force_login(manager)

    response = upload(client, as_upload(content))

    assert response.status_code == 302
    imported = CriteriaSet.objects.get(code=code)
    assert imported.status == CriteriaSet.Status.DRAFT  # uploads arrive as drafts
    spec_after = spec_from_set(imported)
    spec_before.pop("status"), spec_after.pop("status")
    assert spec_after == spec_before


def test_importing_the_unchanged_workbook_of_an_active_set_changes_nothing(
    client, operator, ntm_set
):
    client.force_login(operator)
    stamp = ntm_set.updated_at

    response = upload(client, as_upload(exported(ntm_set)))

    assert response.status_code == 302
    ntm_set.refresh_from_db()
    assert ntm_set.updated_at == stamp
    assert ntm_set.status == CriteriaSet.Status.ACTIVE


def test_changed_workbook_for_an_active_set_is_refused(client, operator, ntm_set):
    client.force_login(operator)

    def rename(wb):
        wb[ROWS_SHEET].cell(row_of(wb, "8.1"), 3).value = "Tên mới"

    response = upload(client, edited(exported(ntm_set), rename))

    assert response.status_code == 200
    assert "không thể thay đổi" in response.content.decode()
    assert not Indicator.objects.filter(content="Tên mới").exists()


def errors_of(response) -> list[str]:
    return response.context["form"].errors["workbook"]


def test_wrong_headers_are_named(client, manager, ntm_set):
    client.force_login(manager)

    def swap(wb):
        wb[ROWS_SHEET].cell(1, 2).value = "Mã số"

    response = upload(client, edited(exported(ntm_set), swap))

    assert response.status_code == 200
    assert any("dòng 1" in e and "Số / mã" in e for e in errors_of(response))


def test_unknown_region_code_twice_and_empty_cells_are_all_listed_by_row(client, manager, ntm_set):
    client.force_login(manager)
    sets_before = list(CriteriaSet.objects.values_list("code", "version", "status"))
    rows = {}

    def break_it(wb):
        wb["Bộ tiêu chí"]["B2"].value = "tinh-lang-son-2025"  # a new set, so nothing is locked
        sheet = wb[ROWS_SHEET]
        sheet.cell(1, 17).value = "Vùng Sao Hỏa"
        rows["dup"] = row_of(wb, "8.2")
        sheet.cell(rows["dup"], 2).value = "8.1"
        rows["empty"] = row_of(wb, "8.3")
        sheet.cell(rows["empty"], 3).value = None
        rows["type"] = row_of(wb, "8.4")
        sheet.cell(rows["type"], 6).value = "Không rõ"

    response = upload(client, edited(exported(ntm_set), break_it))

    errors = errors_of(response)
    assert response.status_code == 200
    assert any("dòng 1" in e and "Vùng Sao Hỏa" in e for e in errors)
    assert any(f"dòng {rows['dup']}" in e and "8.1" in e and "hai lần" in e for e in errors)
    assert any(f"dòng {rows['empty']}" in e and "không được để trống" in e for e in errors)
    assert any(f"dòng {rows['type']}" in e and "Kiểu giá trị" in e for e in errors)
    assert list(CriteriaSet.objects.values_list("code", "version", "status")) == sets_before


def test_missing_required_detail_is_refused(client, manager, ntm_set):
    client.force_login(manager)

    def no_name(wb):
        wb["Bộ tiêu chí"]["B4"].value = None

    response = upload(client, edited(exported(ntm_set), no_name))

    assert any("dòng 4" in e and "Tên bộ tiêu chí" in e for e in errors_of(response))


def test_a_file_that_is_not_xlsx_is_refused_before_parsing(client, manager, ntm_set):
    client.force_login(manager)
    count = CriteriaSet.objects.count()

    response = upload(client, as_upload(b"%PDF-1.4 not a workbook", "bo-tieu-chi.xlsx"))

    assert "không phải là sổ tính Excel" in " ".join(errors_of(response))
    assert CriteriaSet.objects.count() == count


def test_an_oversized_upload_is_refused(client, manager, ntm_set, settings):
    settings.UPLOAD_MAX_BYTES = 1000
    client.force_login(manager)

    response = upload(client, as_upload(exported(ntm_set)))

    assert "giới hạn" in " ".join(errors_of(response))


def test_a_zip_bomb_is_refused_by_its_unpacked_size(client, manager, db, settings):
    settings.UPLOAD_MAX_UNCOMPRESSED_BYTES = 1024 * 1024
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * (5 * 1024 * 1024))
    client.force_login(manager)

    response = upload(client, as_upload(buffer.getvalue()))

    assert "khi giải nén" in " ".join(errors_of(response))


def test_a_province_can_define_its_own_set_in_a_blank_workbook(client, manager, db):
    from django.core.management import call_command

    call_command("load_criteria", verbosity=0)
    wb = Workbook()
    meta = wb.active
    meta.title = "Bộ tiêu chí"
    for row in [
        ("Trường", "Giá trị"),
        ("Mã bộ tiêu chí", "thon-kieu-mau-ls"),
        ("Tên bộ tiêu chí", "Thôn thông minh Lạng Sơn"),
        ("Loại", "Thôn, khu dân cư kiểu mẫu"),
        ("Từ năm", 2025),
        ("Đến năm", 2026),
        ("Ngày ban hành", "15/01/2025"),
    ]:
        meta.append(row)
    sheet = wb.create_sheet("Chỉ tiêu")
    sheet.append(
        ["Loại dòng", "Số / mã", "Tên / nội dung", "Hướng dẫn đánh giá", "Hồ sơ minh chứng"]
        + ["Kiểu giá trị", "Đơn vị", "So sánh", "Đánh giá cho", "Nhóm lựa chọn", "Ngưỡng"]
        + ["Cần xác nhận", "Nội dung cần xác nhận", "Mục tiêu chung"]
    )
    sheet.append(["Nhóm tiêu chí", "I", "Chuyển đổi số"])
    sheet.append(["Tiêu chí", 1, "Thôn thông minh"])
    sheet.append(
        ["Chỉ tiêu", "1.1", "Có Wi-Fi miễn phí tại nhà văn hóa"]
        + [None] * 2
        + ["Có/Không"]
        + [None] * 7
        + ["Đạt"]
    )
    out = io.BytesIO()
    wb.save(out)
    client.force_login(manager)

    response = upload(client, as_upload(out.getvalue()))

    assert response.status_code == 302
    created = CriteriaSet.objects.get(code="thon-kieu-mau-ls")
    assert created.kind == CriteriaSet.Kind.VILLAGE
    assert created.legal_date.isoformat() == "2025-01-15"
    indicator = Indicator.objects.get(criterion__criteria_set=created)
    assert indicator.value_type == Indicator.ValueType.YES_NO
    assert indicator.targets.get().text == "Đạt"


def test_the_round_trip_keeps_sources_marks_definitions_and_the_special_rule(
    client, manager, shipped_sets
):
    """Every new field, checked by name: an equal spec could hide a field both sides drop."""
    ntm = shipped_sets["xa-ntm-2021-2025"]
    groups = shipped_sets["xa-ntm-2026-2030"]
    contents = {cs.code: exported(cs) for cs in (ntm, groups)}
    CriteriaSet.objects.filter(code__in=contents).delete()
    client.force_login(manager)

    for content in contents.values():
        assert upload(client, as_upload(content)).status_code == 302

    ntm = CriteriaSet.objects.get(code="xa-ntm-2021-2025")
    assert ntm.special_region.code == "trung-du-mien-nui-phia-bac"
    assert ntm.special_region_flags == ["is_extremely_difficult", "is_safe_zone_poor"]
    assert ntm.special_region_basis.startswith("QĐ 318/QĐ-TTg (2022)")
    postal = Indicator.objects.get(criterion__criteria_set=ntm, code="8.1")
    assert postal.source == "QĐ 318/QĐ-TTg (2022), Phụ lục I"
    assert postal.conditions.get(code="4").source == "QĐ 1127/QĐ-BTTTT (2022)"
    north = postal.targets.get(region__code="trung-du-mien-nui-phia-bac")
    assert north.to_confirm and north.to_confirm_note.startswith("Mức “Đạt” theo từng vùng")
    assert postal.targets.get(region=None).source == "QĐ 318/QĐ-TTg (2022), Phụ lục I"
    groups = CriteriaSet.objects.get(code="xa-ntm-2026-2030")
    assert groups.to_confirm and "Phụ lục I" in groups.to_confirm_note
    assert groups.commune_groups.get(code="nhom-2").definition == "xã không thuộc nhóm 1 và nhóm 3"
    criterion_7 = groups.criteria.get(number=7)
    assert criterion_7.to_confirm and criterion_7.to_confirm_note


def test_a_province_completes_the_2026_draft_in_excel_with_targets_per_group(
    client, manager, shipped_sets
):
    """Its own copy of the national draft: the workbook carries the copy's code."""
    draft = province_copy(shipped_sets["xa-ntm-2026-2030"], manager)
    client.force_login(manager)

    def fill(wb):
        sheet = wb[ROWS_SHEET]
        header = [c.value for c in sheet[1]]
        criterion_7 = next(
            r[0].row
            for r in sheet.iter_rows(min_row=2)
            if r[0].value == "Tiêu chí" and r[1].value == 7
        )
        sheet.insert_rows(criterion_7 + 1, 4)

        def put(row, **cells):
            for name, value in cells.items():
                sheet.cell(row, header.index(name) + 1).value = value

        put(
            criterion_7 + 1,
            **{
                "Loại dòng": "Chỉ tiêu",
                "Số / mã": "7.1",
                "Tên / nội dung": "Tỷ lệ hồ sơ xử lý trên môi trường mạng",
                "Kiểu giá trị": "Tỷ lệ %",
                "Đơn vị": "%",
                "Nguồn": "QĐ 51/2025/QĐ-TTg, Phụ lục I",
                "Nhóm 1": 90,
                "Nhóm 2": 80,
                "Nhóm 3": 70,
            },
        )
        put(
            criterion_7 + 2,
            **{"Loại dòng": "Nguồn mục tiêu", "Số / mã": "7.1", "Nhóm 3": "Hướng dẫn của tỉnh"},
        )
        put(
            criterion_7 + 3,
            **{"Loại dòng": "Mục tiêu cần xác nhận", "Số / mã": "7.1", "Nhóm 3": "Chờ văn bản"},
        )

    response = upload(client, edited(exported(draft), fill))

    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == CriteriaSet.Status.DRAFT
    indicator = Indicator.objects.get(criterion__criteria_set=draft, code="7.1")
    assert indicator.source == "QĐ 51/2025/QĐ-TTg, Phụ lục I"
    targets = {t.commune_group.code: t for t in indicator.targets.select_related("commune_group")}
    assert {code: t.threshold for code, t in targets.items()} == {
        "nhom-1": 90,
        "nhom-2": 80,
        "nhom-3": 70,
    }
    assert (targets["nhom-3"].source, targets["nhom-3"].to_confirm_note) == (
        "Hướng dẫn của tỉnh",
        "Chờ văn bản",
    )
    assert not targets["nhom-1"].to_confirm


def test_a_source_or_mark_for_a_target_that_does_not_exist_is_named(client, manager, ntm_set):
    client.force_login(manager)
    rows = {}

    def break_it(wb):
        wb["Bộ tiêu chí"]["B2"].value = "tinh-lang-son-2025"
        sheet = wb[ROWS_SHEET]
        rows["under"] = row_of(wb, "8.4") + 1
        sheet.insert_rows(rows["under"])
        sheet.cell(rows["under"], 1).value = "Mục tiêu cần xác nhận"
        sheet.cell(rows["under"], 2).value = "8.4"
        sheet.cell(rows["under"], 3).value = None
        for column in range(15, sheet.max_column + 1):
            sheet.cell(rows["under"], column).value = None
        sheet.cell(rows["under"], 16).value = "Có"  # a region this indicator has a target for
        row_84 = rows["under"] - 1
        sheet.cell(row_84, 17).value = None  # but not this one any more
        sheet.cell(rows["under"], 17).value = "Có"

    response = upload(client, edited(exported(ntm_set), break_it))

    errors = errors_of(response)
    assert any(f"dòng {rows['under']}" in e and "Đồng bằng sông Hồng" in e for e in errors), errors


def test_an_unknown_commune_flag_in_the_special_rule_is_named(client, manager, ntm_set):
    client.force_login(manager)

    def break_it(wb):
        meta = wb["Bộ tiêu chí"]
        meta["B2"].value = "tinh-lang-son-2025"
        for row in meta.iter_rows(min_row=2):
            if row[0].value == "Quy tắc đặc biệt: xã thuộc diện":
                row[1].value = "Xã đặc biệt khó khăn; Xã trên sao Hỏa"

    response = upload(client, edited(exported(ntm_set), break_it))

    assert any("Xã trên sao Hỏa" in e for e in errors_of(response))
    assert not CriteriaSet.objects.filter(code="tinh-lang-son-2025").exists()


def test_hostile_text_goes_out_as_text_and_comes_back_verbatim(client, manager, ntm_set):
    hostile = {
        "content": '=HYPERLINK("http://evil.example","Bấm vào đây")',
        "guidance": "Dòng một\r\nDòng hai\r\n=1+1",
        "evidence_expected": "@SUM(A1:A2) _x000D_ và \x0b từ Word",
    }
    Indicator.objects.filter(criterion__criteria_set=ntm_set, code="8.1").update(**hostile)
    CriteriaSet.objects.filter(pk=ntm_set.pk).update(legal_title="-1+1", notes="#N/A")
    ntm_set.refresh_from_db()
    spec_before = spec_from_set(ntm_set)
    content = exported(ntm_set)
    ntm_set.delete()
    client.force_login(manager)

    wb = load_workbook(io.BytesIO(content))
    assert not [c for ws in wb for row in ws.iter_rows() for c in row if c.data_type == "f"]
    response = upload(client, as_upload(content))

    assert response.status_code == 302
    spec_after = spec_from_set(CriteriaSet.objects.get(code=spec_before["code"]))
    spec_before.pop("status"), spec_after.pop("status")
    assert spec_after == spec_before
