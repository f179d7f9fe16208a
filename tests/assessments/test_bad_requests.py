"""Ids, reasons and bodies that no page sends: a 400 or the page with a message, never a 500.

`isdigit()` is not "int() accepts it": "²" passes the one and fails the other, "٣" passes both.
The hostile walk over every page is tests/test_hostile_input.py; these are the cases that were
500s, one by one.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from assessments import services
from assessments.forms import PeriodForm, ReviewAssignmentForm
from assessments.models import (
    Assessment,
    AssessmentPeriod,
    IndicatorResult,
    ReviewAssignment,
    State,
    User,
)
from tests.assessments.test_workflow import complete
from tests.conftest import indicator, make_period

pytestmark = pytest.mark.django_db

NOT_IDS = ["abc", "²", "", " ", "1.5", "1\x00", "1E+999999999", "x" * 5000]
TOO_LARGE = ["9" * 30, "-9223372036854775809", "9_999_999_999_999_999_999"]


@pytest.fixture
def client():
    """A client that returns a 500 instead of raising the view's exception."""
    return Client(raise_request_exception=False)


# ---------------------------------------------------------------- ids in forms and query strings


@pytest.mark.parametrize("field", ["commune", "period", "set"])
@pytest.mark.parametrize("value", NOT_IDS)
def test_an_assessment_is_not_created_from_an_id_that_is_not_a_whole_number(
    client, district_officer, commune, period, ntm_set, field, value
):
    client.force_login(district_officer)
    ids = {"commune": commune.pk, "period": period.pk, "set": ntm_set.pk, field: value}

    response = client.post(reverse("assessments:assessment_create"), ids)

    assert response.status_code == 400
    assert not Assessment.objects.exists()


def test_an_assessment_for_an_id_out_of_scope_is_still_a_404(
    client, district_officer, other_commune, period, ntm_set
):
    client.force_login(district_officer)
    ids = {"commune": other_commune.pk, "period": period.pk, "set": ntm_set.pk}

    response = client.post(reverse("assessments:assessment_create"), ids)

    assert response.status_code == 404


def test_the_bad_ids_that_were_500s_are_not_reached_with_digits_int_reads(
    client, district_officer, commune, period, ntm_set
):
    """ "٣" is an Arabic-Indic three: int() reads it, so it names period 3 (which is not there)."""
    client.force_login(district_officer)
    ids = {"commune": commune.pk, "period": "٣" * 2, "set": ntm_set.pk}

    assert client.post(reverse("assessments:assessment_create"), ids).status_code == 404


@pytest.mark.parametrize("value", ["²", "abc", "9" * 30])
def test_drafts_for_the_whole_district_are_not_created_from_a_bad_period(
    client, district_officer, period, ntm_set, value
):
    client.force_login(district_officer)

    response = client.post(
        reverse("assessments:assessment_create_all"), {"period": value, "set": ntm_set.pk}
    )

    assert response.status_code == 400
    assert not Assessment.objects.exists()


@pytest.mark.parametrize("name", ["excel_template", "excel_upload"])
@pytest.mark.parametrize("query", [{"period": "x"}, {"set": "²"}, {"period": "", "set": ""}])
def test_the_excel_pages_answer_a_bad_period_or_set_with_a_400(
    client, district_officer, loc_binh, period, ntm_set, name, query
):
    client.force_login(district_officer)
    ids = {"period": period.pk, "set": ntm_set.pk, **query}

    response = client.get(reverse(f"assessments:{name}", args=[loc_binh.pk]), ids)

    assert response.status_code == 400


@pytest.mark.parametrize("value", ["²", "abc", "1\x00"])
def test_a_dashboard_asked_for_a_period_it_cannot_read_says_so_and_shows_the_latest(
    client, user, loc_binh, period, value
):
    client.force_login(user)

    page = client.get(reverse("reports:district", args=[loc_binh.pk]), {"period": value})
    export = client.get(reverse("reports:district_export", args=[loc_binh.pk]), {"period": value})

    assert page.status_code == 200
    assert "Không đọc được các bộ lọc sau nên đã bỏ qua: Kỳ đánh giá" in page.content.decode()
    assert export.status_code == 200


