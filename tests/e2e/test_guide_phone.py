"""The guide read on a 375 px phone: no sideways scrolling (a long button name in a step used to
push the page to 428 px), and no word about commands an officer cannot run."""

from __future__ import annotations

import pytest

from assessments.models import Role
from tests.conftest import make_user

from .conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_guide_fits_a_phone_and_speaks_to_its_reader(page, live_server, province):
    make_user("canbo", role=Role.VIEWER, province=province)
    page.set_viewport_size({"width": 375, "height": 740})
    log_in(page, live_server, "canbo")

    page.goto(f"{live_server.url}/huong-dan/")

    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    text = page.locator("main").inner_text()
    assert "make docs" not in text
    assert "Sao chép thành bộ tiêu chí riêng của tỉnh" in text  # the long button name is there
