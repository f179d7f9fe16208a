from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from django.core.management import call_command
from openpyxl import load_workbook
from playwright.sync_api import expect

from .conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def demo(settings):
    settings.DEBUG = True
    call_command("load_criteria", verbosity=0)
    call_command("import_units", "--region", "trung-du-mien-nui-phia-bac", verbosity=0)
    call_command("apply_reorganisation", verbosity=0)
    call_command("create_demo_accounts", verbosity=0)
    call_command("seed_demo", verbosity=0)
    settings.DEBUG = False


def test_reviewer_sees_11_districts_charts_and_downloads_the_workbook(page, live_server, demo):
    log_in(page, live_server, "tinh-thamdinh", "ntm-demo-2025")
    page.get_by_role("navigation").get_by_role("link", name="Báo cáo").click()
    # the 2024 period: the units before the reform, with their 11 districts and 175 xã
    page.get_by_test_id("filters").get_by_label("Kỳ đánh giá").select_option(label="Năm 2024")
    page.get_by_test_id("filters").get_by_role("button", name="Xem").click()

    expect(page.get_by_role("heading", name="Tổng hợp toàn tỉnh: Tỉnh Lạng Sơn")).to_be_visible()
    expect(page.locator('[data-testid="summary"] tbody tr')).to_have_count(11)
    expect(page.locator('[data-testid="summary"] tfoot td').nth(1)).to_have_text("175")
    page.wait_for_function("() => window.Chart && Chart.getChart('criterion-chart')")
    drawn = page.evaluate(
        """() => {
            const c = document.getElementById('criterion-chart');
            const pixels = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let painted = 0;
            for (let i = 3; i < pixels.length; i += 4) { if (pixels[i] > 0) painted++; }
            return {painted, bars: Chart.getChart('criterion-chart').data.labels.length};
        }"""
    )
    assert drawn["bars"] == 11 and drawn["painted"] > 1000
    if os.environ.get("SCREENSHOT_DIR"):
        page.screenshot(path=f"{os.environ['SCREENSHOT_DIR']}/dashboard.png", full_page=True)

    with page.expect_download() as download:
        page.get_by_test_id("export").click()
    assert download.value.suggested_filename.startswith("Báo cáo tiêu chí 8 - Tỉnh Lạng Sơn")
    wb = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
    total_on_page = page.locator('[data-testid="summary"] tfoot td').nth(1).inner_text()
    total_row = next(
        row for row in wb["Tổng hợp"].iter_rows(values_only=True) if row[0] == "Toàn tỉnh"
    )
    assert str(total_row[1]) == total_on_page


def test_before_and_after_reads_as_cards_on_a_phone(page, live_server, demo):
    """On a 375 px phone each new xã is a card: its former xã one per line at full width (the
    four-column table squeezed them into a column a few words wide, 15,000 px tall)."""
    page.set_viewport_size({"width": 375, "height": 740})
    log_in(page, live_server, "xem-tinh", "ntm-demo-2025")
    section = page.get_by_test_id("reorganisation")
    expect(section).to_be_visible()

    rows = section.locator("tbody tr")
    cards = rows.count()
    former = section.locator("[data-testid=former]").first.bounding_box()
    height = section.bounding_box()["height"]
    width = page.evaluate("document.documentElement.scrollWidth")

    assert former["width"] > 280  # a line across the card, not a narrow column
    assert height < cards * 260, (height, cards)  # it was about 260 px a xã and more
    assert width <= 375  # no sideways scrolling
