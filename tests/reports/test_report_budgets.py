"""Dashboards and exports cost the same number of queries for 20 and for 200 communes."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assessments.models import State
from assessments.seeding import Mix, ensure_villages, seed_period
from tests.conftest import make_commune, make_district, make_period

pytestmark = pytest.mark.django_db
MIX = Mix({State.APPROVED: 0.6, State.SUBMITTED: 0.2, State.RETURNED: 0.1, None: 0.1})


def grow(province, district_officer, user, ntm_set, periods, start, count):
    districts = [
        make_district(province, f"{900 + start // 20 + n}", f"Huyện {start + n}")
        for n in range(count // 20)
    ]
    communes = [make_commune(d) for d in districts for _ in range(20)]
    for commune in communes:
        commune.province = province
    ensure_villages(communes, __import__("random").Random(1), 2, 4)
    for period in periods:
        seed_period(
            communes=communes,
            period=period,
            criteria_set=ntm_set,
            officer_for=lambda c: district_officer,
            reviewer=user,
            mix=MIX,
            seed=f"{period.pk}-{start}",
        )


def queries(client, url, params):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
    assert response.status_code == 200
    return len(ctx)


def test_province_dashboard_and_export_do_not_grow(
    client, province, district_officer, user, ntm_set
):
    periods = [make_period(province, [ntm_set], name=f"Năm {y}", year=y) for y in (2024, 2025)]
    client.force_login(user)
    params = {"period": periods[1].pk, "submitted": "on"}
    grow(province, district_officer, user, ntm_set, periods, 0, 20)
    small = [
        queries(client, reverse(n), params) for n in ("reports:province", "reports:province_export")
    ]
    grow(province, district_officer, user, ntm_set, periods, 20, 180)

    large = [
        queries(client, reverse(n), params) for n in ("reports:province", "reports:province_export")
    ]

    assert small == large
    assert large[0] <= 25


def test_district_dashboard_does_not_grow(
    client, province, district_officer, user, ntm_set, loc_binh
):
    period = make_period(province, [ntm_set])
    client.force_login(user)
    url = reverse("reports:district", args=[loc_binh.pk])
    for _ in range(5):
        make_commune(loc_binh)
    few = queries(client, url, {"period": period.pk})
    for _ in range(45):
        make_commune(loc_binh)

    assert queries(client, url, {"period": period.pk}) == few
