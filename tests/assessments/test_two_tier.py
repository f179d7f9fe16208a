"""Communes without districts (from 01/07/2025): who creates and appraises, units in force on a
period's reference date, commune groups and their targets, and verdicts that follow what they
depend on."""

from __future__ import annotations

import datetime
import re

import pytest
from django.urls import reverse

from assessments import services
from assessments.models import (
    Assessment,
    Change,
    Commune,
    CommuneGroupAssignment,
    IndicatorResult,
    ReviewAssignment,
    Role,
    State,
)
from criteria.models import CriteriaSet, Region
from criteria.specs import normalize_spec, save_spec
from tests.conftest import indicator, make_commune, make_period, make_user

REFORM = datetime.date(2025, 7, 1)


@pytest.fixture
def new_commune(province, loc_binh) -> Commune:
    """A commune formed on 01/07/2025 from an old one of Lộc Bình; it has no district."""
    old = make_commune(loc_binh, "Xã Tú Đoạn", code="06283", valid_to=datetime.date(2025, 6, 30))
    new = Commune.objects.create(
        province=province, code="06280", name="Xã Lộc Bình", kind="xa", valid_from=REFORM
    )
    old.successor = new
    old.save()
    return new


@pytest.fixture
def period_2026(province, grouped_set):
    return make_period(
        province,
        [grouped_set],
        name="Năm 2026",
        year=2026,
        reference_date=datetime.date(2026, 3, 1),
    )


@pytest.fixture
def new_officer(province, new_commune):
    return make_user(
        "xa-locbinh", role=Role.COMMUNE_OFFICER, province=province, commune=new_commune
    )


def test_the_worklist_of_a_2026_period_lists_only_units_in_force_on_its_reference_date(
    client, manager, new_commune, period_2026, grouped_set
):
    client.force_login(manager)

    page = client.get(
        reverse("assessments:worklist"), {"period": period_2026.pk, "set": grouped_set.pk}
    ).content.decode()

    assert "Xã Lộc Bình" in page
    assert "Xã Tú Đoạn" not in page  # ended 30/06/2025


def test_the_province_admin_creates_an_assessment_for_a_new_commune(
    client, manager, new_commune, period_2026, grouped_set
):
    client.force_login(manager)

    response = client.post(
        reverse("assessments:assessment_create"),
        {"commune": new_commune.pk, "period": period_2026.pk, "set": grouped_set.pk},
    )

    assessment = Assessment.objects.get(commune=new_commune)
    assert response.status_code == 302 and assessment.state == State.DRAFT


def test_the_province_admin_creates_drafts_for_every_xa_of_the_province_in_force(
    client, manager, province, new_commune, period_2026, grouped_set
):
    Commune.objects.create(province=province, code="06290", name="Phường Mới", kind="phuong")
    client.force_login(manager)

    client.post(
        reverse("assessments:assessment_create_all"),
        {"period": period_2026.pk, "set": grouped_set.pk},
    )

    assert list(Assessment.objects.values_list("commune__name", flat=True)) == ["Xã Lộc Bình"]


def test_an_ended_unit_cannot_get_an_assessment_in_a_period_after_its_end(
    manager, loc_binh, period_2026, grouped_set
):
    ended = Commune.objects.get(code="06283") if Commune.objects.filter(code="06283") else None
    ended = ended or make_commune(loc_binh, "Xã Cũ", valid_to=datetime.date(2025, 6, 30))

    with pytest.raises(services.WorkflowError, match="không có hiệu lực"):
        services.create_assessment(
            user=manager, commune=ended, criteria_set=grouped_set, period=period_2026
        )


def test_a_commune_without_a_group_is_undecided_with_that_reason(
    manager, new_commune, new_officer, period_2026, grouped_set
):
    assessment = services.create_assessment(
        user=manager, commune=new_commune, criteria_set=grouped_set, period=period_2026
    )

    result = services.save_entry(
        user=new_officer,
        assessment=assessment,
        indicator=indicator(grouped_set, "7.1"),
        entry=services.Entry(inputs={"value": "85"}),
        seen_version=None,
    )

    assert result.is_met is None
    assert "chưa xếp nhóm" in result.computed_reason


