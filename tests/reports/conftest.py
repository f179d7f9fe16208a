"""A hand-built province for the report tests; the expected figures are worked out by hand in
test_rollups.py."""

from __future__ import annotations

import datetime

import pytest

from assessments import services
from assessments.models import Assessment, Commune, IndicatorResult, State
from tests.conftest import POSTAL_ALL, indicator, make_commune, make_period, make_village

EVERYTHING = {"1": True, "2": True, "3": True, "4": True}


def score(assessment, officer, *, failing=(), override=None):
    """Enter all four indicators, failing the codes in `failing`; `override` = (code, reason)."""
    villages = list(assessment.commune.villages.all())
    grid = {str(v.pk): dict(EVERYTHING) for v in villages}
    no_internet = {str(v.pk): {**EVERYTHING, "3": False, "4": False} for v in villages[:1]}
    entries = {
        "8.1": POSTAL_ALL,
        "8.2": {
            "conditions": {},
            "villages": {**grid, **(no_internet if "8.2" in failing else {})},
        },
        "8.3": {"conditions": {"1": "8.3" not in failing}, "villages": grid},
        "8.4": {"conditions": {"1": "90", "2": True, "3": True, "4": True, "5": "70"}},
    }
    for code, inputs in entries.items():
        overriding = override is not None and override[0] == code
        services.save_entry(
            user=officer,
            assessment=assessment,
            indicator=indicator(assessment.criteria_set, code),
            entry=services.Entry(
                inputs=inputs,
                no_evidence_explanation="Đã kiểm tra",
                override_met=False if overriding else None,
                override_reason=override[1] if overriding else "",
            ),
            seen_version=None,
        )
    return assessment


def move(assessment, officer, reviewer, state):
    if state in (State.SUBMITTED, State.APPROVED, State.RETURNED):
        services.submit(user=officer, assessment=assessment)
    if state == State.APPROVED:
        services.approve(user=reviewer, assessment=assessment)
    if state == State.RETURNED:
        services.return_assessment(user=reviewer, assessment=assessment, reason="Bổ sung")
    assessment.refresh_from_db()
    return assessment


@pytest.fixture
def hand_built(
    province, loc_binh, cao_loc, ntm_set, district_officer, other_district_officer, user
):
    reviewer = user
    p2024 = make_period(province, [ntm_set], name="Năm 2024", year=2024)
    p2025 = make_period(province, [ntm_set], name="Năm 2025", year=2025)
    a_names = ["Xã Một", "Xã Hai", "Xã Ba", "Xã Bốn"]
    x1, x2, x3, x4 = (make_commune(loc_binh, name) for name in a_names)
    t1 = make_commune(loc_binh, "Thị trấn Năm", kind=Commune.Kind.TOWNSHIP)
    e1 = make_commune(loc_binh, "Xã Cũ", valid_to=datetime.date(2024, 11, 30))
    y1, y2 = make_commune(cao_loc, "Xã Sáu"), make_commune(cao_loc, "Xã Bảy")
    for commune in (x1, x2, x3, x4, t1, e1, y1, y2):
        for name in ("Thôn A", "Thôn B"):
            make_village(commune, name)

    def new(commune, period, officer):
        return services.create_assessment(
            user=officer, commune=commune, criteria_set=ntm_set, period=period
        )

    lb, cl = district_officer, other_district_officer
    # 2024: X1 and X2 approved and met; E1 (ended since) approved and met
    for commune in (x1, x2):
        move(score(new(commune, p2024, lb), lb), lb, reviewer, State.APPROVED)
    ended = Assessment.objects.create(
        commune=e1,
        criteria_set=ntm_set,
        period=p2024,
        state=State.APPROVED,
        all_met=True,
        created_by=lb,
    )
    # 2025
    move(score(new(x1, p2025, lb), lb), lb, reviewer, State.APPROVED)
    move(score(new(x2, p2025, lb), lb, failing={"8.2"}), lb, reviewer, State.APPROVED)
    move(
        score(new(x3, p2025, lb), lb, override=("8.1", "=Điểm bưu chính đóng cửa")),
        lb,
        reviewer,
        State.APPROVED,
    )
    move(score(new(x4, p2025, lb), lb), lb, reviewer, State.RETURNED)
    township = Assessment.objects.create(
        commune=t1,
        criteria_set=ntm_set,
        period=p2025,
        state=State.APPROVED,
        all_met=True,
        created_by=lb,
    )
    move(score(new(y1, p2025, cl), cl), cl, reviewer, State.SUBMITTED)
    assert IndicatorResult.objects.filter(assessment__commune=x3, override_met=False).exists()
    return {
        "p2024": p2024,
        "p2025": p2025,
        "x1": x1,
        "x2": x2,
        "x3": x3,
        "x4": x4,
        "y1": y1,
        "y2": y2,
        "ended": ended,
        "township": township,
    }
