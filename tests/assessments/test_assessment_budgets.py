"""The worklist and the scoring form cost the same for 5 and 50 communes or villages."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assessments import services
from tests.conftest import make_commune, make_village

pytestmark = pytest.mark.django_db


def count(client, url, params=None) -> int:
    client.get(url, params or {})  # the session's first request may write it once
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(ctx)


def add_communes(district, n, user, ntm_set, period):
    for i in range(n):
        commune = make_commune(district, f"Xã Thêm {i}")
        make_village(commune, "Thôn 1")
        if i % 2:  # half of them started, half not
            services.create_assessment(
                user=user, commune=commune, criteria_set=ntm_set, period=period
            )


def test_worklist_does_not_grow_with_communes(client, district_officer, loc_binh, ntm_set, period):
    client.force_login(district_officer)
    params = {"period": period.pk, "set": ntm_set.pk}
    add_communes(loc_binh, 5, district_officer, ntm_set, period)
    few = count(client, reverse("assessments:worklist"), params)
    add_communes(loc_binh, 115, district_officer, ntm_set, period)  # three pages of 50

    # session, user, periods, their sets, the number of rows, the page's communes (with their
    # assessment's state, result, decided indicators and villages), the set's indicators,
    # the page's assessments, their unexplained results, the user's district
    assert count(client, reverse("assessments:worklist"), params) == few <= 10
    assert count(client, reverse("assessments:worklist"), {**params, "page": 3}) == few


def test_scoring_form_does_not_grow_with_villages(client, district_officer, assessment, commune):
    client.force_login(district_officer)
    url = reverse("assessments:assessment", args=[assessment.pk])
    few = count(client, url)
    for i in range(47):
        make_village(commune, f"Thôn số {i}")

    many = count(client, url)

    # session, user, assessment, indicators, conditions, targets, villages, results, evidence,
    # timeline, history, the user's unit
    assert many == few <= 13