@pytest.mark.parametrize(("group", "met"), [("nhom-1", False), ("nhom-2", True), ("nhom-3", True)])
def test_scoring_uses_the_target_of_the_communes_group(
    manager, new_commune, new_officer, period_2026, grouped_set, group, met
):
    CommuneGroupAssignment.objects.create(
        commune=new_commune, set_code=grouped_set.code, group_code=group
    )
    assessment = services.create_assessment(
        user=manager, commune=new_commune, criteria_set=grouped_set, period=period_2026
    )

    result = services.save_entry(
        user=new_officer,
        assessment=assessment,
        indicator=indicator(grouped_set, "7.1"),
        entry=services.Entry(inputs={"value": "85"}),
        seen_version=None,
    )

    assert result.is_met is met


def test_setting_the_group_on_the_communes_page_decides_open_assessments_again(
    client, manager, new_commune, new_officer, period_2026, grouped_set
):
    assessment = services.create_assessment(
        user=manager, commune=new_commune, criteria_set=grouped_set, period=period_2026
    )
    share = indicator(grouped_set, "7.1")
    services.save_entry(
        user=new_officer,
        assessment=assessment,
        indicator=share,
        entry=services.Entry(inputs={"value": "85"}),
        seen_version=None,
    )
    client.force_login(manager)
    page = client.get(reverse("assessments:commune", args=[new_commune.pk])).content.decode()
    assert "chưa xếp nhóm" in page

    client.post(
        reverse("assessments:commune_group_edit", args=[new_commune.pk, grouped_set.pk]),
        {f"g{grouped_set.pk}-group": "nhom-2", f"g{grouped_set.pk}-document": "QĐ 12/QĐ-UBND"},
    )

    result = IndicatorResult.objects.get(assessment=assessment, indicator=share)
    assert result.is_met is True
    assert Change.objects.filter(
        assessment=assessment, field="is_met", source__icontains="nhóm"
    ).exists()


def test_a_group_that_is_not_the_sets_is_refused_next_to_the_field(
    client, manager, new_commune, grouped_set
):
    client.force_login(manager)

    response = client.post(
        reverse("assessments:commune_group_edit", args=[new_commune.pk, grouped_set.pk]),
        {f"g{grouped_set.pk}-group": "nhom-9"},
    )

    assert response.status_code == 200
    assert "is-invalid" in response.content.decode()
    assert not CommuneGroupAssignment.objects.exists()


def test_a_commune_officer_cannot_change_the_group(client, new_officer, new_commune, grouped_set):
    client.force_login(new_officer)

    response = client.post(
        reverse("assessments:commune_group_edit", args=[new_commune.pk, grouped_set.pk]),
        {f"g{grouped_set.pk}-group": "nhom-3"},
    )

    assert response.status_code == 403
    assert not CommuneGroupAssignment.objects.exists()


def test_the_officer_of_a_new_commune_keeps_its_village_list(client, new_officer, new_commune):
    client.force_login(new_officer)

    client.post(
        reverse("assessments:village_add", args=[new_commune.pk]),
        {"name": "Bản Mới", "is_active": "on"},
    )

    assert list(new_commune.villages.values_list("name", flat=True)) == ["Bản Mới"]


# ---------------------------------------------------------------- stale verdicts


@pytest.fixture
def scored(assessment, district_officer):
    """8.2 met in all three villages of Hữu Khánh."""
    services.save_entry(
        user=district_officer,
        assessment=assessment,
        indicator=indicator(assessment.criteria_set, "8.2"),
        entry=services.Entry(inputs=_all_villages_yes(assessment)),
        seen_version=None,
    )
    return assessment


def _all_villages_yes(assessment) -> dict:
    village_conditions = [
        c.code
        for c in indicator(assessment.criteria_set, "8.2").conditions.all()
        if c.scope == "village"
    ]
    return {
        "villages": {
            str(v.pk): dict.fromkeys(village_conditions, True)
            for v in assessment.commune.villages.all()
        }
    }


