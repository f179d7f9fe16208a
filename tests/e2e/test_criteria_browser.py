from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect

from .conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_officer_logs_in_and_reads_criterion_8(page, live_server, user, shipped_sets):
    log_in(page, live_server, "officer")
    page.get_by_role("navigation").get_by_role("link", name="Bộ tiêu chí").click()

    expect(page.get_by_role("heading", name="Bộ tiêu chí")).to_be_visible()
    page.get_by_role(
        "link", name="Bộ tiêu chí quốc gia về xã nông thôn mới giai đoạn 2021–2025"
    ).click()

    expect(page.locator("#criterion-8")).to_contain_text("Thông tin và Truyền thông")
    for code in ["8.1", "8.2", "8.3", "8.4"]:
        expect(page.locator(f'[id="indicator-{code}"]')).to_be_visible()
    expect(page.locator('[id="indicator-8.1"]')).to_contain_text("Có biển tên điểm phục vụ")
    screenshots = os.environ.get("SCREENSHOT_DIR")
    if screenshots:
        page.screenshot(path=f"{screenshots}/criteria-set.png", full_page=True)
