"""Review notes per indicator ("cần bổ sung"): the reviewer returns with a note on single
indicators, the officer sees them highlighted, and after resubmission the reviewer sees what
changed on each indicator since the return. Everything is in the timeline and the history."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assessments import services
from assessments.models import Change, ReviewNote, State
from assessments.templatetags.assessment_tags import change_value
from criteria.models import Indicator
from tests.assessments.test_workflow import complete
from tests.conftest import indicator

pytestmark = pytest.mark.django_db

NOTE = "Bổ sung ảnh chụp điểm truy cập Internet thôn Pò Lọi"


@pytest.fixture
def submitted(assessment, district_officer):
    complete(assessment, district_officer)
    services.submit(user=district_officer, assessment=assessment)
    assessment.refresh_from_db()
    return assessment


def return_with(client, assessment, **data):
    return client.post(reverse("assessments:return", args=[assessment.pk]), data, follow=True)


def page_of(client, assessment) -> str:
    return client.get(reverse("assessments:assessment", args=[assessment.pk])).content.decode()


def section(page: str, code: str) -> str:
    """The HTML of one indicator's card."""
    match = re.search(rf'<section [^>]*id="indicator-{re.escape(code)}".*?</section>', page, re.S)
    assert match, f"no section for {code}"
    return match.group(0)


def test_a_note_on_one_indicator_is_enough_to_return(client, user, submitted):
    internet = indicator(submitted.criteria_set, "8.2")
    client.force_login(user)

    response = return_with(client, submitted, reason="", **{f"note_{internet.pk}": NOTE})

    assert "Đã trả lại hồ sơ" in response.content.decode()
    submitted.refresh_from_db()
    assert submitted.state == State.RETURNED
    step = submitted.transitions.get(action="return")
    assert step.reason == ""
    note = ReviewNote.objects.get(assessment=submitted)
    assert (note.indicator, note.note, note.transition, note.author) == (internet, NOTE, step, user)


def test_a_return_without_a_reason_or_any_note_is_refused(client, user, submitted):
    client.force_login(user)
    postal = indicator(submitted.criteria_set, "8.1")

    response = return_with(client, submitted, reason="  ", **{f"note_{postal.pk}": "   "})

    assert "Hãy ghi lý do trả lại, hoặc điều cần bổ sung" in response.content.decode()
    submitted.refresh_from_db()
    assert submitted.state == State.SUBMITTED
    assert not ReviewNote.objects.exists()


def test_a_note_longer_than_the_form_allows_is_refused_with_its_indicator(client, user, submitted):
    client.force_login(user)
    internet = indicator(submitted.criteria_set, "8.2")

    response = return_with(
        client, submitted, reason="Xem lại", **{f"note_{internet.pk}": "x" * 4001}
    )

    assert "chỉ tiêu 8.2" in response.content.decode()
    submitted.refresh_from_db()
    assert submitted.state == State.SUBMITTED


def test_the_service_refuses_a_note_on_an_indicator_of_another_set(user, submitted):
    other = Indicator.objects.exclude(criterion__criteria_set=submitted.criteria_set).first()

    with pytest.raises(services.WorkflowError):
        services.return_assessment(user=user, assessment=submitted, notes={other: "Thiếu"})

    submitted.refresh_from_db()
    assert submitted.state == State.SUBMITTED
    assert not ReviewNote.objects.exists()


def test_the_officer_sees_the_noted_indicator_highlighted_with_its_note(
    client, user, district_officer, submitted
):
    internet = indicator(submitted.criteria_set, "8.2")
    services.return_assessment(
        user=user, assessment=submitted, reason="Xem ghi chú", notes={internet: NOTE}
    )
    client.force_login(district_officer)

    page = page_of(client, submitted)

    noted = section(page, "8.2")
    assert "border-warning" in noted and 'data-testid="review-note-8.2"' in noted
    assert NOTE in noted and "Cần bổ sung:" in noted
    for code in ("8.1", "8.3", "8.4"):
        assert "review-note" not in section(page, code)
        assert "border-warning" not in section(page, code)
    banner = re.search(r'data-testid="return-reason".*?</div></div>', page, re.S).group(0)
    assert 'href="#indicator-8.2"' in banner and NOTE in banner


