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


BEFORE_REFORM = datetime.date(2025, 6, 30)
REFORM = datetime.date(2025, 7, 1)


def decided(commune, period, criteria_set, officer, state=State.APPROVED, all_met=True):
    """An assessment as the workflow leaves it, without going through the entry forms."""
    return Assessment.objects.create(
        commune=commune,
        criteria_set=criteria_set,
        period=period,
        state=state,
        all_met=all_met,
        created_by=officer,
    )


@pytest.fixture
def two_tier(province, loc_binh, cao_loc, ntm_set, user):
    """Lạng Sơn in small, across the reform of 01/07/2025.

    Old xã (until 30/06/2025): O1–O4 in Lộc Bình, O5–O6 in Cao Lộc; E ended on 30/11/2024.
    New communes (from 01/07/2025, no district): N1 ← O1 O2 O3 (Nhóm 1), N2 ← O4 O5 (Nhóm 2),
    N3 ← O6 (no group yet); N1 also ← a former township; and a ward W (not an xã).
    Periods (reference dates): 2024 (01/06/2024), 03/2025 (01/03/2025), 12/2025 (01/12/2025),
    2026 (01/01/2026); all closed but 2026.
    """
    from assessments.models import CommuneGroupAssignment
    from criteria.models import CommuneGroup

    old = {"valid_to": BEFORE_REFORM}
    o = {n: make_commune(loc_binh if n <= 4 else cao_loc, f"Xã Cũ {n}", **old) for n in range(1, 7)}
    ended = make_commune(loc_binh, "Xã Đã Nhập", valid_to=datetime.date(2024, 11, 30))
    new = {"valid_from": REFORM}
    n1, n2, n3 = (
        Commune.objects.create(
            province=province, code=code, name=name, kind=Commune.Kind.RURAL, **new
        )
        for code, name in (("06001", "Xã Mới Một"), ("06002", "Xã Mới Hai"), ("06003", "Xã Mới Ba"))
    )
    ward = Commune.objects.create(
        province=province, code="06004", name="Phường Mới", kind=Commune.Kind.WARD, **new
    )
    for successor, formers in ((n1, (1, 2, 3)), (n2, (4, 5)), (n3, (6,))):
        Commune.objects.filter(pk__in=[o[n].pk for n in formers]).update(successor=successor)
    make_commune(  # not an xã: no result to compare before and after
        loc_binh, "Thị trấn Cũ", kind=Commune.Kind.TOWNSHIP, successor=n1, **old
    )
    CommuneGroup.objects.create(criteria_set=ntm_set, code="nhom-1", name="Nhóm 1", order=1)
    CommuneGroup.objects.create(criteria_set=ntm_set, code="nhom-2", name="Nhóm 2", order=2)
    for commune, group in ((n1, "nhom-1"), (n2, "nhom-2")):
        CommuneGroupAssignment.objects.create(
            commune=commune, set_code=ntm_set.code, group_code=group
        )

    def period(name, year, day):
        return make_period(
            province, [ntm_set], name=name, year=year, is_open=False, reference_date=day
        )

    p2024 = period("Năm 2024", 2024, datetime.date(2024, 6, 1))
    p2025_03 = period("Kỳ 03/2025", 2025, datetime.date(2025, 3, 1))
    p2025_12 = period("Kỳ 12/2025", 2025, datetime.date(2025, 12, 1))
    p2026 = period("Năm 2026", 2026, datetime.date(2026, 1, 1))
    p2026.is_open = True
    p2026.save()

    def rate(period, commune, state=State.APPROVED, all_met=True):
        return decided(commune, period, ntm_set, user, state, all_met)

    rate(p2024, o[1])
    rate(p2024, ended)
    rate(p2025_03, o[1])
    rate(p2025_03, o[2])
    rate(p2025_03, o[3], all_met=False)
    rate(p2025_03, o[4], State.SUBMITTED)
    rate(p2025_03, o[5])
    rate(p2025_03, ended)  # left over from before the merger: never counted in 2025
    rate(p2025_12, n1)
    rate(p2025_12, n2)
    rate(p2025_12, n3, all_met=False)
    rate(p2026, n1)
    rate(p2026, n2, all_met=False)
    rate(p2026, ward)  # a ward: not an xã, never counted
    return {
        "old": o,
        "ended": ended,
        "n1": n1,
        "n2": n2,
        "n3": n3,
        "ward": ward,
        "p2024": p2024,
        "p2025_03": p2025_03,
        "p2025_12": p2025_12,
        "p2026": p2026,
    }
