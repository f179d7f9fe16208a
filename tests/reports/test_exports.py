"""The meeting workbook, read back with openpyxl and compared with the dashboard."""

from __future__ import annotations

import io
from urllib.parse import unquote

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from reports.exports import TITLE_ROWS, summary_values, summary_widths

pytestmark = pytest.mark.django_db


def download(client, url, **params):
    response = client.get(url, params)
    assert response.status_code == 200
    return response, load_workbook(io.BytesIO(b"".join(response.streaming_content)))


def plain(value):
    return float(value) if hasattr(value, "as_tuple") else value


def test_summary_sheet_equals_the_dashboard_cell_for_cell(client, user, hand_built):
    client.force_login(user)
    params = {"period": hand_built["p2025"].pk, "submitted": "on"}
    report = client.get(reverse("reports:province"), params).context["report"]

    response, wb = download(client, reverse("reports:province_export"), **params)

    assert wb.sheetnames == ["Tổng hợp", "Chi tiết", "Danh sách chưa đạt"]
    sheet = wb["Tổng hợp"]
    rows = list(sheet.iter_rows(min_row=TITLE_ROWS + 2, values_only=True))
    expected = [summary_values(r) for r in [*report.rows, report.total]]
    assert [list(r) for r in rows[: len(expected)]] == [[plain(v) for v in e] for e in expected]
    disposition = unquote(response["Content-Disposition"])
    assert "Báo cáo tiêu chí 8 - Tỉnh Lạng Sơn - Năm 2025" in disposition


def test_workbook_is_formatted_for_printing(client, user, hand_built):
    client.force_login(user)

    _response, wb = download(
        client, reverse("reports:province_export"), period=hand_built["p2025"].pk
    )

    for sheet in wb.worksheets:
        assert sheet.page_setup.orientation == "landscape"
        assert int(sheet.page_setup.paperSize) == int(sheet.PAPERSIZE_A4)
        assert sheet.page_setup.fitToWidth == 1
        assert sheet.print_title_rows == f"${TITLE_ROWS + 1}:${TITLE_ROWS + 1}"
        assert sheet.freeze_panes is not None
        assert "&P" in sheet.oddFooter.center.text
    summary = wb["Tổng hợp"]
    assert summary["A1"].value.startswith("UBND")
    right_half = len(summary_widths(4)) // 2 + 1
    assert summary.cell(1, right_half).value == "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    assert summary.cell(2, right_half).value == "Độc lập - Tự do - Hạnh phúc"
    assert summary["A1"].font.name == "Times New Roman"


def test_detail_sheet_keeps_codes_and_user_text_as_text(client, user, hand_built):
    from assessments.models import Commune

    Commune.objects.filter(pk=hand_built["x1"].pk).update(code="06001")
    client.force_login(user)

    _response, wb = download(
        client, reverse("reports:province_export"), period=hand_built["p2025"].pk
    )

    detail = wb["Chi tiết"]
    codes = [row[0] for row in detail.iter_rows(min_row=TITLE_ROWS + 2, values_only=True)]
    assert "06001" in codes
    cell = next(c for c in detail["A"] if c.value == "06001")
    assert cell.data_type == "s"
    overridden = next(
        row for row in detail.iter_rows(min_row=TITLE_ROWS + 2) if row[1].value == "Xã Ba"
    )
    assert overridden[6].value == "Chưa đạt *"
    assert overridden[6].fill.fgColor.rgb.endswith("FFC7CE")
    gaps = wb["Danh sách chưa đạt"]
    reason = next(c for c in gaps["E"] if c.value and str(c.value).startswith("="))
    assert reason.value == "=Điểm bưu chính đóng cửa" and reason.data_type == "s"


def test_district_export_holds_only_its_district(client, district_officer, hand_built):
    client.force_login(district_officer)
    district = hand_built["x1"].district

    _response, wb = download(
        client,
        reverse("reports:district_export", args=[district.pk]),
        period=hand_built["p2025"].pk,
    )

    names = [row[1] for row in wb["Chi tiết"].iter_rows(min_row=TITLE_ROWS + 2, values_only=True)]
    assert sorted(names) == ["Xã Ba", "Xã Bốn", "Xã Hai", "Xã Một"]


@pytest.mark.parametrize("submitted", [False, True])
def test_the_detail_sheet_gives_verdicts_only_for_the_results_it_counts(
    client, user, hand_built, submitted
):
    """The sheet's heading says which results count (approved; with the switch, also those sent
    to the province): a returned or a draft file's "Đạt" must not read as counted in a meeting.
    Its state still shows; its verdicts stay empty."""
    client.force_login(user)
    params = {"period": hand_built["p2025"].pk, **({"submitted": "on"} if submitted else {})}

    _response, wb = download(client, reverse("reports:province_export"), **params)

    rows = {
        row[1]: row
        for row in wb["Chi tiết"].iter_rows(min_row=TITLE_ROWS + 2, values_only=True)
        if row[1]
    }
    approved, returned, sent = rows["Xã Một"], rows["Xã Bốn"], rows["Xã Sáu"]
    assert approved[5] == "Đã duyệt" and approved[6] == "Đạt"
    assert returned[5] == "Bị trả lại"
    assert all(value in (None, "") for value in returned[6:11])  # four indicators + criterion
    assert sent[5] == "Đã gửi tỉnh"
    if submitted:
        assert sent[6] in ("Đạt", "Chưa đạt", "Đạt *", "Chưa đạt *")
    else:
        assert all(value in (None, "") for value in sent[6:11])
