"""The whole workflow matrix through the test client: role × action × state × in / out of scope,
for communes with a district (2021–2025 periods) and without one (from 01/07/2025).

The expectations below are written out independently of `assessments.workflow.RULES`, from the
issue's words, so that a wrong rule in the table fails here.
"""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from assessments.models import (
    Assessment,
    Commune,
    IndicatorResult,
    ReviewAssignment,
    Role,
    State,
    Transition,
)
from criteria.models import Indicator
from tests.conftest import make_commune, make_district, make_period, make_user

STATES = [State.DRAFT, State.DISTRICT_REVIEW, State.SUBMITTED, State.RETURNED, State.APPROVED]
ACTIONS = ["enter", "submit", "forward", "return", "approve", "reopen"]
ROLES = [
    "commune_officer",
    "other_commune_officer",
    "district_officer",
    "other_district_officer",
    "assigned_reviewer",
    "reviewer_of_other_communes",
    "province_admin",
    "viewer",
]


def expected(role: str, action: str, state: str, with_district: bool) -> bool:
    """What the issue asks for, case by case."""
    officer = role == "commune_officer" or (role == "district_officer" and with_district)
    district = role == "district_officer" and with_district
    reviewer = role == "assigned_reviewer"
    if action in ("enter", "submit"):
        return officer and state in (State.DRAFT, State.RETURNED)
    if action == "forward":
        return district and state == State.DISTRICT_REVIEW
    if action == "return":
        return (reviewer and state == State.SUBMITTED) or (
            district and state == State.DISTRICT_REVIEW
        )
    if action == "approve":
        return reviewer and state == State.SUBMITTED
    if action == "reopen":  # the period is open: only approved assessments are reopened
        return reviewer and state == State.APPROVED
    raise AssertionError(action)


@pytest.fixture
def world(province, ntm_set):
    """Two old communes (with districts) and two new ones (without), their people, a period."""
    loc_binh = make_district(province, "188", "Huyện Lộc Bình")
    cao_loc = make_district(province, "183", "Huyện Cao Lộc")
    old = make_commune(loc_binh, "Xã Hữu Khánh", code="06280")
    old_other = make_commune(cao_loc, "Xã Hòa Cư", code="06070")
    new = Commune.objects.create(province=province, code="06100", name="Xã Lộc Bình Mới", kind="xa")
    new_other = Commune.objects.create(
        province=province, code="06200", name="Xã Cao Lộc Mới", kind="xa"
    )
    reviewer = make_user(
        "tham-dinh", role=Role.PROVINCE_REVIEWER, province=province, reviews_whole_province=False
    )
    other_reviewer = make_user(
        "tham-dinh-2",
        role=Role.PROVINCE_REVIEWER,
        province=province,
        reviews_whole_province=False,
    )
    for commune in (old, new):
        ReviewAssignment.objects.create(reviewer=reviewer, province=province, commune=commune)
    for commune in (old_other, new_other):
        ReviewAssignment.objects.create(reviewer=other_reviewer, province=province, commune=commune)
    people = {
        "district_officer": make_user(
            "huyen", role=Role.DISTRICT_OFFICER, province=province, district=loc_binh
        ),
        "other_district_officer": make_user(
            "huyen-khac", role=Role.DISTRICT_OFFICER, province=province, district=cao_loc
        ),
        "assigned_reviewer": reviewer,
        "reviewer_of_other_communes": other_reviewer,
        "province_admin": make_user("admin", role=Role.PROVINCE_ADMIN, province=province),
        "viewer": make_user("xem", role=Role.VIEWER, province=province),
    }
    period = make_period(province, [ntm_set], reference_date=datetime.date(2025, 3, 1))
    return {
        "province": province,
        "set": ntm_set,
        "period": period,
        "people": people,
        "communes": {True: (old, old_other), False: (new, new_other)},
    }


def commune_officer(world, commune, name):
    return make_user(name, role=Role.COMMUNE_OFFICER, province=world["province"], commune=commune)


def make_assessment(world, commune, state) -> Assessment:
    """An assessment in `state`, every indicator decided "not met" (submission needs nothing)."""
    creator = world["people"]["province_admin"]
    assessment = Assessment.objects.create(
        commune=commune,
        criteria_set=world["set"],
        period=world["period"],
        state=state,
        created_by=creator,
    )
    Transition.objects.create(assessment=assessment, to_state=state, action="create", actor=creator)
    indicators = Indicator.objects.filter(criterion__criteria_set=world["set"])
    IndicatorResult.objects.bulk_create(
        IndicatorResult(assessment=assessment, indicator=i, is_met=False, computed_met=False)
        for i in indicators
    )
    return assessment