@pytest.mark.parametrize("value", ["²", "abc", "99999", "1\x00", " "])
def test_the_national_roll_up_shows_the_latest_year_for_a_year_it_cannot_read(
    client, period, value
):
    superuser = User.objects.create_superuser("quoc-gia", password="pw-for-tests-1")
    client.force_login(superuser)

    response = client.get(reverse("reports:national"), {"year": value})

    assert response.status_code == 200
    if value.strip():
        assert "Không đọc được" in response.content.decode()


@pytest.mark.parametrize("value", TOO_LARGE)
def test_a_period_naming_a_set_by_an_id_no_column_holds_is_refused(client, manager, ntm_set, value):
    client.force_login(manager)
    data = {
        "name": "Năm 2026",
        "year": 2026,
        "criteria_sets": [value],
        "reference_date": "01/03/2026",
        "opens_on": "01/01/2026",
        "closes_on": "31/12/2026",
    }

    form = PeriodForm(data, province=manager.province)
    response = client.post(reverse("assessments:period_create"), data)

    assert not form.is_valid() and "criteria_sets" in form.errors
    assert response.status_code == 400  # the request guard, before the form
    assert not AssessmentPeriod.objects.exists()


def test_reviewers_are_not_assigned_communes_by_ids_no_column_holds(
    manager, user, commune, province
):
    data = {"reviewer": user.pk, "communes": [commune.pk, "9" * 30]}

    form = ReviewAssignmentForm(data, province=province)

    assert not form.is_valid() and "communes" in form.errors
    assert ReviewAssignment.objects.filter(commune=commune).count() == 0


def test_a_superuser_without_a_province_cannot_create_a_period(client, ntm_set):
    superuser = User.objects.create_superuser("quoc-gia", password="pw-for-tests-1")
    client.force_login(superuser)

    response = client.post(
        reverse("assessments:period_create"),
        {"name": "Năm 2026", "year": 2026, "criteria_sets": [ntm_set.pk]},
    )

    assert response.status_code == 403
    assert not AssessmentPeriod.objects.exists()


# ---------------------------------------------------------------- the request guard


@pytest.mark.parametrize("value", TOO_LARGE)
def test_a_number_no_integer_column_holds_is_a_400_on_any_page(client, user, value):
    client.force_login(user)

    assert client.get(reverse("assessments:worklist"), {"district": value}).status_code == 400
    assert client.get(reverse("reports:province"), {"period": value}).status_code == 400


@pytest.mark.parametrize("value", ["abc", "", "1.5", "9" * 30, "1\x00"])
def test_the_admins_ticked_rows_must_be_ids(client, commune, value):
    superuser = User.objects.create_superuser("quoc-gia", password="pw-for-tests-1")
    client.force_login(superuser)

    response = client.post(
        reverse("admin:assessments_commune_changelist"),
        {"action": "delete_selected", "_selected_action": [value], "index": "0"},
    )

    assert response.status_code == 400


def test_the_admins_ticked_rows_still_work_when_they_are_ids(client, commune):
    superuser = User.objects.create_superuser("quoc-gia", password="pw-for-tests-1")
    client.force_login(superuser)

    response = client.post(
        reverse("admin:assessments_commune_changelist"),
        {"action": "delete_selected", "_selected_action": [commune.pk], "index": "0"},
    )

    assert response.status_code == 200  # the confirmation page