def test_a_village_added_after_scoring_makes_8_2_undecided_in_the_same_save(
    client, scored, district_officer
):
    eight_two = indicator(scored.criteria_set, "8.2")
    before = IndicatorResult.objects.get(assessment=scored, indicator=eight_two)
    assert before.is_met is True
    client.force_login(district_officer)

    client.post(
        reverse("assessments:village_add", args=[scored.commune_id]),
        {"name": "Bản Mới", "is_active": "on"},
    )

    after = IndicatorResult.objects.get(assessment=scored, indicator=eight_two)
    assert after.is_met is None
    assert "Bản Mới" in after.computed_reason
    recorded = Change.objects.filter(assessment=scored, field="is_met").first()
    assert recorded.new is None and "thôn" in recorded.source


def test_a_village_added_after_approval_leaves_the_result_and_flags_it_for_the_reviewer(
    client, scored, district_officer, user
):
    Assessment.objects.filter(pk=scored.pk).update(state=State.SUBMITTED)
    services.approve(user=user, assessment=scored)
    eight_two = indicator(scored.criteria_set, "8.2")
    client.force_login(district_officer)

    client.post(
        reverse("assessments:village_add", args=[scored.commune_id]),
        {"name": "Bản Mới", "is_active": "on"},
    )

    approved = Assessment.objects.get(pk=scored.pk)
    assert approved.state == State.APPROVED
    assert IndicatorResult.objects.get(assessment=scored, indicator=eight_two).is_met is True
    assert "Danh sách thôn thay đổi sau khi duyệt" in approved.attention
    client.force_login(user)
    page = client.get(reverse("assessments:assessment", args=[scored.pk])).content.decode()
    assert "Danh sách thôn thay đổi sau khi duyệt" in page


def test_changing_a_communes_flags_decides_its_open_assessments_again(
    client, manager, province, commune, district_officer, period
):
    """Under the set's special rule an ĐBKK commune of the delta uses the northern target."""
    delta = Region.objects.get_or_create(
        code="dong-bang-song-hong", defaults={"name": "Đồng bằng sông Hồng"}
    )[0]
    north = Region.objects.get(code="trung-du-mien-nui-phia-bac")
    province.region = delta
    province.save()
    spec = normalize_spec(
        {
            "code": "vung-thu",
            "name": "Bộ thử theo vùng",
            "kind": "province",
            "year_from": 2025,
            "year_to": 2025,
            "status": "active",
            "groups": [
                {
                    "number": "I",
                    "name": "Nhóm",
                    "criteria": [
                        {
                            "number": 8,
                            "name": "TT",
                            "indicators": [
                                {
                                    "code": "8.9",
                                    "content": "Tỷ lệ",
                                    "value_type": "percentage",
                                    "targets": [
                                        {"region": delta.code, "threshold": "70", "text": ""},
                                        {"region": north.code, "threshold": "50", "text": ""},
                                    ],
                                }
                            ],
                        }
                    ],
                }
            ],
        }
    )
    regional = save_spec(spec)[0]
    CriteriaSet.objects.filter(pk=regional.pk).update(
        special_region=north, special_region_flags=["is_extremely_difficult"]
    )
    period.criteria_sets.add(regional)
    assessment = services.create_assessment(
        user=district_officer, commune=commune, criteria_set=regional, period=period
    )
    share = indicator(regional, "8.9")
    result = services.save_entry(
        user=district_officer,
        assessment=assessment,
        indicator=share,
        entry=services.Entry(inputs={"value": "60"}),
        seen_version=None,
    )
    assert result.is_met is False
    client.force_login(manager)

    client.post(
        reverse("assessments:commune_edit", args=[commune.pk]), {"is_extremely_difficult": "on"}
    )

    assert IndicatorResult.objects.get(assessment=assessment, indicator=share).is_met is True
    recorded = Change.objects.get(assessment=assessment, field="is_met", new=True)
    assert "xã thay đổi" in recorded.source


# ---------------------------------------------------------------- reviewer assignments


