"""Numbers an officer entered come back in the form as Vietnamese write them: a decimal comma,
no trailing zeros ("74", "85,5"; it showed "74.00" and "85.5")."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from assessments import services
from tests.conftest import indicator

pytestmark = pytest.mark.django_db


def test_saved_numbers_are_shown_with_a_decimal_comma(client, district_officer, assessment):
    services.save_entry(
        user=district_officer,
        assessment=assessment,
        indicator=indicator(assessment.criteria_set, "8.4"),
        entry=services.Entry(inputs={"conditions": {"1": "74.00", "5": "85.5"}}),
        seen_version=None,
    )
    client.force_login(district_officer)

    page = client.get(reverse("assessments:assessment", args=[assessment.pk])).content.decode()

    number_inputs = re.findall(r'<input type="text" inputmode="decimal"[^>]*>', page)
    named = r'name="i\d+-c_(\d)" id="[^"]+" value="([^"]*)"'
    values = dict(re.findall(named, " ".join(number_inputs)))
    assert values == {"1": "74", "5": "85,5"}
