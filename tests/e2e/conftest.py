"""Browser tests: pytest-playwright's `page` on Debian's Chromium against `live_server`."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Sync Playwright runs an event loop in the test's thread; the ORM calls beside it are safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)"
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "vi-VN", "viewport": {"width": 1280, "height": 900}}


def log_in(page, live_server, username: str, password: str = "pw-for-tests-1") -> None:
    page.goto(f"{live_server.url}/dang-nhap/")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(password)
    page.get_by_role("button", name="Đăng nhập").click()


class Dialogs(list):
    """Every dialog the page opened, by type. A confirm is answered with `accept_confirm` (yes,
    unless a test says otherwise); leaving a page with unsaved changes is answered "stay", as
    Playwright answers every dialog when nobody listens."""

    accept_confirm = True


def answer_dialogs(page) -> Dialogs:
    """Answer the page's dialogs as a user would (see Dialogs); for pages a test opens itself."""
    seen = Dialogs()

    def answer(dialog):
        seen.append(dialog.type)
        if dialog.type == "confirm" and seen.accept_confirm:
            dialog.accept()
        else:
            dialog.dismiss()

    page.on("dialog", answer)
    return seen


@pytest.fixture
def dialogs(page) -> Dialogs:
    return answer_dialogs(page)


@pytest.fixture(autouse=True)
def _answer_dialogs(request):
    """Every browser test answers the dialogs as a user would (see Dialogs)."""
    if "page" in request.fixturenames:
        request.getfixturevalue("dialogs")