def test_the_province_admin_assigns_a_reviewer_to_a_list_of_communes(
    client, manager, province, commune, other_commune
):
    reviewer = make_user(
        "so-khcn", role=Role.PROVINCE_REVIEWER, province=province, reviews_whole_province=False
    )
    client.force_login(manager)

    client.post(
        reverse("assessments:review_assignments"),
        {"reviewer": reviewer.pk, "communes": [commune.pk]},
    )

    assert list(ReviewAssignment.objects.values_list("commune", flat=True)) == [commune.pk]

    client.post(
        reverse("assessments:review_assignments"),
        {"reviewer": reviewer.pk, "whole_province": "on"},
    )

    assert list(ReviewAssignment.objects.values_list("commune", flat=True)) == [None]


def test_communes_are_ticked_one_by_one_not_chosen_with_ctrl(
    client, manager, province, commune, other_commune
):
    """A list where several are chosen by holding Ctrl loses the whole choice at one plain
    click; ticks do not."""
    client.force_login(manager)

    page = client.get(reverse("assessments:review_assignments")).content.decode()

    assert len(re.findall(r'<input type="checkbox"[^>]*name="communes"', page)) == 2
    assert '<select name="communes"' not in page and "Ctrl" not in page


def test_only_the_province_admin_opens_the_assignment_page(client, user, district_officer):
    for person in (user, district_officer):
        client.force_login(person)
        assert client.get(reverse("assessments:review_assignments")).status_code == 403


def test_a_reviewer_of_other_communes_cannot_approve(
    client, province, scored, district_officer, other_commune
):
    reviewer = make_user(
        "so-khcn-2", role=Role.PROVINCE_REVIEWER, province=province, reviews_whole_province=False
    )
    ReviewAssignment.objects.create(reviewer=reviewer, province=province, commune=other_commune)
    Assessment.objects.filter(pk=scored.pk).update(state=State.SUBMITTED)
    client.force_login(reviewer)

    response = client.post(reverse("assessments:approve", args=[scored.pk]))

    assert response.status_code == 403
    assert Assessment.objects.get(pk=scored.pk).state == State.SUBMITTED


def test_the_admin_shows_results_but_changes_go_through_the_workflow(client, scored):
    """Even a superuser's admin cannot bypass the workflow, the history or the versions."""
    superuser = make_user("quoc-gia", is_superuser=True, is_staff=True)
    result = IndicatorResult.objects.filter(assessment=scored).first()
    client.force_login(superuser)
    url = reverse("admin:assessments_indicatorresult_change", args=[result.pk])

    assert client.get(url).status_code == 200
    response = client.post(
        url, {"note": "admin", "assessment": scored.pk, "indicator": result.indicator_id}
    )

    assert response.status_code == 403
    result.refresh_from_db()
    assert result.note != "admin"


def test_the_scoring_form_marks_every_unconfirmed_line_with_its_footnote(
    client, district_officer, assessment
):
    client.force_login(district_officer)

    page = client.get(reverse("assessments:assessment", args=[assessment.pk])).content.decode()

    marked = [
        c
        for i in assessment.criteria_set.criteria.get(number=8).indicators.all()
        for c in i.conditions.all()
        if c.to_confirm
    ]
    assert marked, "the shipped 2021–2025 set marks some conditions of 8.3 and 8.4"
    assert page.count('data-testid="to-confirm"') >= len(marked)
    assert 'data-testid="to-confirm-notes"' in page
    for condition in marked:
        assert condition.to_confirm_note in page


