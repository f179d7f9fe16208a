"""Entering results through the form: decisions, overrides, history, versions and conflicts."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import translation

from assessments import services
from assessments.forms import IndicatorEntryForm
from assessments.models import Change, IndicatorResult
from criteria.models import Indicator
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
    data.update({f"{prefix}-c_{n}": "yes" for n in range(1, 7)})
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
        data[f"{prefix}-v_{village.pk}_1"] = "no"
        data[f"{prefix}-v_{village.pk}_2"] = "yes"
        data[f"{prefix}-v_{village.pk}_3"] = "yes" if village.name != "Pò Lọi" else "no"
        data[f"{prefix}-v_{village.pk}_4"] = "no"

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


# ---------------------------------------------------------------- yes / no / not entered yet


def page_of(client, assessment, **headers):
    return client.get(reverse("assessments:assessment", args=[assessment.pk]), **headers)


def test_every_condition_offers_yes_no_and_not_entered_with_not_entered_chosen_at_first(
    client, district_officer, assessment
):
    client.force_login(district_officer)
    prefix = f"i{indicator(assessment.criteria_set, '8.1').pk}"

    page = page_of(client, assessment).content.decode()

    for value in ("yes", "no"):
        assert f'name="{prefix}-c_4" value="{value}" class="form-check-input" id=' in page
    assert (
        f'name="{prefix}-c_4" value="" class="form-check-input" id="id_{prefix}-c_4_2" checked'
        in page
    )
    assert 'type="checkbox"' not in page.split('data-testid="form-8.1"')[1].split("</form>")[0]


def test_a_postal_condition_left_not_entered_is_kept_as_not_entered_and_leaves_8_1_undecided(
    client, district_officer, assessment
):
    client.force_login(district_officer)
    data = postal_post(assessment)
    data[f"i{indicator(assessment.criteria_set, '8.1').pk}-c_6"] = ""

    client.post(form_url(assessment, "8.1"), data)

    result = IndicatorResult.objects.get(assessment=assessment)
    assert result.inputs["conditions"]["6"] is None
    assert result.inputs["conditions"]["1"] is True
    assert result.is_met is None
    assert "Còn phải nhập" in result.computed_reason and "5 kg" in result.computed_reason


def test_a_postal_condition_answered_no_is_kept_as_no_and_fails_8_1(
    client, district_officer, assessment
):
    client.force_login(district_officer)
    data = postal_post(assessment)
    data[f"i{indicator(assessment.criteria_set, '8.1').pk}-c_4"] = "no"

    client.post(form_url(assessment, "8.1"), data)

    result = IndicatorResult.objects.get(assessment=assessment)
    assert result.inputs["conditions"]["4"] is False
    assert result.is_met is False


def test_a_village_with_only_the_telephone_answered_is_saved_as_undecided_not_failed(
    client, district_officer, assessment, villages
):
    client.force_login(district_officer)
    prefix = f"i{indicator(assessment.criteria_set, '8.2').pk}"
    data = {f"{prefix}-version": assessment.version}
    for village in villages:
        data[f"{prefix}-v_{village.pk}_2"] = "yes"
        if village.name != "Nà Mạ":
            data[f"{prefix}-v_{village.pk}_3"] = "yes"

    client.post(form_url(assessment, "8.2"), data)

    result = IndicatorResult.objects.get(assessment=assessment)
    na_ma = next(v for v in villages if v.name == "Nà Mạ")
    assert result.inputs["villages"][str(na_ma.pk)] == {"1": None, "2": True, "3": None, "4": None}
    assert result.is_met is None
    assert "chưa nhập đủ cho 1 thôn (Nà Mạ)" in result.computed_reason
    assert "lack" not in result.computed_reason


def test_answers_saved_before_show_yes_as_yes_no_as_no_and_missing_as_not_entered(
    client, district_officer, assessment, villages
):
    """Entries saved by the old form hold False for every unticked box: that was a no."""
    telecom = indicator(assessment.criteria_set, "8.2")
    first = villages[0]
    services.save_entry(
        user=district_officer,
        assessment=assessment,
        indicator=telecom,
        entry=services.Entry(
            inputs={"conditions": {}, "villages": {str(first.pk): {"1": False, "2": True}}}
        ),
        seen_version=assessment.version,
    )
    client.force_login(district_officer)
    prefix = f"i{telecom.pk}-v_{first.pk}"

    page = page_of(client, assessment).content.decode()

    def chosen(name):
        select = page.split(f'name="{name}"')[1].split("</select>")[0]
        return select.split(" selected>")[0].rsplit('value="', 1)[1].split('"')[0]

    assert chosen(f"{prefix}_1") == "no"
    assert chosen(f"{prefix}_2") == "yes"
    assert chosen(f"{prefix}_3") == ""


# ---------------------------------------------------------------- impossible values


def office_it_post(assessment, **answers):
    prefix = f"i{indicator(assessment.criteria_set, '8.4').pk}"
    data = {f"{prefix}-version": assessment.version}
    data.update({f"{prefix}-c_{code}": value for code, value in answers.items()})
    return data


def test_one_hundred_and_twenty_percent_is_refused(client, district_officer, assessment):
    client.force_login(district_officer)
    data = office_it_post(assessment, **{"1": "120", "2": "no", "3": "yes", "5": "60"})

    response = client.post(form_url(assessment, "8.4"), data)

    page = response.content.decode()
    assert response.status_code == 200
    assert "120% không hợp lệ: tỷ lệ phải từ 0 đến 100%." in page
    assert 'value="120"' in page  # what was typed stays in the form
    prefix = f"i{indicator(assessment.criteria_set, '8.4').pk}"
    assert f'value="no" class="form-check-input" id="id_{prefix}-c_2_1" checked' in page
    assert not IndicatorResult.objects.exists()


def test_a_negative_share_is_refused_next_to_its_field(client, district_officer, assessment):
    client.force_login(district_officer)

    response = client.post(
        form_url(assessment, "8.4"),
        office_it_post(assessment, **{"1": "90", "5": "-5"}),
    )

    page = response.content.decode()
    prefix = f"i{indicator(assessment.criteria_set, '8.4').pk}"
    field = page.split(f'name="{prefix}-c_5"')[1].split("</fieldset>")[0]
    assert "-5% không hợp lệ" in field
    assert not IndicatorResult.objects.exists()


def test_exactly_one_hundred_percent_is_accepted(client, district_officer, assessment):
    client.force_login(district_officer)
    data = office_it_post(assessment, **{"1": "100", "2": "yes", "3": "yes", "4": "yes", "5": "0"})

    response = client.post(form_url(assessment, "8.4"), data)

    assert response.status_code == 302
    result = IndicatorResult.objects.get(assessment=assessment)
    assert result.inputs["conditions"]["1"] == "100"
    assert result.is_met is False  # 0% of files online is below 60%


def test_a_percentage_indicator_refuses_more_than_one_hundred_and_a_count_refuses_below_zero():
    share = Indicator(code="9.9", content="Tỷ lệ", value_type="percentage", unit="%")
    count = Indicator(code="9.8", content="Số điểm", value_type="number", unit="điểm")

    def errors(it, value):
        form = IndicatorEntryForm(
            {f"i{it.code}-version": 1, f"i{it.code}-value": value},
            indicator=it,
            villages=[],
            version=1,
            prefix=f"i{it.code}",
        )
        return form.errors.get("value", [])

    with translation.override("en"):
        assert errors(share, "100.5") == ["100,5% is not possible: a share is between 0 and 100%."]
        assert errors(share, "100") == []
        assert errors(count, "-1") == ["-1 is not possible: a count cannot be below 0."]
        assert errors(count, "250") == []
