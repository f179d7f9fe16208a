"""The top bar on a 1366 × 768 office screen: the province administrator's whole menu, a long
name and the three buttons on one line, nothing cut off; on a phone, the menu behind its button
with the role and unit in it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from assessments.models import Role
from tests.conftest import make_user

from .conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def long_named_admin(province):
    return make_user(
        "quantri",
        role=Role.PROVINCE_ADMIN,
        province=province,
        first_name="Nguyễn Thị Hồng",
        last_name="Nhung",
    )


def bar(page):
    return {
        "header": page.locator("header.navbar").bounding_box(),
        "logout": page.get_by_role("button", name="Đăng xuất").bounding_box(),
        "help": page.get_by_test_id("help-link").bounding_box(),
        "first": page.locator("#nav .nav-link").first.bounding_box(),
    }


def test_the_whole_top_bar_fits_one_line_at_1366_pixels(page, live_server, long_named_admin):
    page.set_viewport_size({"width": 1366, "height": 768})
    log_in(page, live_server, "quantri")

    box = bar(page)

    assert box["header"]["height"] < 64, box  # one line (it was two: 80 px)
    assert box["logout"]["x"] + box["logout"]["width"] <= 1366, box  # nothing cut off
    assert box["help"]["height"] < 36 and box["logout"]["height"] < 36  # labels do not wrap
    assert abs(box["first"]["y"] - box["logout"]["y"]) < 12  # menu and buttons on one line
    name = page.get_by_test_id("current-user").get_by_role("link")
    assert "Tỉnh Lạng Sơn" in name.get_attribute("title")  # role and unit in its tooltip


def test_the_phone_menu_shows_the_role_and_unit(page, live_server, long_named_admin):
    page.set_viewport_size({"width": 375, "height": 740})
    log_in(page, live_server, "quantri")

    page.get_by_role("button", name="Trình đơn").click()

    expect(page.get_by_test_id("current-user")).to_contain_text("Tỉnh Lạng Sơn")
    expect(page.get_by_role("button", name="Đăng xuất")).to_be_visible()
    line = page.get_by_test_id("current-user").bounding_box()
    assert line["x"] + line["width"] <= 375, line  # wraps inside the screen, not past its edge


def test_a_superusers_longer_menu_wraps_instead_of_running_off_the_screen(
    page, live_server, long_named_admin
):
    long_named_admin.is_staff = long_named_admin.is_superuser = True  # + "Quản trị" (the admin)
    long_named_admin.save()
    page.set_viewport_size({"width": 1366, "height": 768})
    log_in(page, live_server, "quantri")

    box = bar(page)

    assert box["logout"]["x"] + box["logout"]["width"] <= 1366, box
    assert box["help"]["height"] < 36 and box["logout"]["height"] < 36
    expect(page.get_by_role("link", name="Quản trị", exact=True)).to_be_visible()
