"""Two indicators saved in quick succession on a slow link: the second waits for the first and
posts the version it left, so the officer does not collide with their own save ("Người khác
đã lưu…" on the second, which is what a PostgreSQL CI run showed)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from assessments.models import IndicatorResult

from .test_scoring_browser import demo  # noqa: F401 - a fixture
from .test_unsaved_warning import open_scoring_page

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_second_save_waits_for_the_first_on_a_slow_link(page, live_server, demo):  # noqa: F811
    # a slow link: every request the page sends leaves 1.5 s late
    page.add_init_script(
        "const sent = window.fetch; window.fetch = (...args) =>"
        " new Promise((wait) => setTimeout(wait, 1500)).then(() => sent(...args));"
    )
    open_scoring_page(page, live_server, demo)
    for code in ("8.1", "8.4"):
        form = page.get_by_test_id(f"form-{code}")
        form.locator('input[type="radio"][value="yes"]').first.check()
        page.get_by_role("button", name=f"Lưu chỉ tiêu {code}").click()

    expect(page.get_by_text("Đã lưu chỉ tiêu 8.4.")).to_be_visible(timeout=15_000)
    expect(page.get_by_text("người khác đã lưu", exact=False)).to_have_count(0)
    saved = IndicatorResult.objects.filter(assessment__commune=demo)
    assert sorted(saved.values_list("indicator__code", flat=True)) == ["8.1", "8.4"]
