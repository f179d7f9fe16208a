"""The user guide's tasks walked in a real browser on the demo data, role by role.

At each screen the guide describes (`<!-- screen: name -->` in docs/guide/*.md) the walk checks
that every button and link the guide's steps name there is on the page, and, when
GUIDE_SCREENSHOT_DIR is set (`make docs`), saves the screenshot the guide shows. A page that loses
a button the guide names fails this test; a screen the guide names that no walk reaches fails it
too. 1366×768, the size of the province's office PCs; the scoring form also at a phone's size.
"""

from __future__ import annotations

import os
from pathlib import Path

import openpyxl
import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from assessments import guide
from assessments.models import Assessment, Commune, State
from assessments.seeding import demo_copy_of_2026_set

from .conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "ntm-demo-2025"
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": DESKTOP}


@pytest.fixture
def demo(settings, tmp_path):
    settings.DEBUG = True
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("load_criteria", verbosity=0)
    call_command("import_units", "--region", "trung-du-mien-nui-phia-bac", verbosity=0)
    call_command("apply_reorganisation", verbosity=0)
    call_command("create_demo_accounts", verbosity=0)
    call_command("seed_demo", verbosity=0)
    settings.DEBUG = False
    # Xã Lộc Bình starts the 2026 period from nothing, so the guide shows every step.
    loc_binh = Commune.objects.current().get(code="06529")
    Assessment.objects.filter(commune=loc_binh, period__year=2026).delete()
    return loc_binh


class Screens:
    """Checks each screen of the guide against the page, and saves its screenshot."""

    def __init__(self):
        self.guide = guide.parse()
        folder = os.environ.get("GUIDE_SCREENSHOT_DIR")
        self.folder = Path(folder) if folder else None
        if self.folder:
            self.folder.mkdir(parents=True, exist_ok=True)
        self.seen: set[str] = set()

    def __call__(self, page, name: str, focus=None, full_page: bool = False) -> None:
        screen = self.guide.screens.get(name)
        assert screen is not None, f"the guide has no screen {name!r}"
        page.wait_for_load_state("networkidle")
        for ui_name in screen.ui_names:
            found = page.get_by_role("button", name=ui_name, exact=True).or_(
                page.get_by_role("link", name=ui_name, exact=True)
            )
            assert found.count() > 0, (
                f"{screen.source}: the guide names [{ui_name}], which screen {name!r} "
                f"({page.url}) does not have"
            )
        self.seen.add(name)
        if self.folder:
            if focus is not None:
                # The focus at the top, below the sticky summary; "instant", as Bootstrap makes
                # scrolling smooth and the picture would catch it halfway.
                focus.evaluate(
                    "el => { el.scrollIntoView({block: 'start', behavior: 'instant'});"
                    " window.scrollBy({top: -260, behavior: 'instant'}); }"
                )
            clip = None
            if not full_page:
                # A page shorter than the window is cut below its content, so the printed guide
                # does not show a half-empty window.
                bottom = page.evaluate(
                    "() => Math.ceil(Math.max(0, ...[...document.querySelectorAll('main > *')]"
                    ".map(e => e.getBoundingClientRect().bottom)))"
                )
                size = page.viewport_size
                clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"]}
                clip["height"] = min(size["height"], max(bottom + 24, 240))
            page.screenshot(
                path=str(self.folder / f"{name}.jpg"),
                type="jpeg",
                quality=70,
                full_page=full_page,
                clip=clip,
            )

    def all_seen(self) -> None:
        assert set(self.guide.screens) == self.seen, (
            f"screens of the guide no walk reached: {sorted(set(self.guide.screens) - self.seen)}"
        )


def log_out(page):
    if page.viewport_size["width"] < 1200:
        page.get_by_role("button", name="Menu").click()
    page.get_by_role("button", name="Đăng xuất").click()


