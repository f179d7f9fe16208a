"""Unit pages cost the same number of queries for a district of 5 communes and one of 50."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assessments.models import Role
from tests.conftest import make_commune, make_district, make_user, make_village

pytestmark = pytest.mark.django_db


def queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx)


def grow_district(district, size: int) -> None:
    for n in range(size):
        commune = make_commune(district, is_border=n % 2 == 0, pilot_ntm_year=2025)
        make_village(commune, f"Thôn {n}")


def test_district_and_province_pages_do_not_grow_with_communes(client, province, manager):
    small = make_district(province, "901", "Huyện Nhỏ")
    large = make_district(province, "902", "Huyện Lớn")
    grow_district(small, 5)
    client.force_login(manager)
    province_before = queries(client, reverse("assessments:province"))
    grow_district(large, 50)

    district_small = queries(client, reverse("assessments:district", args=[small.pk]))
    district_large = queries(client, reverse("assessments:district", args=[large.pk]))
    province_after = queries(client, reverse("assessments:province"))

    # session, user, the user's unit (header), district, communes with village counts, and the
    # permission look-ups of the navigation
    assert district_small == district_large <= 8
    # session, user, unit, province, districts with counts, direct communes, province totals
    assert province_before == province_after <= 9


def test_commune_page_does_not_grow_with_villages(client, province, manager):
    district = make_district(province, "901", "Huyện A")
    few, many = make_commune(district), make_commune(district)
    for n in range(5):
        make_village(few, f"Thôn {n}")
    for n in range(50):
        make_village(many, f"Thôn {n}")
    client.force_login(manager)

    assert queries(client, reverse("assessments:commune", args=[few.pk])) == queries(
        client, reverse("assessments:commune", args=[many.pk])
    )


def test_account_list_does_not_grow_with_accounts(client, province, manager):
    district = make_district(province, "901", "Huyện A")
    commune = make_commune(district)
    client.force_login(manager)
    for n in range(5):
        make_user(f"a{n}", role=Role.COMMUNE_OFFICER, province=province, commune=commune)
    before = queries(client, reverse("assessments:user_list"))
    for n in range(50):
        make_user(f"b{n}", role=Role.DISTRICT_OFFICER, province=province, district=district)

    assert queries(client, reverse("assessments:user_list")) == before
