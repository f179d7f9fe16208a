"""Nothing typed is lost by leaving the scoring page: while an indicator has changes not saved,
leaving the page asks first; once saved, it leaves without asking."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import log_in
from .test_scoring_browser import PASSWORD, demo, save  # noqa: F401 - demo is a fixture

pytestmark = pytest.mark.django_db(transaction=True)


def worklist_link(page):
    """The menu's "Đánh giá" (the breadcrumb has one too)."""
    return page.get_by_role("navigation").get_by_role("link", name="Đánh giá", exact=True).first


def open_scoring_page(page, live_server, commune):
    log_in(page, live_server, "huyen-locbinh", PASSWORD)
    page.get_by_role("navigation").get_by_role("link", name="Đánh giá", exact=True).click()
    page.locator("tr", has_text=commune.name).get_by_role("button", name="Bắt đầu").click()
    expect(page.get_by_role("heading", name=commune.label)).to_be_visible()


def test_leaving_with_changes_not_saved_asks_first_and_stays_when_told(
    page,
    live_server,
    demo,  # noqa: F811
    dialogs,
):
    open_scoring_page(page, live_server, demo)
    url = page.url
    form = page.get_by_test_id("form-8.1")
    form.locator('input[type="radio"][value="yes"]').first.check()
    asked = dialogs  # "leave the page?" is answered "stay"
    with page.expect_event("dialog"):  # however late a busy machine shows it
        worklist_link(page).click()

    assert asked == ["beforeunload"]
    assert page.url == url
    expect(form.locator('input[type="radio"][value="yes"]').first).to_be_checked()


def test_leaving_after_saving_does_not_ask(page, live_server, demo, dialogs):  # noqa: F811
    open_scoring_page(page, live_server, demo)
    form = page.get_by_test_id("form-8.1")
    form.locator('input[type="radio"][value="yes"]').first.check()
    save(page, "8.1")
    asked = dialogs

    worklist_link(page).click()
    expect(page.locator("tr", has_text=demo.name)).to_be_visible()

    assert asked == []
    assert "/danh-gia/" in page.url or page.url.rstrip("/").endswith("danh-gia")


def test_downloading_evidence_does_not_ask(page, live_server, demo, tmp_path, dialogs):  # noqa: F811
    pdf = tmp_path / "bien-ban.pdf"
    pdf.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    open_scoring_page(page, live_server, demo)
    form = page.get_by_test_id("form-8.1")
    form.locator('input[type="file"]').set_input_files(str(pdf))
    save(page, "8.1")
    page.get_by_test_id("form-8.4").locator('input[type="radio"][value="yes"]').first.check()
    asked = dialogs

    with page.expect_download() as download:
        page.get_by_role("link", name="bien-ban.pdf").click()

    assert download.value.suggested_filename.endswith(".pdf")
    assert asked == []  # the page stays: nothing to warn about


def test_without_fetch_a_form_posted_the_plain_way_keeps_its_mark_if_the_user_stays(
    page,
    live_server,
    demo,  # noqa: F811
    dialogs,
):
    page.add_init_script("delete window.fetch")  # an old browser: each save reloads the page
    open_scoring_page(page, live_server, demo)
    first = page.get_by_test_id("form-8.1")
    first.locator('input[type="radio"][value="yes"]').first.check()
    page.get_by_test_id("form-8.4").locator('input[type="radio"][value="yes"]').first.check()
    asked = dialogs

    with page.expect_event("dialog"):  # 8.4 is not saved: it asks; the answer is "stay"
        page.get_by_role("button", name="Lưu chỉ tiêu 8.1").click()

    assert asked == ["beforeunload"]
    assert first.get_attribute("data-dirty") is not None  # 8.1 was not posted: still marked
