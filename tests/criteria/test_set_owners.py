"""Criteria sets have an owner: the nation, or one province. Only the national operator changes a
national set; a province copies one into its own set, and changes and activates that copy
without touching what other provinces use."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse

from assessments.forms import PeriodForm
from assessments.models import AssessmentPeriod, CommuneGroupAssignment, Role
from criteria.models import CriteriaSet, Indicator
from criteria.specs import spec_from_set
from criteria.workbooks import export_workbook
from tests.conftest import make_commune, make_district, make_province, make_user, province_copy

pytestmark = pytest.mark.django_db


@pytest.fixture
def national_draft(shipped_sets) -> CriteriaSet:
    """The shipped 2026–2030 draft: national, targets by commune group, no indicator yet."""
    return shipped_sets["xa-ntm-2026-2030"]


@pytest.fixture
def ha_giang_admin(db):
    return make_user(
        "quantri-hagiang", role=Role.PROVINCE_ADMIN, province=make_province("02", "Tỉnh Hà Giang")
    )


def workbook_upload(criteria_set: CriteriaSet, **changes) -> io.BytesIO:
    spec = spec_from_set(criteria_set)
    spec.update(changes)
    upload = io.BytesIO(export_workbook(spec))
    upload.name = "bo-tieu-chi.xlsx"
    return upload


def share_indicator(criteria_set: CriteriaSet) -> dict:
    """What the indicator page posts for a percentage indicator 7.1 with a target per group."""
    data = {
        "code": "7.1",
        "content": "Tỷ lệ hồ sơ công việc xử lý trên môi trường mạng",
        "value_type": "percentage",
        "unit": "%",
        "comparison": "gte",
        "conditions-TOTAL_FORMS": "0",
        "conditions-INITIAL_FORMS": "0",
        "conditions-MIN_NUM_FORMS": "0",
        "conditions-MAX_NUM_FORMS": "1000",
    }
    for group in criteria_set.commune_groups.all():
        data[f"target-communegroup-{group.pk}-threshold"] = "80"
    return data


def test_shipped_sets_are_national(shipped_sets):
    assert {s.owner_province_code for s in shipped_sets.values()} == {""}


def test_a_province_administrator_cannot_change_a_national_set(
    client, manager, ntm_set, national_draft
):
    """Before, any province could copy and activate a national set, retiring it everywhere."""
    criterion_7 = national_draft.criteria.get(number=7)
    postal = Indicator.objects.get(criterion__criteria_set=ntm_set, code="8.1")
    client.force_login(manager)

    responses = [
        client.post(reverse("criteria:set_copy", args=[ntm_set.pk])),
        client.post(reverse("criteria:set_activate", args=[national_draft.pk])),
        client.get(reverse("criteria:indicator_add", args=[criterion_7.pk])),
        client.post(
            reverse("criteria:indicator_add", args=[criterion_7.pk]),
            share_indicator(national_draft),
        ),
        client.get(reverse("criteria:indicator_edit", args=[postal.pk])),
        client.post(reverse("criteria:indicator_delete", args=[postal.pk])),
        client.post(
            reverse("criteria:set_import"),
            {"workbook": workbook_upload(national_draft, name="Bộ của tỉnh")},
        ),
    ]

    assert [r.status_code for r in responses] == [403] * 7
    assert CriteriaSet.objects.filter(code=ntm_set.code).count() == 1
    national_draft.refresh_from_db()
    assert national_draft.status == CriteriaSet.Status.DRAFT
    assert national_draft.name != "Bộ của tỉnh"
    assert not Indicator.objects.filter(criterion=criterion_7).exists()
    assert Indicator.objects.filter(pk=postal.pk).exists()


def test_the_national_sets_page_offers_a_province_its_own_copy_and_nothing_else(
    client, manager, ntm_set
):
    client.force_login(manager)

    page = client.get(reverse("criteria:set_detail", args=[ntm_set.pk])).content.decode()

    assert reverse("criteria:set_copy_into_province", args=[ntm_set.pk]) in page
    assert reverse("criteria:set_copy", args=[ntm_set.pk]) not in page
    assert "bộ tiêu chí quốc gia" in page


def test_a_province_copies_a_national_set_then_changes_and_activates_its_own(
    client, manager, national_draft
):
    client.force_login(manager)

    response = client.post(reverse("criteria:set_copy_into_province", args=[national_draft.pk]))

    own = CriteriaSet.objects.get(code="xa-ntm-2026-2030-20")
    assert response["Location"] == reverse("criteria:set_detail", args=[own.pk])
    assert (own.owner_province_code, own.status, own.version) == ("20", "draft", 1)
    assert own.previous_version == national_draft
    criterion_7 = own.criteria.get(number=7)
    added = client.post(
        reverse("criteria:indicator_add", args=[criterion_7.pk]), share_indicator(own)
    )
    activated = client.post(reverse("criteria:set_activate", args=[own.pk]))

    assert (added.status_code, activated.status_code) == (302, 302)
    own.refresh_from_db()
    national_draft.refresh_from_db()
    assert own.status == CriteriaSet.Status.ACTIVE
    assert Indicator.objects.filter(criterion=criterion_7, code="7.1").exists()
    assert national_draft.status == CriteriaSet.Status.DRAFT
    assert not Indicator.objects.filter(criterion__criteria_set=national_draft).exists()


def test_activating_a_provinces_copy_retires_nothing_other_provinces_use(client, manager, ntm_set):
    own = province_copy(ntm_set, manager)
    client.force_login(manager)

    client.post(reverse("criteria:set_activate", args=[own.pk]))

    own.refresh_from_db()
    ntm_set.refresh_from_db()
    assert (own.status, ntm_set.status) == (CriteriaSet.Status.ACTIVE, CriteriaSet.Status.ACTIVE)


def test_copying_again_gives_the_provinces_set_a_next_version(manager, ntm_set):
    first = province_copy(ntm_set, manager)
    second = province_copy(ntm_set, manager)

    assert (first.code, first.version) == ("xa-ntm-2021-2025-20", 1)
    assert (second.code, second.version, second.owner_province_code) == (first.code, 2, "20")


def test_the_copy_keeps_the_provinces_commune_groups_and_no_other_provinces(
    manager, national_draft, commune
):
    elsewhere = make_commune(make_district(make_province("02", "Tỉnh Hà Giang"), "024", "Đồng Văn"))
    for unit, group in ((commune, "nhom-2"), (elsewhere, "nhom-1")):
        CommuneGroupAssignment.objects.create(
            commune=unit, set_code=national_draft.code, group_code=group, document="QĐ 1"
        )

    own = province_copy(national_draft, manager)

    copied = CommuneGroupAssignment.objects.filter(set_code=own.code)
    assert [(a.commune, a.group_code, a.document) for a in copied] == [(commune, "nhom-2", "QĐ 1")]
    assert CommuneGroupAssignment.objects.filter(set_code=national_draft.code).count() == 2


def test_another_province_neither_sees_nor_changes_a_provinces_own_set(
    client, manager, ha_giang_admin, ntm_set
):
    own = province_copy(ntm_set, manager)
    postal = Indicator.objects.get(criterion__criteria_set=own, code="8.1")
    client.force_login(ha_giang_admin)

    listing = client.get(reverse("criteria:set_list")).content.decode()
    responses = [
        client.get(reverse("criteria:set_detail", args=[own.pk])),
        client.get(reverse("criteria:set_export", args=[own.pk])),
        client.post(reverse("criteria:set_copy", args=[own.pk])),
        client.post(reverse("criteria:set_activate", args=[own.pk])),
        client.post(reverse("criteria:indicator_delete", args=[postal.pk])),
        client.post(reverse("criteria:set_import"), {"workbook": workbook_upload(own)}),
    ]

    assert reverse("criteria:set_detail", args=[own.pk]) not in listing
    assert reverse("criteria:set_detail", args=[ntm_set.pk]) in listing
    assert [r.status_code for r in responses] == [404] * 5 + [403]
    own.refresh_from_db()
    assert own.status == CriteriaSet.Status.DRAFT
    assert Indicator.objects.filter(pk=postal.pk).exists()


def test_a_provinces_periods_offer_national_sets_and_its_own_only(manager, ha_giang_admin, ntm_set):
    own = province_copy(ntm_set, manager)
    theirs = province_copy(ntm_set, ha_giang_admin)
    CriteriaSet.objects.filter(pk__in=[own.pk, theirs.pk]).update(status="active")

    offered = set(PeriodForm(province=manager.province).fields["criteria_sets"].queryset)
    forged = PeriodForm(
        {
            "name": "Năm 2026",
            "year": 2026,
            "criteria_sets": [theirs.pk],
            "reference_date": "01/03/2026",
            "opens_on": "01/01/2026",
            "closes_on": "31/12/2026",
        },
        province=manager.province,
    )

    assert own in offered and ntm_set in offered and theirs not in offered
    assert "criteria_sets" in forged.errors
    assert not AssessmentPeriod.objects.exists()


def test_a_set_imported_by_a_province_is_its_own_and_by_the_operator_national(
    client, manager, operator, ntm_set
):
    client.force_login(manager)
    client.post(
        reverse("criteria:set_import"),
        {"workbook": workbook_upload(ntm_set, code="thon-thong-minh-ls", status="draft")},
    )
    client.force_login(operator)
    client.post(
        reverse("criteria:set_import"),
        {"workbook": workbook_upload(ntm_set, code="bo-quoc-gia-moi", status="draft")},
    )

    assert CriteriaSet.objects.get(code="thon-thong-minh-ls").owner_province_code == "20"
    assert CriteriaSet.objects.get(code="bo-quoc-gia-moi").owner_province_code == ""


def test_the_national_operator_changes_national_sets(client, operator, national_draft, ntm_set):
    criterion_7 = national_draft.criteria.get(number=7)
    client.force_login(operator)

    responses = [
        client.post(
            reverse("criteria:indicator_add", args=[criterion_7.pk]),
            share_indicator(national_draft),
        ),
        client.post(reverse("criteria:set_activate", args=[national_draft.pk])),
        client.post(reverse("criteria:set_copy", args=[ntm_set.pk])),
        client.post(
            reverse("criteria:set_import"),
            {"workbook": workbook_upload(ntm_set, version=2, name="Bộ quốc gia sửa đổi")},
        ),
    ]

    assert [r.status_code for r in responses] == [302] * 4
    national_draft.refresh_from_db()
    assert national_draft.status == CriteriaSet.Status.ACTIVE
    assert CriteriaSet.objects.get(code=ntm_set.code, version=2).name == "Bộ quốc gia sửa đổi"
    assert not CriteriaSet.objects.exclude(owner_province_code="").exists()


def test_a_national_draft_tells_a_province_administrator_what_they_can_do(
    client, manager, national_draft
):
    """The draft's banner said it could be changed "in Administration or by importing a
    workbook": neither is open to a province administrator, whose way is the province copy."""
    client.force_login(manager)

    page = client.get(reverse("criteria:set_detail", args=[national_draft.pk])).content.decode()

    assert "trong trang Quản trị" not in page
    assert "Sao chép thành bộ tiêu chí riêng của tỉnh" in page  # the button the banner names
    assert "bấm «Sao chép thành bộ tiêu chí riêng của tỉnh»" in page


def test_a_provinces_own_draft_tells_its_administrator_to_complete_it_on_the_page(
    client, manager, national_draft
):
    own = province_copy(national_draft, manager)
    client.force_login(manager)

    page = client.get(reverse("criteria:set_detail", args=[own.pk])).content.decode()

    assert "trong trang Quản trị" not in page
    assert "ngay trên trang này" in page