def test_after_resubmission_the_reviewer_sees_what_changed_on_each_indicator(
    client, user, district_officer, submitted
):
    internet, media = (indicator(submitted.criteria_set, code) for code in ("8.2", "8.3"))
    services.return_assessment(
        user=user, assessment=submitted, notes={internet: NOTE, media: "Thiếu biên bản"}
    )
    result = submitted.results.get(indicator=internet)
    services.save_entry(
        user=district_officer,
        assessment=submitted,
        indicator=internet,
        entry=services.Entry(
            inputs=result.inputs, note="Đã bổ sung ảnh", no_evidence_explanation="Ảnh bản giấy"
        ),
        seen_version=None,
    )
    services.submit(user=district_officer, assessment=submitted)
    client.force_login(user)

    page = page_of(client, submitted)

    changed = section(page, "8.2")
    assert 'data-testid="since-return-8.2"' in changed
    assert "Đã bổ sung ảnh" in changed and "Ảnh bản giấy" in changed
    assert NOTE in changed  # the note stays beside its answer
    assert "Không thay đổi kể từ khi trả lại" in section(page, "8.3")
    for code in ("8.1", "8.4"):
        assert "since-return" not in section(page, code)
    summary = re.search(r'data-testid="since-return">.*?</div>', page, re.S).group(0)
    assert 'href="#indicator-8.2"' in summary and 'href="#indicator-8.3"' in summary


def test_the_timeline_and_the_history_keep_the_notes(client, user, district_officer, submitted):
    internet = indicator(submitted.criteria_set, "8.2")
    services.return_assessment(user=user, assessment=submitted, notes={internet: NOTE})
    services.submit(user=district_officer, assessment=submitted)
    services.approve(user=user, assessment=submitted)
    client.force_login(district_officer)

    page = page_of(client, submitted)

    timeline = re.search(r'data-testid="timeline">.*?</ol>', page, re.S).group(0)
    assert f"Cần bổ sung: 8.2: {NOTE}" in timeline
    history = re.search(r'data-testid="history">.*?</table>', page, re.S).group(0)
    assert "8.2 · Cần bổ sung (ghi chú thẩm định)" in history and NOTE in history
    row = Change.objects.get(field="review_note")
    assert (row.indicator, row.new, row.state) == (internet, NOTE, State.SUBMITTED)
    assert "review-note-8.2" not in page  # no longer highlighted once approved


def test_the_return_form_offers_one_note_per_indicator_to_the_reviewer_only(
    client, user, district_officer, submitted
):
    client.force_login(user)
    page = page_of(client, submitted)
    form = re.search(r'data-testid="return-form".*?</form>', page, re.S).group(0)
    for code in ("8.1", "8.2", "8.3", "8.4"):
        pk = indicator(submitted.criteria_set, code).pk
        assert f'name="note_{pk}"' in form and f"Cần bổ sung: chỉ tiêu {code}" in form

    client.force_login(district_officer)
    assert 'data-testid="return-form"' not in page_of(client, submitted)


def test_the_page_of_a_resubmitted_assessment_does_not_grow_with_its_changes(
    client, user, district_officer, submitted
):
    internet = indicator(submitted.criteria_set, "8.2")
    services.return_assessment(user=user, assessment=submitted, notes={internet: NOTE})
    result = submitted.results.get(indicator=internet)
    services.save_entry(
        user=district_officer,
        assessment=submitted,
        indicator=internet,
        entry=services.Entry(inputs=result.inputs, note="lần đầu", no_evidence_explanation="Có"),
        seen_version=None,
    )
    services.submit(user=district_officer, assessment=submitted)
    client.force_login(user)
    page_of(client, submitted)  # the session is saved on the first page after logging in
    with CaptureQueriesContext(connection) as few:
        page_of(client, submitted)
    Change.objects.bulk_create(
        Change(
            assessment=submitted,
            indicator=internet,
            field="note",
            old="lần đầu",
            new=f"lần {n}",
            version=submitted.version,
            state=State.RETURNED,
            actor=district_officer,
        )
        for n in range(30)
    )

    with CaptureQueriesContext(connection) as many:
        page = page_of(client, submitted)

    # session, user, assessment, indicators, conditions, targets, villages, results, evidence,
    # review scope, timeline, the notes, the changes since the return, history, the user's unit
    assert len(many) == len(few) <= 15
    assert section(page, "8.2").count("lần ") >= 31


def test_the_history_counts_village_cells_as_yes_no_and_not_entered():
    inputs = {
        "conditions": {"1": True},
        "villages": {"1": {"1": True, "2": False}, "2": {"1": True, "2": None}, "3": {"1": "40"}},
    }

    assert change_value(inputs, "inputs") == (
        "điều kiện 1✓; thôn: 2 có, 1 không, 1 số liệu, 1 chưa nhập"
    )
    assert change_value({"villages": {"1": {"1": None}}}, "inputs") == "thôn: 1 chưa nhập"
