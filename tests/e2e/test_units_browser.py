from __future__ import annotations

import os

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from .conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def demo(settings):
    """What `make run` loads: criteria, the Lạng Sơn list and the demo accounts."""
    settings.DEBUG = True
    call_command("load_criteria", verbosity=0)
    call_command("import_units", "--region", "trung-du-mien-nui-phia-bac", verbosity=0)
    call_command("create_demo_accounts", verbosity=0)
    settings.DEBUG = False


def to_units(page) -> None:
    """The menu's unit pages (home pages show each person's work)."""
    page.locator("#nav").get_by_role("link", name="Đơn vị", exact=True).click()


def shot(page, name: str) -> None:
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        page.screenshot(path=f"{folder}/{name}.png", full_page=True)


def test_district_officer_sees_only_loc_binh(page, live_server, demo):
    log_in(page, live_server, "huyen-locbinh", "ntm-demo-2025")
    to_units(page)

    expect(page.get_by_role("heading", name="Huyện Lộc Bình")).to_be_visible()
    expect(page.locator("tbody tr")).to_have_count(20)
    shot(page, "district")
    page.goto(f"{live_server.url}/don-vi/")  # the province page sends them back
    expect(page.get_by_role("heading", name="Huyện Lộc Bình")).to_be_visible()
    from assessments.models import District

    cao_loc = District.objects.get(code="183")
    response = page.goto(f"{live_server.url}/don-vi/huyen/{cao_loc.pk}/")
    assert response.status == 404


def test_province_admin_creates_a_district_officer_who_logs_in(page, live_server, demo):
    log_in(page, live_server, "tinh-admin", "ntm-demo-2025")
    to_units(page)

    expect(page.locator("tbody tr")).to_have_count(11)
    expect(page.get_by_test_id("total-units")).to_have_text("194")
    shot(page, "province")
    page.get_by_role("link", name="Tài khoản").click()
    page.get_by_role("link", name="Tạo tài khoản").click()
    page.get_by_label("Tên đăng nhập").fill("huyen-dinhlap")
    page.get_by_label("Họ và tên").fill("Hoàng Thị Lan")
    page.get_by_label("Vai trò").select_option(label="Cán bộ huyện")
    page.get_by_role("button", name="Lưu").click()
    expect(page.get_by_text("Chọn huyện mà cán bộ này phụ trách.")).to_be_visible()
    expect(page.get_by_label("Tên đăng nhập")).to_have_value("huyen-dinhlap")
    page.get_by_label("Huyện").select_option(label="Huyện Đình Lập")
    page.locator("#id_password1").fill("Dinh-Lap-2025-abc")
    page.locator("#id_password2").fill("Dinh-Lap-2025-abc")
    shot(page, "user-form")
    page.get_by_role("button", name="Lưu").click()
    expect(page.get_by_text("Đã tạo tài khoản “huyen-dinhlap”.")).to_be_visible()

    page.get_by_role("button", name="Đăng xuất").click()
    log_in(page, live_server, "huyen-dinhlap", "Dinh-Lap-2025-abc")
    to_units(page)
    expect(page.get_by_role("heading", name="Huyện Đình Lập")).to_be_visible()
    expect(page.locator("tbody tr")).to_have_count(12)
