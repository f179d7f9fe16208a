"""In a real browser: the reviewer's page and the scorecard show what was entered without the page
scrolling sideways on a 375 px phone, and an officer whose save comes back with an error is told
that the file chosen was not saved (the fetch swap of the section)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.assessments.test_entered_answers import entered  # noqa: F401 (a fixture)
from tests.assessments.test_evidence import PDF

from .conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)


def overflow(page) -> int:
    """How far the page reaches beyond the window, in CSS pixels (0: no sideways scrolling)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


@pytest.mark.parametrize("where", ["reports:scorecard", "assessments:assessment"])
def test_a_phone_shows_the_answers_without_scrolling_sideways(
    page,
    live_server,
    user,
    entered,  # noqa: F811 (the fixture imported above)
    where,
):
    from django.urls import reverse

    page.set_viewport_size({"width": 375, "height": 800})
    log_in(page, live_server, user.username)

    page.goto(f"{live_server.url}{reverse(where, args=[entered.pk])}")

    expect(page.get_by_test_id("entered-8.4")).to_contain_text("74%")
    expect(page.get_by_test_id("entered-8.2")).to_contain_text("2/3 thôn đạt")
    assert overflow(page) <= 0


def test_a_file_chosen_with_an_error_is_named_after_the_section_comes_back(
    page, live_server, district_officer, assessment, tmp_path, settings
):
    from django.urls import reverse

    settings.MEDIA_ROOT = tmp_path / "media"
    file = tmp_path / "bien-ban.pdf"
    file.write_bytes(PDF)
    log_in(page, live_server, district_officer.username)
    page.goto(f"{live_server.url}{reverse('assessments:assessment', args=[assessment.pk])}")
    form = page.get_by_test_id("form-8.1")

    form.locator('input[type="file"]').set_input_files(str(file))
    form.locator("summary").click()
    form.locator('select[name$="-override"]').select_option("met")
    form.get_by_role("button", name="Lưu chỉ tiêu 8.1").click()

    note = page.get_by_test_id("unsaved-file-8.1")
    expect(note).to_have_text(
        "Tệp «bien-ban.pdf» chưa được lưu vì phiếu còn lỗi: hãy chọn lại tệp rồi bấm Lưu."
    )
    expect(page.locator('[data-testid="form-8.1"] input[type="file"]')).to_have_value("")
