"""A post-reform commune from start to finish in a real browser: the province administrator opens
a 2026 period on the demo set, the commune officer scores and submits straight to the province,
the Sở KH&CN reviewer returns it with a reason, the officer fixes and resubmits, the reviewer
approves, and the 2026 dashboard (grouped by commune group) agrees with its workbook."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from django.core.management import call_command
from openpyxl import load_workbook
from playwright.sync_api import expect

from assessments.models import Assessment, Commune, CommuneGroupAssignment, State, Village
from assessments.seeding import DEMO_LABEL, demo_copy_of_2026_set

from .conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "ntm-demo-2025"


@pytest.fixture
def two_tier(settings, tmp_path):
    settings.DEBUG = True
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("load_criteria", verbosity=0)
    call_command("import_units", "--region", "trung-du-mien-nui-phia-bac", verbosity=0)
    call_command("apply_reorganisation", verbosity=0)
    call_command("create_demo_accounts", verbosity=0)
    settings.DEBUG = False
    demo_set = demo_copy_of_2026_set()
    loc_binh = Commune.objects.current().get(code="06529")  # Xã Lộc Bình, from 01/07/2025
    for name in ("Bản Chắt", "Nà Mạ", "Pò Lọi"):
        Village.objects.create(commune=loc_binh, name=name)
    CommuneGroupAssignment.objects.create(
        commune=loc_binh, set_code=demo_set.code, group_code="nhom-2"
    )
    return loc_binh, demo_set


def shot(page, name):
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        page.screenshot(path=f"{folder}/{name}.png", full_page=True)


def save(page, code):
    page.get_by_role("button", name=f"Lưu chỉ tiêu {code}").click()
    expect(page.get_by_text(f"Đã lưu chỉ tiêu {code}.")).to_be_visible()


def answer_everything_yes(form):
    for radio in form.locator('input[type="radio"][value="yes"]').all():
        radio.check()
    for cell in form.locator("table.village-grid select").all():
        cell.select_option("yes")
    for share in form.locator('input[type="number"], input[inputmode="decimal"]').all():
        share.fill("95")


def test_a_new_commune_goes_from_a_new_period_to_approval_and_the_dashboard(
    page, live_server, two_tier, tmp_path
):
    commune, demo_set = two_tier
    pdf = tmp_path / "bien-ban.pdf"
    pdf.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")

    # 1. The province administrator opens a 2026 period on the demo set.
    log_in(page, live_server, "tinh-admin", PASSWORD)
    page.get_by_role("navigation").get_by_role("link", name="Kỳ đánh giá").click()
    page.locator('input[name="name"]').fill("Năm 2026")
    page.locator('input[name="year"]').fill("2026")
    page.get_by_label(demo_set.name).check()
    page.locator('input[name="reference_date"]').fill("01/03/2026")
    page.locator('input[name="opens_on"]').fill("01/01/2026")
    page.locator('input[name="closes_on"]').fill("31/12/2026")
    page.get_by_role("button", name="Tạo kỳ đánh giá").click()
    row = page.locator("tr", has_text="Năm 2026")
    expect(row).to_contain_text("01/03/2026")
    row.get_by_role("button", name="Mở").click()
    expect(page.locator("tr", has_text="Năm 2026")).to_contain_text("đang mở")
    shot(page, "two-tier-period")
    page.get_by_role("button", name="Đăng xuất").click()

    # 2. The commune officer enters results and evidence, then submits to the province.
    log_in(page, live_server, "xa-locbinh", PASSWORD)
    page.get_by_role("navigation").get_by_role("link", name="Đánh giá", exact=True).click()
    row = page.locator("tr", has_text=commune.name)
    expect(page.locator("tbody tr")).to_have_count(1)  # only their own commune
    row.get_by_role("button", name="Bắt đầu").click()
    expect(page.get_by_role("heading", name=commune.name)).to_be_visible()
    expect(page.get_by_text(DEMO_LABEL).first).to_be_visible()
    for code in ("7.1", "7.2", "7.3", "7.4"):
        form = page.get_by_test_id(f"form-{code}")
        answer_everything_yes(form)
        if code == "7.1":
            form.locator('input[type="file"]').set_input_files(str(pdf))
        else:
            form.get_by_label("Lý do không có minh chứng").fill("Đã kiểm tra thực tế")
        save(page, code)
    shot(page, "two-tier-scoring")
    expect(page.get_by_role("button", name="Gửi sang huyện")).to_have_count(0)
    page.get_by_role("button", name="Gửi tỉnh thẩm định").click()
    expect(page.get_by_text("Đã gửi hồ sơ.")).to_be_visible()
    assessment = Assessment.objects.get(commune=commune)
    assert assessment.state == State.SUBMITTED
    page.get_by_role("button", name="Đăng xuất").click()

    # 3. The Sở KH&CN reviewer returns it with a reason.
    log_in(page, live_server, "tinh-thamdinh", PASSWORD)
    page.goto(f"{live_server.url}/danh-gia/{assessment.pk}/")
    page.get_by_label("Lý do").fill("Bổ sung biên bản kiểm tra hệ thống truyền thanh")
    page.get_by_role("button", name="Trả lại với lý do này").click()
    expect(page.get_by_text("Đã trả lại hồ sơ kèm lý do của bạn.")).to_be_visible()
    page.get_by_role("button", name="Đăng xuất").click()

    # 4. The officer fixes it and resubmits.
    log_in(page, live_server, "xa-locbinh", PASSWORD)
    page.get_by_role("navigation").get_by_role("link", name="Đánh giá", exact=True).click()
    expect(page.get_by_text("Bổ sung biên bản kiểm tra hệ thống truyền thanh")).to_be_visible()
    page.get_by_role("link", name="Mở").click()
    form = page.get_by_test_id("form-7.3")
    form.locator('input[type="file"]').set_input_files(str(pdf))
    save(page, "7.3")
    page.get_by_role("button", name="Gửi tỉnh thẩm định").click()
    expect(page.get_by_text("Đã gửi hồ sơ.")).to_be_visible()
    page.get_by_role("button", name="Đăng xuất").click()

    # 5. The reviewer approves it.
    log_in(page, live_server, "tinh-thamdinh", PASSWORD)
    page.goto(f"{live_server.url}/danh-gia/{assessment.pk}/")
    page.get_by_role("button", name="Duyệt", exact=True).click()
    expect(page.get_by_text("Đã duyệt hồ sơ; hồ sơ được khóa.")).to_be_visible()
    assessment.refresh_from_db()
    assert assessment.state == State.APPROVED and assessment.all_met is True

    # 6. The 2026 dashboard groups by commune group, and its workbook agrees.
    page.get_by_role("navigation").get_by_role("link", name="Báo cáo").click()
    summary = page.get_by_test_id("summary")
    expect(summary).to_contain_text("Nhóm 2")
    expect(summary).not_to_contain_text("Huyện")
    shot(page, "two-tier-dashboard")
    group_row = summary.locator("tbody tr", has_text="Nhóm 2")
    # columns: label, xã in scope, not started, draft, submitted, returned, approved, …
    group_on_page = [group_row.locator("td").nth(n).inner_text() for n in (1, 6)]
    total_on_page = [summary.locator("tfoot td").nth(n).inner_text() for n in (1, 6)]
    assert group_on_page[1] == "1"  # Xã Lộc Bình, approved
    with page.expect_download() as download:
        page.get_by_test_id("export").click()
    assert download.value.suggested_filename.startswith("Báo cáo tiêu chí 7 - Tỉnh Lạng Sơn")
    wb = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
    rows = list(wb["Tổng hợp"].iter_rows(values_only=True))
    group_line = next(r for r in rows if r[0] == "Nhóm 2")
    total_line = next(r for r in rows if r[0] == "Toàn tỉnh")
    assert [str(group_line[1]), str(group_line[6])] == group_on_page
    assert [str(total_line[1]), str(total_line[6])] == total_on_page
    assert any(DEMO_LABEL in str(cell) for r in rows for cell in r if cell)