def answer_everything_yes(form):
    for radio in form.locator('input[type="radio"][value="yes"]').all():
        radio.check()
    for cell in form.locator("table.village-grid select").all():
        cell.select_option("yes")
    for share in form.locator('input[type="number"], input[inputmode="decimal"]').all():
        share.fill("95")


def save(page, code):
    page.get_by_role("button", name=f"Lưu chỉ tiêu {code}").click()
    expect(page.get_by_text(f"Đã lưu chỉ tiêu {code}.")).to_be_visible()


def test_the_guide_walks_every_role_through_its_tasks(page, live_server, demo, tmp_path):
    shot = Screens()
    commune = demo
    evidence = tmp_path / "bien-ban-kiem-tra.pdf"
    evidence.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")

    # --- Commune officer: log in, change the password, score, submit.
    page.goto(f"{live_server.url}/dang-nhap/")
    page.get_by_label("Tên đăng nhập").fill("xa-locbinh")
    shot(page, "dang-nhap")
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    shot(page, "trang-chu-xa")
    page.get_by_test_id("current-user").get_by_role("link").first.click()  # the user's name
    page.locator('input[name="old_password"]').fill(PASSWORD)
    page.locator('input[name="new_password1"]').fill("mat-khau-moi-2026")
    page.locator('input[name="new_password2"]').fill("mat-khau-moi-2026")
    shot(page, "doi-mat-khau")
    page.get_by_role("button", name="Đổi mật khẩu").click()
    expect(page).to_have_url(f"{live_server.url}/mat-khau/da-doi/")

    page.get_by_role("navigation").get_by_role("link", name="Đơn vị").click()
    expect(page.get_by_role("heading", name=commune.label)).to_be_visible()  # their own xã
    page.get_by_label("Tên").fill("Thôn Nà Mới")
    villages = page.get_by_role("heading", name="Thôn, bản")
    shot(page, "danh-sach-thon", focus=villages)
    page.get_by_role("button", name="Thêm thôn").click()
    expect(page.get_by_role("cell", name="Thôn Nà Mới")).to_be_visible()
    page.get_by_role("navigation").get_by_role("link", name="Đánh giá", exact=True).click()
    shot(page, "danh-sach-xa")
    page.locator("tr", has_text=commune.name).get_by_role("button", name="Bắt đầu").click()
    expect(page.get_by_role("heading", name=commune.name)).to_be_visible()
    guidance = page.get_by_test_id("guidance-7.1")
    guidance.evaluate("d => d.open = true")
    shot(page, "cham-diem", focus=page.get_by_test_id("evidence-expected-7.1"))
    for code in ("7.1", "7.2", "7.3", "7.4"):
        form = page.get_by_test_id(f"form-{code}")
        answer_everything_yes(form)
        if code == "7.1":
            form.locator('input[type="file"]').set_input_files(str(evidence))
        else:
            form.get_by_label("Lý do không có minh chứng").fill("Đã kiểm tra thực tế tại xã")
        save(page, code)
    shot(page, "minh-chung", focus=page.get_by_test_id("form-7.1"))
    page.set_viewport_size(PHONE)
    page.reload()
    shot(page, "cham-diem-dien-thoai", focus=page.get_by_test_id("form-7.2"))
    page.set_viewport_size(DESKTOP)
    page.reload()
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "gui-tinh")
    page.get_by_role("button", name="Gửi tỉnh thẩm định").click()
    expect(page.get_by_text("Đã gửi hồ sơ.")).to_be_visible()
    assessment = Assessment.objects.get(commune=commune, period__year=2026)
    assert assessment.state == State.SUBMITTED
    log_out(page)

    # --- Province reviewer: the queue, read the evidence, return with a reason.
    log_in(page, live_server, "tinh-thamdinh", PASSWORD)
    expect(
        page.get_by_test_id("waiting").get_by_role("link", name="Thẩm định").first
    ).to_be_visible()
    shot(page, "hang-cho")
    page.goto(f"{live_server.url}/danh-gia/{assessment.pk}/")
    evidence_link = page.locator("#indicator-7\\.1").get_by_role("link", name=evidence.name)
    expect(evidence_link).to_be_visible()
    shot(page, "tham-dinh", focus=evidence_link)
    with page.expect_download() as download:
        evidence_link.click()
    assert Path(download.value.path()).read_bytes() == evidence.read_bytes()
    page.get_by_label("Lý do").first.fill("Bổ sung biên bản kiểm tra hệ thống truyền thanh")
    page.get_by_label("Cần bổ sung: chỉ tiêu 7.3").fill("Thiếu biên bản kiểm tra loa ở các thôn")
    shot(page, "tra-lai-ho-so", focus=page.get_by_test_id("return-form"))
    page.get_by_role("button", name="Trả lại với lý do này").click()
    expect(page.get_by_text("Đã trả lại hồ sơ kèm lý do của bạn.")).to_be_visible()
    log_out(page)

    # --- Commune officer: answer the return.
    log_in(page, live_server, "xa-locbinh", "mat-khau-moi-2026")
    page.get_by_role("navigation").get_by_role("link", name="Đánh giá", exact=True).click()
    expect(page.get_by_text("Bổ sung biên bản kiểm tra hệ thống truyền thanh")).to_be_visible()
    shot(page, "bi-tra-lai")
    page.locator("tr", has_text=commune.name).get_by_role("link", name="Mở").click()
    expect(page.get_by_test_id("return-reason")).to_contain_text("Bổ sung biên bản kiểm tra")
    shot(page, "tra-loi")
    form = page.get_by_test_id("form-7.3")
    form.locator('input[type="file"]').set_input_files(str(evidence))
    save(page, "7.3")
    page.get_by_role("button", name="Gửi tỉnh thẩm định").click()
    expect(page.get_by_text("Đã gửi hồ sơ.")).to_be_visible()
    log_out(page)

    # --- Province reviewer: approve, reopen is offered, approve several at once; the workbook.
    log_in(page, live_server, "tinh-thamdinh", PASSWORD)
    page.goto(f"{live_server.url}/danh-gia/{assessment.pk}/")
    shot(page, "duyet")
    page.get_by_role("button", name="Duyệt", exact=True).click()
    expect(page.get_by_text("Đã duyệt hồ sơ; hồ sơ được khóa.")).to_be_visible()
    reopen = page.get_by_role("button", name="Mở lại với lý do này")
    shot(page, "mo-lai", focus=reopen)
    page.get_by_role("link", name="NTM-ICT").first.click()
    waiting = page.get_by_test_id("waiting-lists").get_by_role("link", name="Năm 2026")
    waiting.click()
    ticks = page.locator('input[type="checkbox"][name="assessment"]')
    assert ticks.count() >= 2
    ticks.nth(0).check()
    ticks.nth(1).check()
    bulk = page.get_by_role("button", name="Duyệt các hồ sơ đã đánh dấu…")
    shot(page, "duyet-nhieu", full_page=True)
    bulk.click()
    to_approve = page.get_by_test_id("to-approve").locator('input[type="checkbox"]')
    expect(to_approve).to_have_count(2)
    shot(page, "duyet-nhieu-xac-nhan")
    submitted_before = Assessment.objects.filter(period__year=2026, state=State.SUBMITTED).count()
    page.get_by_role("button", name="Duyệt các hồ sơ đã đánh dấu", exact=True).click()
    expect(page.get_by_role("heading", name="Đánh giá")).to_be_visible()
    after = Assessment.objects.filter(period__year=2026, state=State.SUBMITTED).count()
    assert after == submitted_before - 2
    page.get_by_role("navigation").get_by_role("link", name="Báo cáo").click()
    shot(page, "bang-tong-hop")
    with page.expect_download() as download:
        page.get_by_test_id("export").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    log_out(page)

    # --- District officer (a period before the reform): the Excel template.
    log_in(page, live_server, "huyen-locbinh", PASSWORD)
    page.get_by_role("navigation").get_by_role("link", name="Đánh giá", exact=True).click()
    page.get_by_test_id("filters").get_by_label("Kỳ đánh giá").select_option(label="Năm 2025")
    page.get_by_test_id("filters").get_by_role("button", name="Xem").click()
    shot(page, "excel-mau")
    with page.expect_download() as download:
        page.get_by_role("link", name="Tải mẫu nhập liệu Excel").click()
    workbook = tmp_path / "mau.xlsx"
    download.value.save_as(workbook)
    # Filled in offline: one answer of a xã that can still be changed.
    sheet_book = openpyxl.load_workbook(workbook)
    sheet = sheet_book["Xã"]
    codes = [row[0].value for row in sheet.iter_rows(min_row=2)]
    saved = {
        a.commune.code: a
        for a in Assessment.objects.filter(period__name="Năm 2025", commune__code__in=codes)
    }
    editable = [
        n
        for n, code in enumerate(codes, 2)
        if code not in saved or saved[code].state in (State.DRAFT, State.RETURNED)
    ]
    assert editable, "the demo district has no xã left to enter"
    row, code = editable[0], codes[editable[0] - 2]
    version = saved[code].version if code in saved else 0
    cell = sheet.cell(row=row, column=3)
    cell.value = "Không" if cell.value == "Có" else "Có"
    sheet_book.save(workbook)
    page.get_by_role("link", name="Nhập từ tệp Excel").click()
    page.locator('input[type="file"]').set_input_files(str(workbook))
    shot(page, "excel-nhap")
    page.get_by_role("button", name="Kiểm tra tệp").click()
    expect(page.get_by_role("button", name="Lưu các thay đổi này")).to_be_visible()
    shot(page, "excel-xem-truoc")
    page.get_by_role("button", name="Lưu các thay đổi này").click()
    expect(page.get_by_role("heading", name="Đánh giá")).to_be_visible()
    saved_now = Assessment.objects.get(period__name="Năm 2025", commune__code=code)
    assert saved_now.version > version
    log_out(page)

    # --- Province administrator: the checklist, accounts, reviewers, progress, a period, a draft
    # set, commune groups.
    log_in(page, live_server, "tinh-admin", PASSWORD)
    shot(page, "thiet-lap")
    page.get_by_role("navigation").get_by_role("link", name="Tài khoản").click()
    shot(page, "tai-khoan")
    page.get_by_role("link", name="Tạo tài khoản").click()
    account = page.locator("form")
    account.locator('[name="username"]').fill("xa-locbinh-2")
    account.locator('[name="first_name"]').fill("Nguyễn Văn An")
    account.locator('[name="email"]').fill("an.nv@example.vn")
    account.locator('[name="role"]').select_option(label="Cán bộ xã")
    account.locator('[name="commune"]').select_option(label=commune.label)
    account.locator('[name="password1"]').fill("mat-khau-cap-2026")
    account.locator('[name="password2"]').fill("mat-khau-cap-2026")
    shot(page, "tai-khoan-moi", full_page=True)
    page.get_by_role("button", name="Lưu").click()
    expect(page.locator("tr", has_text="xa-locbinh-2")).to_be_visible()
    page.get_by_role("navigation").get_by_role("link", name="Cán bộ thẩm định").click()
    page.get_by_label("Cán bộ thẩm định").select_option(label="tinh-thamdinh")
    page.get_by_label("Toàn tỉnh").check()
    shot(page, "phan-cong")
    page.get_by_role("button", name="Lưu phân công").click()
    expect(page.locator("tr", has_text="tinh-thamdinh")).to_contain_text("toàn tỉnh")
    page.get_by_role("navigation").get_by_role("link", name="Đánh giá", exact=True).click()
    page.get_by_test_id("filters").get_by_label("Tình trạng").select_option(label="Chưa bắt đầu")
    page.get_by_test_id("filters").get_by_role("button", name="Xem").click()
    expect(page.get_by_test_id("row-count")).to_be_visible()
    shot(page, "theo-doi")
    page.get_by_role("navigation").get_by_role("link", name="Kỳ đánh giá").click()
    page.locator('input[name="name"]').fill("Năm 2027")
    page.locator('input[name="year"]').fill("2027")
    page.get_by_label(demo_copy_of_2026_set().name).check()
    page.locator('input[name="reference_date"]').fill("01/03/2027")
    page.locator('input[name="opens_on"]').fill("01/01/2027")
    page.locator('input[name="closes_on"]').fill("31/12/2027")
    shot(page, "ky-moi", focus=page.get_by_role("button", name="Tạo kỳ đánh giá"))
    page.get_by_role("button", name="Tạo kỳ đánh giá").click()
    expect(page.locator("tr", has_text="Năm 2027")).to_be_visible()
    shot(page, "mo-ky")
    page.locator("tr", has_text="Năm 2027").get_by_role("button", name="Mở").click()
    expect(page.locator("tr", has_text="Năm 2027")).to_contain_text("đang mở")

    page.get_by_role("navigation").get_by_role("link", name="Bộ tiêu chí").click()
    shot(page, "bo-tieu-chi")
    page.get_by_role(
        "link", name="Bộ tiêu chí quốc gia về xã nông thôn mới giai đoạn 2026–2030", exact=True
    ).click()
    shot(page, "bo-nhap")
    page.get_by_role("button", name="Sao chép thành bộ tiêu chí riêng của tỉnh").click()
    shot(page, "bo-cua-tinh")

    page.get_by_role("link", name="NTM-ICT").first.click()
    shot(page, "nhom-xa-danh-sach", focus=page.get_by_text("mọi xã đều đã xếp nhóm").first)
    page.get_by_role("link", name="Cập nhật nhóm xã theo danh sách").first.click()
    shot(page, "nhom-xa-nhap")
    page.goto(f"{live_server.url}/don-vi/xa/{commune.pk}/")
    shot(page, "nhom-xa", focus=page.get_by_text("Nhóm xã theo").first)
    log_out(page)

    # --- Read-only viewer: the dashboard, a scorecard, an assessment read but not changed.
    log_in(page, live_server, "xem-tinh", PASSWORD)
    # The administrator has just opened 2027, which has no results yet: choose 2026.
    page.get_by_label("Kỳ đánh giá").select_option(label="Năm 2026")
    page.get_by_role("button", name="Xem", exact=True).click()
    expect(page.get_by_test_id("gaps").get_by_role("link").first).to_be_visible()
    shot(page, "nguoi-xem")
    with page.expect_download() as download:
        page.get_by_test_id("export").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    page.get_by_test_id("gaps").get_by_role("link").first.click()
    expect(page.get_by_test_id("scorecard")).to_be_visible()
    shot(page, "phieu-ket-qua")
    page.get_by_role("navigation").get_by_role("link", name="Đánh giá", exact=True).click()
    page.get_by_test_id("filters").get_by_label("Kỳ đánh giá").select_option(label="Năm 2026")
    page.get_by_test_id("filters").get_by_role("button", name="Xem").click()
    shot(page, "xem-ho-so")
    page.locator("tr", has_text=commune.name).get_by_role("link", name="Mở").click()
    expect(page.get_by_role("heading", name=commune.label)).to_be_visible()
    expect(page.get_by_role("link", name=evidence.name).first).to_be_visible()
    for action in ("Duyệt", "Trả lại với lý do này", "Gửi tỉnh thẩm định", "Lưu chỉ tiêu 7.1"):
        expect(page.get_by_role("button", name=action, exact=True)).to_have_count(0)
    shot.all_seen()
