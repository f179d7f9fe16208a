"""The scoring journey in a real browser: answer conditions Có / Không / Chưa nhập, fill the
village grid (first partly: undecided, not failed) and attach a file, submit, get it returned
with a reason, fix, resubmit, approve."""

from __future__ import annotations

import os

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from assessments.models import Assessment, Commune, State, Village

from .conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "ntm-demo-2025"


@pytest.fixture
def demo(settings, tmp_path):
    settings.DEBUG = True
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("load_criteria", verbosity=0)
    call_command("import_units", "--region", "trung-du-mien-nui-phia-bac", verbosity=0)
    call_command("create_demo_accounts", verbosity=0)
    call_command("create_demo_period", verbosity=0)
    settings.DEBUG = False
    commune = Commune.objects.get(code="06541")  # Xã Yên Khoái, Lộc Bình
    for name in ("Bản Chắt", "Nà Mạ", "Pò Lọi"):
        Village.objects.create(commune=commune, name=name)
    return commune


def shot(page, name):
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        page.screenshot(path=f"{folder}/{name}.png", full_page=True)


def save(page, code):
    page.get_by_role("button", name=f"Lưu chỉ tiêu {code}").click()
    expect(page.get_by_text(f"Đã lưu chỉ tiêu {code}.")).to_be_visible()


def answer_yes_to_every_condition(form):
    for radio in form.locator('input[type="radio"][value="yes"]').all():
        radio.check()


def answer_yes_in_every_village(form):
    for cell in form.locator("table.village-grid select").all():
        cell.select_option("yes")


def test_district_officer_scores_submits_and_the_province_returns_then_approves(
    page, live_server, demo, tmp_path
):
    commune = demo
    pdf = tmp_path / "bien-ban-kiem-tra.pdf"
    pdf.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")

    log_in(page, live_server, "huyen-locbinh", PASSWORD)
    page.get_by_role("navigation").get_by_role("link", name="Đánh giá", exact=True).click()
    row = page.locator("tr", has_text=commune.name)
    row.get_by_role("button", name="Bắt đầu").click()
    expect(page.get_by_role("heading", name=commune.label)).to_be_visible()

    form = page.get_by_test_id("form-8.1")
    expect(form.locator('input[type="radio"][value=""]:checked')).to_have_count(6)
    answer_yes_to_every_condition(form)
    form.locator('input[type="file"]').set_input_files(str(pdf))
    save(page, "8.1")
    expect(page.get_by_test_id("reason-8.1")).to_contain_text("Đạt")
    expect(page.get_by_role("link", name="bien-ban-kiem-tra.pdf")).to_be_visible()

    # Pò Lọi: only the telephone checked so far. The village is undecided, not lacking Internet.
    form = page.get_by_test_id("form-8.2")
    answer_yes_in_every_village(form)
    form.get_by_label("Pò Lọi: Internet băng rộng cố định mặt đất").select_option("")
    form.get_by_label("Pò Lọi: Internet băng rộng di động mặt đất").select_option("")
    save(page, "8.2")
    reason = page.get_by_test_id("reason-8.2")
    expect(reason).to_contain_text("Pò Lọi")
    expect(reason).not_to_contain_text("chưa có Internet")
    expect(reason).not_to_contain_text("Chưa đạt")
    form = page.get_by_test_id("form-8.2")
    expect(form.get_by_label("Pò Lọi: Điện thoại di động mặt đất")).to_have_value("yes")
    expect(form.get_by_label("Pò Lọi: Internet băng rộng cố định mặt đất")).to_have_value("")

    for code in ("8.2", "8.3"):
        form = page.get_by_test_id(f"form-{code}")
        answer_yes_to_every_condition(form)
        answer_yes_in_every_village(form)
        form.get_by_label("Lý do không có minh chứng").fill("Đã kiểm tra thực tế tại các thôn")
        save(page, code)
    expect(page.get_by_test_id("reason-8.2")).to_contain_text("3/3 thôn đạt điều kiện")

    # 120% of officials using a computer is impossible: refused next to the field, nothing saved,
    # and what was typed and chosen stays in the form.
    form = page.get_by_test_id("form-8.4")
    computers = form.locator('input[name$="-c_1"]')
    computers.fill("120")
    form.locator('input[name$="-c_5"]').fill("65")
    answer_yes_to_every_condition(form)
    form.get_by_label("Lý do không có minh chứng").fill("Số liệu từ báo cáo của xã")
    page.get_by_role("button", name="Lưu chỉ tiêu 8.4").click()
    form = page.get_by_test_id("form-8.4")
    expect(form.locator(".invalid-feedback")).to_be_visible()
    expect(form.locator(".invalid-feedback")).to_contain_text("120")
    expect(form.locator('input[name$="-c_1"]')).to_have_value("120")
    expect(form.locator('input[type="radio"][value="yes"]:checked')).to_have_count(3)
    form.locator('input[name$="-c_1"]').fill("90")
    save(page, "8.4")
    shot(page, "assessment-form")

    page.get_by_role("button", name="Gửi tỉnh thẩm định").click()
    expect(page.get_by_text("Đã gửi hồ sơ.")).to_be_visible()
    page.get_by_role("button", name="Đăng xuất").click()

    log_in(page, live_server, "tinh-thamdinh", PASSWORD)
    assessment = Assessment.objects.get(commune=commune)
    page.goto(f"{live_server.url}/danh-gia/{assessment.pk}/")
    page.get_by_role("button", name="Trả lại với lý do này").click()
    expect(page.get_by_text("Hãy ghi lý do trả lại")).to_be_visible()
    page.get_by_label("Lý do").fill("Bổ sung ảnh chụp cụm loa thôn Pò Lọi")
    page.get_by_role("button", name="Trả lại với lý do này").click()
    expect(page.get_by_text("Đã trả lại hồ sơ kèm lý do của bạn.")).to_be_visible()
    page.get_by_role("button", name="Đăng xuất").click()

    log_in(page, live_server, "huyen-locbinh", PASSWORD)
    page.get_by_role("navigation").get_by_role("link", name="Đánh giá", exact=True).click()
    expect(page.get_by_text("Bổ sung ảnh chụp cụm loa thôn Pò Lọi")).to_be_visible()
    page.get_by_role("link", name="Mở").click()
    expect(page.get_by_test_id("return-reason")).to_contain_text("cụm loa thôn Pò Lọi")
    form = page.get_by_test_id("form-8.3")
    form.get_by_label("Ghi chú").fill("Đã bổ sung ảnh cụm loa")
    form.locator('input[type="file"]').set_input_files(str(pdf))
    save(page, "8.3")
    page.get_by_role("button", name="Gửi tỉnh thẩm định").click()
    page.get_by_role("button", name="Đăng xuất").click()

    log_in(page, live_server, "tinh-thamdinh", PASSWORD)
    page.goto(f"{live_server.url}/danh-gia/{assessment.pk}/")
    page.get_by_role("button", name="Duyệt", exact=True).click()
    expect(page.get_by_text("Đã duyệt hồ sơ; hồ sơ được khóa.")).to_be_visible()
    timeline = page.get_by_test_id("timeline")
    for label in ("Bản nháp", "Đã gửi tỉnh", "Bị trả lại", "Đã duyệt"):
        expect(timeline).to_contain_text(label)
    expect(page.locator("form[data-testid^=form-]")).to_have_count(0)
    shot(page, "assessment-approved")
    assessment.refresh_from_db()
    assert assessment.state == State.APPROVED and assessment.all_met is True