# ---------------------------------------------------------------- bodies not in UTF-8


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/x-www-form-urlencoded; charset=utf-16", "username=a&password=b"),
        (
            "multipart/form-data; boundary=b; charset=utf-16",
            '--b\r\nContent-Disposition: form-data; name="username"\r\n\r\na\r\n--b--\r\n',
        ),
        ("application/x-www-form-urlencoded; charset=no-such-charset", "username=a"),
    ],
)
def test_a_form_in_another_character_set_than_utf8_is_a_400_even_on_the_login_page(
    client, content_type, body
):
    raw = body.encode("utf-16") if "utf-16" in content_type else body.encode()

    response = client.generic("POST", reverse("login"), raw, content_type=content_type)

    assert response.status_code == 400


def test_a_form_in_utf8_still_logs_in(client, user):
    response = client.post(
        reverse("login"),
        "username=officer&password=pw-for-tests-1",
        content_type="application/x-www-form-urlencoded; charset=utf-8",
    )

    assert response.status_code == 302


# ---------------------------------------------------------------- reasons and names


@pytest.fixture
def submitted(assessment, district_officer):
    complete(assessment, district_officer)
    services.submit(user=district_officer, assessment=assessment)
    assessment.refresh_from_db()
    return assessment


@pytest.mark.parametrize("reason", ["Thiếu\x00 minh chứng", "x" * 4001])
def test_a_return_reason_with_nul_or_too_long_is_refused_with_a_message(
    client, user, submitted, reason
):
    client.force_login(user)

    response = client.post(
        reverse("assessments:return", args=[submitted.pk]), {"reason": reason}, follow=True
    )

    submitted.refresh_from_db()
    assert response.status_code == 200 and submitted.state == State.SUBMITTED
    assert len(list(response.context["messages"])) >= 1


def test_a_reopen_reason_with_nul_is_refused_with_a_message(client, user, submitted):
    client.force_login(user)
    services.approve(user=user, assessment=submitted)

    response = client.post(
        reverse("assessments:reopen", args=[submitted.pk]), {"reason": "Sai\x00"}, follow=True
    )

    submitted.refresh_from_db()
    assert response.status_code == 200 and submitted.state == State.APPROVED
    assert len(list(response.context["messages"])) >= 1


def test_a_second_period_with_the_same_name_is_refused_by_the_form(
    client, manager, province, ntm_set
):
    make_period(province, [ntm_set], name="Năm 2026", year=2026)
    client.force_login(manager)

    response = client.post(
        reverse("assessments:period_create"),
        {
            "name": " Năm 2026 ",
            "year": 2026,
            "criteria_sets": [ntm_set.pk],
            "reference_date": "01/03/2026",
            "opens_on": "01/01/2026",
            "closes_on": "31/12/2026",
        },
    )

    assert response.status_code == 200
    assert "name" in response.context["form"].errors
    assert AssessmentPeriod.objects.filter(name="Năm 2026").count() == 1


@pytest.mark.parametrize("field", ["note", "override_reason", "no_evidence_explanation"])
def test_a_note_reason_or_explanation_over_4000_characters_is_refused_and_nothing_is_saved(
    client, district_officer, assessment, field
):
    postal = indicator(assessment.criteria_set, "8.1")
    prefix = f"i{postal.pk}"
    client.force_login(district_officer)

    response = client.post(
        reverse("assessments:indicator_save", args=[assessment.pk, postal.pk]),
        {
            f"{prefix}-version": assessment.version,
            f"{prefix}-c_1": "yes",
            f"{prefix}-override": "met",
            f"{prefix}-override_reason": "Đã kiểm tra",
            f"{prefix}-{field}": "x" * 4001,
        },
    )

    assert response.status_code == 200
    assert not IndicatorResult.objects.filter(assessment=assessment).exists()


def test_a_note_of_4000_characters_is_saved(client, district_officer, assessment):
    postal = indicator(assessment.criteria_set, "8.1")
    prefix = f"i{postal.pk}"
    client.force_login(district_officer)

    client.post(
        reverse("assessments:indicator_save", args=[assessment.pk, postal.pk]),
        {f"{prefix}-version": assessment.version, f"{prefix}-note": "x" * 4000},
    )

    assert IndicatorResult.objects.get(assessment=assessment).note == "x" * 4000
