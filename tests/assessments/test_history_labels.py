"""The history on the assessment page names what changed in words, never by the field's name
in the code: a result decided again after the villages changed showed "computed_reason".
Found in a UX walkthrough."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from assessments import services
from assessments.models import Change
from assessments.templatetags.assessment_tags import change_field
from tests.conftest import indicator

pytestmark = pytest.mark.django_db


def test_a_result_decided_again_after_a_new_village_shows_its_label_in_the_history(
    client, district_officer, assessment, villages
):
    telecom = indicator(assessment.criteria_set, "8.2")
    services.save_entry(
        user=district_officer,
        assessment=assessment,
        indicator=telecom,
        entry=services.Entry(
            inputs={"conditions": {}, "villages": {str(villages[0].pk): {"1": True, "2": True}}}
        ),
        seen_version=assessment.version,
    )
    client.force_login(district_officer)

    client.post(
        reverse("assessments:village_add", args=[assessment.commune.pk]),
        {"name": "Thôn Khòn Phạ", "is_active": "on"},
    )
    with translation.override("vi"):
        page = client.get(reverse("assessments:assessment", args=[assessment.pk]))
    history = page.content.decode().split('<section class="col-lg-7" id="history"')[1]

    assert Change.objects.filter(assessment=assessment, field="computed_reason").exists()
    assert "8.2 · Lý giải" in history
    assert "computed_reason" not in page.content.decode()


@pytest.mark.parametrize(
    "name, label",
    [("computed_reason", "Lý giải"), ("computed_met", "Kết quả tự tính"), ("is_met", "Kết quả")],
)
def test_every_recorded_field_has_a_vietnamese_label(name, label):
    with translation.override("vi"):
        assert change_field(name) == label
