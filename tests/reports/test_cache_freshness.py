"""Dashboards are reused while nothing changed, and every kind of write shows on the next load."""

from __future__ import annotations

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assessments import services
from tests.conftest import POSTAL_ALL, indicator

pytestmark = pytest.mark.django_db


def load(client, period, **params):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("reports:province"), {"period": period.pk, **params})
    assert response.status_code == 200
    return response.content.decode(), len(ctx)


def _comparable(html):  # the logout form's CSRF token is masked anew on every page
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)


def test_a_repeated_load_is_served_from_the_cache(client, user, hand_built):
    client.force_login(user)
    first, cold = load(client, hand_built["p2025"])

    second, warm = load(client, hand_built["p2025"])

    assert _comparable(second) == _comparable(first)
    assert warm < cold


def test_a_saved_entry_and_a_flag_edit_show_on_the_next_load(
    client, user, manager, other_district_officer, hand_built
):
    client.force_login(user)
    period = hand_built["p2025"]
    before, _ = load(client, period, submitted="on", border="on")
    assert '">Huyện Cao Lộc</a>' not in before  # no border xã there yet: no row

    y1 = hand_built["y1"].assessments.get()
    services.return_assessment(user=user, assessment=y1, reason="Sửa 8.1")
    services.save_entry(
        user=other_district_officer,
        assessment=y1,
        indicator=indicator(y1.criteria_set, "8.1"),
        entry=services.Entry(inputs={"conditions": {**POSTAL_ALL["conditions"], "1": False}}),
        seen_version=None,
    )
    after_save, _ = load(client, period, submitted="on")
    assert "Xã Sáu" not in after_save  # returned: no longer counted, so not in the gap list
    client.force_login(manager)
    client.post(
        reverse("assessments:commune_edit", args=[hand_built["y2"].pk]), {"is_border": "on"}
    )
    client.force_login(user)

    bordered, _ = load(client, period, border="on")

    assert '">Huyện Cao Lộc</a>' in bordered  # Y2 is now a border xã of Cao Lộc


def test_renaming_a_district_shows_on_the_next_load(client, user, hand_built, loc_binh):
    client.force_login(user)
    period = hand_built["p2025"]
    before, _ = load(client, period)
    assert "Huyện Lộc Bình" in before

    loc_binh.name = "Huyện Lộc Bình Mới"  # as the admin's change form saves it
    loc_binh.save()
    after, _ = load(client, period)

    assert "Huyện Lộc Bình Mới" in after


def test_changing_a_periods_reference_date_shows_on_the_next_load(client, user, hand_built):
    from django.core.cache import cache

    client.force_login(user)
    period = hand_built["p2024"]
    period.reference_date = datetime.date(2024, 1, 1)  # Xã Cũ (ended 30/11/2024) in force
    period.save()
    before, _ = load(client, period)

    period.reference_date = datetime.date(2024, 12, 31)  # the admin corrects it: Xã Cũ ended
    period.save()
    after, _ = load(client, period)
    cache.clear()
    rebuilt, _ = load(client, period)

    assert _comparable(after) != _comparable(before)
    assert _comparable(after) == _comparable(rebuilt)


def test_closing_one_period_and_opening_another_shows_on_the_next_load(
    client, user, manager, hand_built
):
    """The year-end routine: close last year's period, open this year's. The number of open
    periods is back where it was; the dashboards must still show the change."""
    from django.core.cache import cache
    from django.test import Client

    p2024, p2025 = hand_built["p2024"], hand_built["p2025"]
    p2025.is_open = False
    p2025.save()
    client.force_login(user)
    load(client, p2025)
    admin = Client()
    admin.force_login(manager)
    for period in (p2024, p2025):
        toggle = reverse("assessments:period_toggle", args=[period.pk])
        assert admin.post(toggle).status_code == 302

    after, _ = load(client, p2025)
    cache.clear()
    rebuilt, _ = load(client, p2025)

    assert _comparable(after) == _comparable(rebuilt)
