"""The review workflow, the lock on approved assessments, periods and creating assessments."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from assessments import services
from assessments.models import (
    Assessment,
    AssessmentLocked,
    Commune,
    Evidence,
    IndicatorResult,
    State,
    User,
)
from tests.conftest import POSTAL_ALL, indicator, make_commune, make_village

pytestmark = pytest.mark.django_db


def complete(assessment, user):
    """Enter all four indicators as met, with an explanation instead of evidence."""
    villages = list(assessment.commune.villages.all())
    everything = {str(v.pk): {"1": True, "2": True, "3": True, "4": True} for v in villages}
    entries = {
        "8.1": POSTAL_ALL,
        "8.2": {"conditions": {}, "villages": everything},
        "8.3": {"conditions": {"1": True}, "villages": everything},
        "8.4": {"conditions": {"1": "90", "2": True, "3": True, "4": True, "5": "75"}},
    }
    for code, inputs in entries.items():
        services.save_entry(
            user=user,
            assessment=assessment,
            indicator=indicator(assessment.criteria_set, code),
            entry=services.Entry(inputs=inputs, no_evidence_explanation="Đã kiểm tra thực tế"),
            seen_version=None,
        )
    assessment.refresh_from_db()
    return assessment


def post(client, name, assessment, **data):
    return client.post(reverse(f"assessments:{name}", args=[assessment.pk]), data, follow=True)


def test_the_full_review_journey_with_a_return(client, district_officer, user, assessment):
    reviewer = user
    complete(assessment, district_officer)
    client.force_login(district_officer)
    post(client, "submit", assessment)
    assessment.refresh_from_db()
    assert assessment.state == State.SUBMITTED

    client.force_login(reviewer)
    response = post(client, "return", assessment, reason="")
    assert "Hãy ghi lý do trả lại" in response.content.decode()
    post(client, "return", assessment, reason="Thiếu ảnh chụp biển tên điểm bưu chính")
    assessment.refresh_from_db()
    assert assessment.state == State.RETURNED

    client.force_login(district_officer)
    worklist = client.get(
        reverse("assessments:worklist"),
        {"period": assessment.period_id, "set": assessment.criteria_set_id},
    ).content.decode()
    assert "Thiếu ảnh chụp biển tên điểm bưu chính" in worklist
    services.save_entry(
        user=district_officer,
        assessment=assessment,
        indicator=indicator(assessment.criteria_set, "8.1"),
        entry=services.Entry(
            inputs=POSTAL_ALL, note="Đã bổ sung ảnh", no_evidence_explanation="Ảnh nộp bản giấy"
        ),
        seen_version=None,
    )
    assert assessment.changes.filter(field="note", after_return=True).exists()
    post(client, "submit", assessment)

    client.force_login(reviewer)
    post(client, "approve", assessment)
    assessment.refresh_from_db()
    assert assessment.state == State.APPROVED and assessment.is_locked
    actions = list(assessment.transitions.values_list("action", flat=True))
    assert actions == ["create", "submit", "return", "submit", "approve"]
    page = client.get(reverse("assessments:assessment", args=[assessment.pk])).content.decode()
    assert page.count('data-testid="state"') >= 6  # header + five steps of the timeline


def test_met_without_evidence_or_explanation_cannot_be_submitted(
    client, district_officer, assessment
):
    complete(assessment, district_officer)
    IndicatorResult.objects.filter(assessment=assessment).update(no_evidence_explanation="")
    client.force_login(district_officer)

    response = post(client, "submit", assessment)

    assert "được đánh dấu Đạt nhưng chưa có minh chứng" in response.content.decode()
    assessment.refresh_from_db()
    assert assessment.state == State.DRAFT


@pytest.mark.parametrize(
    ("who", "step"),
    [
        ("viewer", "submit"),
        ("user", "submit"),
        ("district_officer", "approve"),
        ("viewer", "approve"),
        ("district_officer", "reopen"),
        ("viewer", "return"),
    ],
)
def test_roles_that_may_not_take_a_step_get_403(
    client, request, who, step, assessment, district_officer
):
    complete(assessment, district_officer)
    services.submit(user=district_officer, assessment=assessment)
    client.force_login(request.getfixturevalue(who))

    response = client.post(reverse(f"assessments:{step}", args=[assessment.pk]), {"reason": "x"})

    assert response.status_code == 403
    assessment.refresh_from_db()
    assert assessment.state == State.SUBMITTED


def test_another_district_cannot_touch_the_assessment(client, other_district_officer, assessment):
    client.force_login(other_district_officer)
    for name in ("assessment", "submit", "copy_previous"):
        url = reverse(f"assessments:{name}", args=[assessment.pk])
        assert (client.get(url) if name == "assessment" else client.post(url)).status_code == 404


@pytest.fixture
def approved(assessment, district_officer, user):
    complete(assessment, district_officer)
    services.submit(user=district_officer, assessment=assessment)
    services.approve(user=user, assessment=assessment)
    assessment.refresh_from_db()
    return assessment


def test_approved_assessments_refuse_the_form(client, district_officer, approved):
    client.force_login(district_officer)
    postal = indicator(approved.criteria_set, "8.1")
    prefix = f"i{postal.pk}"

    response = client.post(
        reverse("assessments:indicator_save", args=[approved.pk, postal.pk]),
        {f"{prefix}-version": approved.version, f"{prefix}-note": "sửa sau khi duyệt"},
        follow=True,
    )

    assert "đã được duyệt và khóa" in response.content.decode()
    assert not IndicatorResult.objects.filter(note="sửa sau khi duyệt").exists()


def test_approved_assessments_refuse_the_services(district_officer, approved):
    with pytest.raises(AssessmentLocked):
        services.save_entry(
            user=district_officer,
            assessment=approved,
            indicator=indicator(approved.criteria_set, "8.1"),
            entry=services.Entry(inputs={}),
            seen_version=None,
        )
    with pytest.raises(AssessmentLocked):
        services.add_evidence(
            user=district_officer,
            assessment=approved,
            indicator=indicator(approved.criteria_set, "8.1"),
            doc_number="1/QĐ",
        )


def test_approved_assessments_refuse_bulk_updates_and_direct_saves(approved):
    with pytest.raises(AssessmentLocked), transaction.atomic():
        IndicatorResult.objects.filter(assessment=approved).update(note="bulk")
    with pytest.raises(AssessmentLocked), transaction.atomic():
        IndicatorResult.objects.filter(assessment=approved).delete()
    with pytest.raises(AssessmentLocked), transaction.atomic():
        Assessment.objects.filter(pk=approved.pk).update(all_met=False)
    result = IndicatorResult.objects.filter(assessment=approved).first()
    result.note = "direct"
    with pytest.raises(AssessmentLocked), transaction.atomic():
        result.save()
    with pytest.raises(AssessmentLocked), transaction.atomic():
        Evidence.objects.create(result=result, doc_number="1", added_by=approved.created_by)
    assert not IndicatorResult.objects.filter(note__in=["bulk", "direct"]).exists()


def test_approved_assessments_are_read_only_in_the_admin(client, approved):
    client.force_login(User.objects.create_superuser("root", password="pw-for-tests-1"))
    result = IndicatorResult.objects.filter(assessment=approved).first()
    url = reverse("admin:assessments_indicatorresult_change", args=[result.pk])

    client.post(url, {"note": "admin", "assessment": approved.pk, "indicator": result.indicator_id})

    result.refresh_from_db()
    assert result.note != "admin"
    assert 'name="note"' not in client.get(url).content.decode()


def test_only_a_reviewer_reopens_with_a_reason_and_entry_works_again(
    client, user, district_officer, approved
):
    client.force_login(user)
    response = post(client, "reopen", approved, reason="  ")
    assert "Hãy ghi lý do mở lại" in response.content.decode()

    post(client, "reopen", approved, reason="Sai số liệu thôn Nà Mạ")

    approved.refresh_from_db()
    assert approved.state == State.RETURNED
    services.save_entry(
        user=district_officer,
        assessment=approved,
        indicator=indicator(approved.criteria_set, "8.1"),
        entry=services.Entry(
            inputs=POSTAL_ALL, note="Sửa sau khi mở lại", no_evidence_explanation="Đã kiểm tra"
        ),
        seen_version=None,
    )
    assert approved.changes.filter(field="note", after_return=True).exists()


def test_a_closed_period_refuses_entry_until_a_reviewer_reopens_one_assessment(
    client, district_officer, user, assessment
):
    assessment.period.is_open = False
    assessment.period.save()
    with pytest.raises(services.WorkflowError, match="đã đóng"):
        services.save_entry(
            user=district_officer,
            assessment=assessment,
            indicator=indicator(assessment.criteria_set, "8.1"),
            entry=services.Entry(inputs=POSTAL_ALL),
            seen_version=None,
        )

    services.reopen(user=user, assessment=assessment, reason="Xã bổ sung hồ sơ muộn")

    assessment.refresh_from_db()
    assert assessment.entry_reopened
    services.save_entry(
        user=district_officer,
        assessment=assessment,
        indicator=indicator(assessment.criteria_set, "8.1"),
        entry=services.Entry(inputs=POSTAL_ALL),
        seen_version=None,
    )
    assert IndicatorResult.objects.filter(assessment=assessment, is_met=True).exists()


def test_reviewer_approves_a_districts_submitted_assessments_after_confirming(
    client, district_officer, user, assessment, loc_binh, ntm_set, period
):
    second_commune = make_commune(loc_binh, "Xã Tú Mịch")
    make_village(second_commune, "Thôn Nà Lừa")
    second = services.create_assessment(
        user=district_officer, commune=second_commune, criteria_set=ntm_set, period=period
    )
    for a in (assessment, second):
        complete(a, district_officer)
        services.submit(user=district_officer, assessment=a)
    client.force_login(user)
    url = reverse("assessments:approve_district", args=[loc_binh.pk])
    query = f"?period={period.pk}&set={ntm_set.pk}"

    confirm = client.get(url + query).content.decode()
    assert "Xã Hữu Khánh" in confirm and "Xã Tú Mịch" in confirm
    client.post(url + query, {"assessment": [assessment.pk, second.pk]})

    assert set(Assessment.objects.values_list("state", flat=True)) == {State.APPROVED}


def test_a_commune_self_assessment_goes_to_the_district_first(
    client, commune_officer, district_officer, user, ntm_set, period, villages
):
    assessment = services.create_assessment(
        user=commune_officer, commune=commune_officer.commune, criteria_set=ntm_set, period=period
    )
    complete(assessment, commune_officer)
    services.submit(user=commune_officer, assessment=assessment)
    assessment.refresh_from_db()
    assert assessment.state == State.DISTRICT_REVIEW
    with pytest.raises(services.WorkflowError):
        services.approve(user=user, assessment=assessment)

    services.forward(user=district_officer, assessment=assessment)

    assessment.refresh_from_db()
    assert assessment.state == State.SUBMITTED


def test_creating_for_the_whole_district_takes_xa_only(
    client, district_officer, loc_binh, ntm_set, period, other_commune
):
    make_commune(loc_binh, "Xã A")
    make_commune(loc_binh, "Thị trấn B", kind=Commune.Kind.TOWNSHIP)
    client.force_login(district_officer)

    client.post(
        reverse("assessments:assessment_create_all"), {"period": period.pk, "set": ntm_set.pk}
    )
    client.post(
        reverse("assessments:assessment_create_all"), {"period": period.pk, "set": ntm_set.pk}
    )

    names = sorted(Assessment.objects.values_list("commune__name", flat=True))
    assert names == ["Xã A"]


def test_a_township_cannot_get_an_ntm_assessment(district_officer, loc_binh, ntm_set, period):
    township = make_commune(loc_binh, "Thị trấn Na Dương", kind=Commune.Kind.TOWNSHIP)

    with pytest.raises(services.WorkflowError, match="chỉ áp dụng cho xã"):
        services.create_assessment(
            user=district_officer, commune=township, criteria_set=ntm_set, period=period
        )


def test_one_assessment_per_commune_set_and_period_is_a_database_rule(assessment):
    with pytest.raises(IntegrityError), transaction.atomic():
        Assessment.objects.create(
            commune=assessment.commune,
            criteria_set=assessment.criteria_set,
            period=assessment.period,
            created_by=assessment.created_by,
        )


def test_copy_from_the_previous_period(district_officer, user, assessment, province, ntm_set):
    from tests.conftest import make_period

    complete(assessment, district_officer)
    later = make_period(province, [ntm_set], name="Năm 2026", year=2026)
    new = services.create_assessment(
        user=district_officer, commune=assessment.commune, criteria_set=ntm_set, period=later
    )

    copied = services.copy_from_previous(user=district_officer, assessment=new)

    assert copied == 4
    new.refresh_from_db()
    assert new.all_met is True
    assert new.changes.filter(source__contains="Năm 2025").exists()
