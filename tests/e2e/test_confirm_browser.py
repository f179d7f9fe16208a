"""Sending and approving lock the assessment for the one who does it, so the page asks first:
"no" changes nothing, "yes" takes the step."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from assessments import services
from assessments.models import Assessment, State, User
from tests.assessments.test_workflow import complete

from .conftest import log_in
from .test_scoring_browser import PASSWORD, demo  # noqa: F401 - demo is a fixture

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def submitted(demo):  # noqa: F811
    officer = User.objects.get(username="huyen-locbinh")
    period = demo.district.province.periods.get(is_open=True)
    assessment = services.create_assessment(
        user=officer, commune=demo, criteria_set=period.criteria_sets.get(), period=period
    )
    complete(assessment, officer)
    services.submit(user=officer, assessment=assessment)
    return assessment


def test_approving_asks_first_and_no_changes_nothing(page, live_server, submitted, dialogs):
    log_in(page, live_server, "tinh-thamdinh", PASSWORD)
    page.goto(f"{live_server.url}/danh-gia/{submitted.pk}/")

    dialogs.accept_confirm = False
    page.get_by_role("button", name="Duyệt", exact=True).click()
    page.wait_for_timeout(300)

    assert dialogs == ["confirm"]
    assert Assessment.objects.get(pk=submitted.pk).state == State.SUBMITTED

    dialogs.accept_confirm = True
    page.get_by_role("button", name="Duyệt", exact=True).click()

    expect(page.get_by_text("Đã duyệt hồ sơ")).to_be_visible()
    assert dialogs == ["confirm", "confirm"]
    assert Assessment.objects.get(pk=submitted.pk).state == State.APPROVED
