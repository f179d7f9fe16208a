"""Entering results through the form: decisions, overrides, history, versions and conflicts."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.urls import reverse

from assessments import services
from assessments.models import Change, IndicatorResult
from tests.conftest import indicator

pytestmark = pytest.mark.django_db


def form_url(assessment, code):
    return reverse(
        "assessments:indicator_save",
        args=[assessment.pk, indicator(assessment.criteria_set, code).pk],
    )


def postal_post(assessment, version=None, **extra):
    prefix = f"i{indicator(assessment.criteria_set, '8.1').pk}"
    data = {f"{prefix}-version": version or assessment.version}
    data.update({f"{prefix}-c_{n}": "on" for n in range(1, 7)})
    data.update({f"{prefix}-{k}": v for k, v in extra.items()})
    return data


def test_saving_the_postal_checklist_decides_it_and_records_the_history(
    client, district_officer, assessment
):
    client.force_login(district_officer)

    response = client.post(form_url(assessment, "8.1"), postal_post(assessment, note="Bưu điện xã"))

    assert response.status_code == 302
    result = IndicatorResult.objects.get(assessment=assessment)
    assert result.is_met is True and result.computed_met is True
    assert result.note == "Bưu điện xã"
    assessment.refresh_from_db()
    assert assessment.version == 2
    fields = set(Change.objects.filter(assessment=assessment).values_list("field", flat=True))
    assert {"inputs", "note", "is_met"} <= fields
    page = client.get(reverse("assessments:assessment", args=[assessment.pk])).content.decode()
    assert "Đạt: cả 6 điều kiện đều đạt." in page


def test_an_override_needs_a_reason_and_the_form_keeps_what_was_typed(
    client, district_officer, assessment
):
    client.force_login(district_officer)
    data = postal_post(assessment, override="not_met", note="Ghi chú của tôi")
    data.pop(f"i{indicator(assessment.criteria_set, '8.1').pk}-c_3")

    response = client.post(form_url(assessment, "8.1"), data)

    page = response.content.decode()
    assert response.status_code == 200
    assert "Hãy ghi rõ lý do bạn tự xác định kết quả" in page
    assert "Ghi chú của tôi" in page
    assert 'value="not_met" selected' in page
    assert not IndicatorResult.objects.filter(assessment=assessment).exists()


def test_an_override_with_a_reason_wins_and_is_shown(client, district_officer, assessment):
    client.force_login(district_officer)
    data = postal_post(
        assessment, override="not_met", override_reason="Điểm bưu chính đang tạm đóng cửa"
    )

    client.post(form_url(assessment, "8.1"), data)

    result = IndicatorResult.objects.get(assessment=assessment)
    assert (result.computed_met, result.is_met, result.override_met) == (True, False, False)
    page = client.get(reverse("assessments:assessment", args=[assessment.pk])).content.decode()
    assert "cán bộ xác định" in page
    assert "Điểm bưu chính đang tạm đóng cửa" in page


def test_the_later_of_two_saves_on_the_same_version_is_refused_and_shows_the_other_change(
    client, district_officer, assessment
):
    from django.test import Client

    other = Client()
    other.force_login(district_officer)
    client.force_login(district_officer)
    seen = assessment.version

    first = other.post(form_url(assessment, "8.1"), postal_post(assessment, seen, note="Lần 1"))
    second = client.post(form_url(assessment, "8.1"), postal_post(assessment, seen, note="Lần 2"))

    assert first.status_code == 302
    assert second.status_code == 409
    page = second.content.decode()
    assert 'data-testid="conflict"' in page
    assert "Lần 1" in page  # what the other person saved
    assert "Lần 2" in page  # what this user typed is still in the form
    assert IndicatorResult.objects.get(assessment=assessment).note == "Lần 1"


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks and parallel writers need PostgreSQL"
)
def test_concurrent_saves_of_one_version_let_exactly_one_through(
    district_officer, ntm_set, commune, period, villages
):
    assessment = services.create_assessment(
        user=district_officer, commune=commune, criteria_set=ntm_set, period=period
    )
    postal = indicator(ntm_set, "8.1")
    outcomes, barrier = [], threading.Barrier(4)

    def save(note):
        barrier.wait()
        try:
            services.save_entry(
                user=district_officer,
                assessment=assessment,
                indicator=postal,
                entry=services.Entry(inputs={"conditions": {"1": True}}, note=note),
                seen_version=1,
            )
            outcomes.append("saved")
        except services.VersionConflict:
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [threading.Thread(target=save, args=(f"note {n}",)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(outcomes) == ["conflict", "conflict", "conflict", "saved"]
    assessment.refresh_from_db()
    assert assessment.version == 2
    assert Change.objects.filter(assessment=assessment, field="note").count() == 1


def test_village_grid_decides_8_2(client, district_officer, assessment, villages):
    client.force_login(district_officer)
    telecom = indicator(assessment.criteria_set, "8.2")
    prefix = f"i{telecom.pk}"
    data = {f"{prefix}-version": assessment.version}
    for village in villages:
        data[f"{prefix}-v_{village.pk}_2"] = "on"
        if village.name != "Pò Lọi":
            data[f"{prefix}-v_{village.pk}_3"] = "on"

    client.post(form_url(assessment, "8.2"), data)

    result = IndicatorResult.objects.get(assessment=assessment, indicator=telecom)
    assert result.is_met is False
    assert "1/3 thôn chưa có Internet (Pò Lọi)" in result.computed_reason


def test_bad_numbers_are_refused_next_to_the_field(client, district_officer, assessment):
    client.force_login(district_officer)
    it = indicator(assessment.criteria_set, "8.4")
    prefix = f"i{it.pk}"

    response = client.post(
        form_url(assessment, "8.4"),
        {f"{prefix}-version": assessment.version, f"{prefix}-c_1": "nhiều"},
    )

    assert response.status_code == 200
    assert "Nhập một số." in response.content.decode()
    assert 'value="nhiều"' in response.content.decode()
    assert not IndicatorResult.objects.exists()