def test_changing_a_target_of_a_draft_in_use_decides_its_open_assessments_again(
    client, manager, new_commune, new_officer, period_2026, grouped_set
):
    """A province completing a draft it already scores with: nhóm 2's target goes from 80% to
    90%, and 85% is no longer met — in the same save, with the cause in the history. (The draft
    is the province's own set: only the national operator changes a national one.)"""
    CriteriaSet.objects.filter(pk=grouped_set.pk).update(
        status=CriteriaSet.Status.DRAFT, owner_province_code=manager.province.code
    )
    CommuneGroupAssignment.objects.create(
        commune=new_commune, set_code=grouped_set.code, group_code="nhom-2"
    )
    assessment = services.create_assessment(
        user=manager, commune=new_commune, criteria_set=grouped_set, period=period_2026
    )
    share = indicator(grouped_set, "7.1")
    result = services.save_entry(
        user=new_officer,
        assessment=assessment,
        indicator=share,
        entry=services.Entry(inputs={"value": "85"}),
        seen_version=None,
    )
    assert result.is_met is True
    groups = {g.code: g for g in grouped_set.commune_groups.all()}
    data = {
        "code": "7.1",
        "content": share.content,
        "value_type": "percentage",
        "unit": "%",
        "comparison": "gte",
        "conditions-TOTAL_FORMS": "0",
        "conditions-INITIAL_FORMS": "0",
        "conditions-MIN_NUM_FORMS": "0",
        "conditions-MAX_NUM_FORMS": "1000",
    }
    for code, threshold in {"nhom-1": "90", "nhom-2": "90", "nhom-3": "60"}.items():
        data[f"target-communegroup-{groups[code].pk}-threshold"] = threshold
    client.force_login(manager)

    response = client.post(reverse("criteria:indicator_edit", args=[share.pk]), data)

    assert response.status_code == 302
    result = IndicatorResult.objects.get(assessment=assessment, indicator=share)
    assert result.is_met is False
    assert Change.objects.filter(
        assessment=assessment, field="is_met", new=False, source__icontains="mức đạt"
    ).exists()


def test_a_workbook_cannot_replace_a_draft_whose_indicators_have_results(
    client, manager, new_commune, new_officer, period_2026, grouped_set
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from criteria.specs import spec_from_set
    from criteria.workbooks import export_workbook

    # the province's own draft: only the national operator imports over a national one
    CriteriaSet.objects.filter(pk=grouped_set.pk).update(
        status=CriteriaSet.Status.DRAFT, owner_province_code=manager.province.code
    )
    assessment = services.create_assessment(
        user=manager, commune=new_commune, criteria_set=grouped_set, period=period_2026
    )
    services.save_entry(
        user=new_officer,
        assessment=assessment,
        indicator=indicator(grouped_set, "7.1"),
        entry=services.Entry(inputs={"value": "85"}),
        seen_version=None,
    )
    spec = spec_from_set(grouped_set)
    spec["name"] = "Bộ thử đã đổi tên"
    upload = SimpleUploadedFile("bo.xlsx", export_workbook(spec))
    client.force_login(manager)

    response = client.post(reverse("criteria:set_import"), {"workbook": upload})

    assert response.status_code == 200
    assert "Bộ tiêu chí nháp này đã có kết quả nhập" in response.content.decode()
    assert CriteriaSet.objects.get(pk=grouped_set.pk).name == "Bộ thử theo nhóm xã"
    assert IndicatorResult.objects.filter(assessment=assessment).count() == 1


def test_an_empty_worklist_says_how_to_start_and_a_commune_without_villages_how_to_add_them(
    client, manager, new_commune, period_2026, grouped_set
):
    client.force_login(manager)

    worklist = client.get(
        reverse("assessments:worklist"), {"period": period_2026.pk, "set": grouped_set.pk}
    ).content.decode()
    commune_page = client.get(reverse("assessments:commune", args=[new_commune.pk])).content

    assert 'data-testid="none-started"' in worklist
    assert "Bắt đầu" in worklist and "Tạo hồ sơ cho tất cả các xã của tỉnh" in worklist
    assert 'href="#id_name"' in commune_page.decode()


def test_opening_or_closing_a_period_asks_first_naming_it(client, manager, province, ntm_set):
    """One click on "Đóng" stopped entry for every xã of the province: the button now asks,
    naming the period and what closing does (site.js asks a [data-confirm] button's question)."""
    open_one = make_period(province, [ntm_set], name="Năm 2025", year=2025)
    make_period(province, [ntm_set], name="Năm 2024", year=2024, is_open=False)
    client.force_login(manager)

    page = client.get(reverse("assessments:period_list")).content.decode()

    assert 'data-confirm="Đóng Năm 2025?' in page
    assert "không nhập hay gửi được" in page
    assert 'data-confirm="Mở Năm 2024 cho nhập liệu?' in page
    assert open_one.is_open
