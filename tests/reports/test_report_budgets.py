"""Dashboards and exports cost the same number of queries for 20 and for 200 communes."""

from __future__ import annotations

import pytest
from django.core.cache import cache
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


def grow_reformed(province, district, ntm_set, user, before, after, start, count):
    """`count` communes formed on 01/07/2025 from three former xã each, three in four of them in
    a commune group, with results before and after the reform."""
    from assessments.models import Commune, CommuneGroupAssignment

    from .conftest import BEFORE_REFORM, REFORM, decided

    for n in range(start, start + count):
        new = Commune.objects.create(
            province=province,
            code=f"{70000 + n:05d}",
            name=f"Xã Mới {n}",
            kind=Commune.Kind.RURAL,
            valid_from=REFORM,
        )
        if n % 4:
            CommuneGroupAssignment.objects.create(
                commune=new, set_code=ntm_set.code, group_code=f"nhom-{n % 4}"
            )
        formers = [make_commune(district, valid_to=BEFORE_REFORM, successor=new) for _ in range(3)]
        decided(formers[0], before, ntm_set, user)
        decided(formers[1], before, ntm_set, user, all_met=False)
        decided(new, after, ntm_set, user, [State.APPROVED, State.SUBMITTED][n % 2], n % 3 == 0)


def test_dashboards_of_a_period_without_districts_do_not_grow(
    client, province, loc_binh, user, ntm_set
):
    import datetime

    from assessments.models import User
    from criteria.models import CommuneGroup

    for n in (1, 2, 3):
        CommuneGroup.objects.create(criteria_set=ntm_set, code=f"nhom-{n}", name=f"Nhóm {n}")
    before = make_period(
        province, [ntm_set], name="Kỳ 03/2025", reference_date=datetime.date(2025, 3, 1)
    )
    after = make_period(province, [ntm_set], name="Năm 2026", year=2026)
    superuser = User.objects.create_superuser("quoc-gia", password="x")
    pages = [
        (user, reverse("reports:province"), {"period": after.pk}),
        (user, reverse("reports:province_export"), {"period": after.pk}),
        (superuser, reverse("reports:national"), {"year": 2026, "set": ntm_set.pk}),
    ]

    def measure():
        counts = []
        for who, url, params in pages:
            client.force_login(who)
            counts.append(queries(client, url, params))
        return counts

    grow_reformed(province, loc_binh, ntm_set, user, before, after, 0, 4)
    small = measure()
    grow_reformed(province, loc_binh, ntm_set, user, before, after, 4, 36)

    large = measure()

    assert small == large
    assert large[0] <= 25
    client.force_login(user)
    cache.clear()  # the body was cached: render it again to read its context
    reorganisation = client.get(reverse("reports:province"), {"period": after.pk}).context[
        "reorganisation"
    ]
    assert (reorganisation.met_before, reorganisation.former) == (40, 120)