def discard(assessment: Assessment) -> None:
    """Make room for the next case (one assessment per commune, set and period)."""
    Assessment.objects.filter(pk=assessment.pk).update_checked_rows(state=State.DRAFT)
    Assessment.objects.get(pk=assessment.pk).delete()


def attempt(client, action: str, assessment: Assessment):
    if action == "enter":
        indicator = Indicator.objects.get(
            criterion__criteria_set=assessment.criteria_set, code="8.1"
        )
        prefix = f"i{indicator.pk}"
        url = reverse("assessments:indicator_save", args=[assessment.pk, indicator.pk])
        return client.post(url, {f"{prefix}-version": assessment.version, f"{prefix}-note": "x"})
    url = reverse(f"assessments:{action}", args=[assessment.pk])
    return client.post(url, {"reason": "Cần bổ sung minh chứng."})


def took_effect(action: str, before: Assessment) -> bool:
    after = Assessment.objects.get(pk=before.pk)
    if action == "enter":
        return after.version != before.version
    return after.state != before.state


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", ACTIONS)
def test_who_may_take_each_action_in_each_state(client, world, role, action):
    results = []
    for with_district in (True, False):
        mine, theirs = world["communes"][with_district]
        if role in ("commune_officer", "other_commune_officer"):
            home = mine if role == "commune_officer" else theirs
            person = commune_officer(world, home, f"xa-{with_district}-{role}")
        else:
            person = world["people"][role]
        client.force_login(person)
        for state in STATES:
            assessment = make_assessment(world, mine, state)
            response = attempt(client, action, assessment)
            allowed = took_effect(action, assessment)
            assert response.status_code < 500
            if not allowed:
                # refused: not in scope (404), never a taker of this action (403), or told why
                assert response.status_code in (302, 403, 404, 200), response.status_code
            results.append(
                (with_district, state, allowed, expected(role, action, state, with_district))
            )
            discard(assessment)
    wrong = [(d, s, got, want) for d, s, got, want in results if got != want]
    assert wrong == [], f"{role} / {action}: (with district, state, got, expected) {wrong}"


def test_a_commune_without_a_district_submits_straight_to_province_appraisal(client, world):
    new, _ = world["communes"][False]
    officer = commune_officer(world, new, "xa-moi")
    assessment = make_assessment(world, new, State.DRAFT)
    client.force_login(officer)

    attempt(client, "submit", assessment)

    assert Assessment.objects.get(pk=assessment.pk).state == State.SUBMITTED


def test_a_commune_with_a_district_still_sends_to_the_district_first(client, world):
    old, _ = world["communes"][True]
    officer = commune_officer(world, old, "xa-cu")
    assessment = make_assessment(world, old, State.DRAFT)
    client.force_login(officer)

    attempt(client, "submit", assessment)

    assert Assessment.objects.get(pk=assessment.pk).state == State.DISTRICT_REVIEW


def test_after_the_period_closes_only_an_assigned_reviewer_reopens_unapproved_work(client, world):
    period = world["period"]
    period.is_open = False
    period.save()
    new, _ = world["communes"][False]
    officer = commune_officer(world, new, "xa-dong")
    for person, state, reopened in [
        (world["people"]["assigned_reviewer"], State.DRAFT, True),
        (world["people"]["assigned_reviewer"], State.SUBMITTED, True),
        (world["people"]["reviewer_of_other_communes"], State.DRAFT, False),
        (officer, State.DRAFT, False),
    ]:
        assessment = make_assessment(world, new, state)
        client.force_login(person)
        attempt(client, "reopen", assessment)
        after = Assessment.objects.get(pk=assessment.pk)
        assert (after.state == State.RETURNED and after.entry_reopened) is reopened
        discard(assessment)


def test_entry_in_a_closed_period_is_refused_with_the_reason(client, world):
    period = world["period"]
    period.is_open = False
    period.save()
    new, _ = world["communes"][False]
    officer = commune_officer(world, new, "xa-dong-2")
    assessment = make_assessment(world, new, State.DRAFT)
    client.force_login(officer)

    response = attempt(client, "enter", assessment)

    assert not took_effect("enter", assessment)
    followed = client.get(response.url).content.decode()
    assert "Kỳ đánh giá đã đóng" in followed
