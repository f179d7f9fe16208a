"""A province administrator completes a draft set in pages: indicators with their conditions and
their targets per commune group, then activates it. The draft is the province's own copy of the
shipped 2026–2030 draft: only the national operator changes the national set itself."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from assessments.models import User
from criteria.models import CriteriaSet, Indicator, Region
from tests.conftest import province_copy

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(shipped_sets, manager) -> CriteriaSet:
    return province_copy(shipped_sets["xa-ntm-2026-2030"], manager)


@pytest.fixture
def criterion_7(draft):
    return draft.criteria.get(number=7)


def form_data(draft, *, conditions=(), targets=None, initial_conditions=0, **fields) -> dict:
    """What the indicator page posts: the indicator, its conditions, one target per group."""
    data = {
        "code": "7.1",
        "content": "Tỷ lệ hồ sơ công việc xử lý trên môi trường mạng",
        "value_type": "percentage",
        "unit": "%",
        "comparison": "gte",
        "source": "QĐ 51/2025/QĐ-TTg, Phụ lục I",
        "conditions-TOTAL_FORMS": str(len(conditions)),
        "conditions-INITIAL_FORMS": str(initial_conditions),
        "conditions-MIN_NUM_FORMS": "0",
        "conditions-MAX_NUM_FORMS": "1000",
        **fields,
    }
    for n, condition in enumerate(conditions):
        data.update({f"conditions-{n}-{key}": value for key, value in condition.items()})
    if targets is None:
        targets = {"nhom-1": "90", "nhom-2": "80", "nhom-3": "70"}
    groups = {g.code: g for g in draft.commune_groups.all()}
    for code, threshold in targets.items():
        data[f"target-communegroup-{groups[code].pk}-threshold"] = threshold
    return data


def add(client, criterion, data):
    return client.post(reverse("criteria:indicator_add", args=[criterion.pk]), data)


def test_province_admin_adds_an_indicator_with_targets_for_the_3_groups_and_activates(
    client, manager, draft, criterion_7
):
    client.force_login(manager)

    response = add(client, criterion_7, form_data(draft))

    indicator = Indicator.objects.get(criterion=criterion_7, code="7.1")
    url = reverse("criteria:set_detail", args=[draft.pk])
    assert response.status_code == 302
    assert response["Location"] == f"{url}#indicator-7.1"
    assert indicator.source == "QĐ 51/2025/QĐ-TTg, Phụ lục I"
    assert sorted(indicator.targets.values_list("commune_group__code", "threshold")) == [
        ("nhom-1", Decimal("90")),
        ("nhom-2", Decimal("80")),
        ("nhom-3", Decimal("70")),
    ]

    client.post(reverse("criteria:set_activate", args=[draft.pk]))

    draft.refresh_from_db()
    assert draft.status == CriteriaSet.Status.ACTIVE


def test_a_set_by_commune_group_is_not_activated_while_a_group_has_no_target(
    client, manager, draft, criterion_7
):
    client.force_login(manager)
    add(client, criterion_7, form_data(draft, targets={"nhom-1": "90", "nhom-2": "80"}))

    response = client.post(reverse("criteria:set_activate", args=[draft.pk]), follow=True)

    draft.refresh_from_db()
    assert draft.status == CriteriaSet.Status.DRAFT
    errors = [str(m) for m in response.context["messages"] if m.level_tag == "error"]
    assert len(errors) == 1
    assert "7.1" in errors[0] and "Nhóm 3" in errors[0] and "Nhóm 2" not in errors[0]


def test_the_shipped_2026_draft_is_not_activated_while_it_has_no_indicator(client, manager, draft):
    client.force_login(manager)

    response = client.post(reverse("criteria:set_activate", args=[draft.pk]), follow=True)

    draft.refresh_from_db()
    assert draft.status == CriteriaSet.Status.DRAFT
    errors = [str(m) for m in response.context["messages"] if m.level_tag == "error"]
    assert errors and "chỉ tiêu" in errors[0]


def test_a_checklist_is_saved_with_its_conditions_in_order_and_their_marks(
    client, manager, draft, criterion_7
):
    client.force_login(manager)
    conditions = [
        {"code": "1", "text": "Có tổ công nghệ số cộng đồng", "scope": "village"},
        {
            "code": "2",
            "text": "Có trang thông tin điện tử",
            "scope": "commune",
            "to_confirm": "on",
            "to_confirm_note": "Chờ hướng dẫn của Bộ Khoa học và Công nghệ",
        },
        {"code": "", "text": "", "scope": "commune"},  # an extra row left empty
    ]
    data = form_data(
        draft, conditions=conditions, value_type="checklist", unit="", code="7.2", content="CĐS"
    )

    response = add(client, criterion_7, data)

    assert response.status_code == 302
    indicator = Indicator.objects.get(criterion=criterion_7, code="7.2")
    saved = list(indicator.conditions.values_list("code", "scope", "to_confirm"))
    assert saved == [("1", "village", False), ("2", "commune", True)]
    assert indicator.conditions.get(code="2").to_confirm_note.startswith("Chờ hướng dẫn")


def test_editing_changes_the_indicator_and_replaces_its_conditions_and_targets(
    client, manager, draft, criterion_7
):
    client.force_login(manager)
    first = [{"code": "1", "text": "Điều kiện một", "scope": "commune"}]
    add(client, criterion_7, form_data(draft, conditions=first, value_type="checklist"))
    indicator = Indicator.objects.get(criterion=criterion_7, code="7.1")
    kept = indicator.conditions.get()
    conditions = [
        {"id": str(kept.pk), "code": "1", "text": "Điều kiện một, sửa", "scope": "commune"},
        {"code": "2", "text": "Điều kiện hai", "scope": "commune"},
    ]
    data = form_data(
        draft,
        conditions=conditions,
        initial_conditions=1,
        value_type="checklist",
        targets={"nhom-1": "1", "nhom-2": "2", "nhom-3": "3"},
        content="Nội dung mới",
    )

    response = client.post(reverse("criteria:indicator_edit", args=[indicator.pk]), data)

    assert response.status_code == 302
    indicator.refresh_from_db()
    assert indicator.content == "Nội dung mới"
    assert list(indicator.conditions.values_list("code", "text")) == [
        ("1", "Điều kiện một, sửa"),
        ("2", "Điều kiện hai"),
    ]
    assert sorted(indicator.targets.values_list("threshold", flat=True)) == [1, 2, 3]


def test_the_edit_page_shows_the_indicator_with_its_targets_per_group(
    client, manager, draft, criterion_7
):
    client.force_login(manager)
    add(client, criterion_7, form_data(draft))
    indicator = Indicator.objects.get(criterion=criterion_7, code="7.1")

    page = client.get(reverse("criteria:indicator_edit", args=[indicator.pk])).content.decode()

    assert 'value="7.1"' in page
    for name in ("Nhóm 1", "Nhóm 2", "Nhóm 3"):
        assert name in page
    assert 'value="70.00"' in page or 'value="70"' in page


def test_a_code_used_elsewhere_in_the_set_is_refused(client, manager, draft, criterion_7):
    client.force_login(manager)
    add(client, criterion_7, form_data(draft))

    response = add(client, draft.criteria.get(number=2), form_data(draft))

    assert response.status_code == 200
    assert "7.1" in str(response.context["form"].errors["code"])
    assert Indicator.objects.filter(criterion__criteria_set=draft).count() == 1


def test_a_checklist_without_conditions_and_a_number_with_conditions_are_refused(
    client, manager, draft, criterion_7
):
    client.force_login(manager)
    conditions = [{"code": "1", "text": "Điều kiện", "scope": "commune"}]

    no_conditions = add(client, criterion_7, form_data(draft, value_type="checklist"))
    with_conditions = add(client, criterion_7, form_data(draft, conditions=conditions))

    for response in (no_conditions, with_conditions):
        assert response.status_code == 200
        assert response.context["form"].errors["value_type"]
    assert not Indicator.objects.filter(criterion__criteria_set=draft).exists()


def test_a_mark_without_a_target_is_refused(client, manager, draft, criterion_7):
    client.force_login(manager)
    data = form_data(draft, targets={"nhom-1": "90", "nhom-2": "80", "nhom-3": "70"})
    data["target-general-to_confirm"] = "on"

    response = add(client, criterion_7, data)

    assert response.status_code == 200
    assert not Indicator.objects.filter(criterion__criteria_set=draft).exists()


def test_deleting_an_indicator_of_a_draft(client, manager, draft, criterion_7):
    client.force_login(manager)
    add(client, criterion_7, form_data(draft))
    indicator = Indicator.objects.get(criterion=criterion_7, code="7.1")

    assert client.get(reverse("criteria:indicator_delete", args=[indicator.pk])).status_code == 405
    response = client.post(reverse("criteria:indicator_delete", args=[indicator.pk]))

    assert response.status_code == 302
    assert not Indicator.objects.filter(pk=indicator.pk).exists()


def test_a_superuser_may_add_an_indicator(client, draft, criterion_7):
    client.force_login(User.objects.create_superuser("root", password="pw-for-tests-1"))

    response = add(client, criterion_7, form_data(draft))

    assert response.status_code == 302


@pytest.mark.parametrize("who", ["user", "district_officer", "viewer"])
def test_everyone_else_gets_403_and_nothing_changes(client, request, who, draft, criterion_7):
    indicator = Indicator.objects.create(
        criterion=criterion_7, code="7.9", content="Có", value_type="yes_no"
    )
    client.force_login(request.getfixturevalue(who))

    responses = [
        client.get(reverse("criteria:indicator_add", args=[criterion_7.pk])),
        add(client, criterion_7, form_data(draft)),
        client.get(reverse("criteria:indicator_edit", args=[indicator.pk])),
        client.post(
            reverse("criteria:indicator_edit", args=[indicator.pk]),
            form_data(draft, code="7.9", content="Đổi"),
        ),
        client.post(reverse("criteria:indicator_delete", args=[indicator.pk])),
    ]

    assert [r.status_code for r in responses] == [403] * 5
    assert list(Indicator.objects.filter(criterion__criteria_set=draft).values_list("content")) == [
        ("Có",)
    ]


def test_an_active_sets_indicators_cannot_be_changed_in_pages(client, operator, ntm_set):
    client.force_login(operator)
    postal = Indicator.objects.get(criterion__criteria_set=ntm_set, code="8.1")

    responses = [
        client.get(reverse("criteria:indicator_add", args=[postal.criterion.pk])),
        client.get(reverse("criteria:indicator_edit", args=[postal.pk])),
        client.post(reverse("criteria:indicator_delete", args=[postal.pk])),
    ]

    assert [r.status_code for r in responses] == [403] * 3
    assert Indicator.objects.filter(pk=postal.pk).exists()


def test_the_draft_page_offers_adding_an_indicator_to_criterion_7(
    client, manager, user, draft, criterion_7
):
    url = reverse("criteria:set_detail", args=[draft.pk])
    add_url = reverse("criteria:indicator_add", args=[criterion_7.pk])

    client.force_login(manager)
    assert add_url in client.get(url).content.decode()
    client.force_login(user)
    assert add_url not in client.get(url).content.decode()


def test_a_draft_by_region_takes_a_general_target_and_one_regions_own(
    client, operator, shipped_sets
):
    """The national operator completes the national advanced draft."""
    advanced = shipped_sets["xa-ntm-nang-cao-2021-2025"]
    criterion_8 = advanced.criteria.get(number=8)
    north = Region.objects.get(code="trung-du-mien-nui-phia-bac")
    data = form_data(advanced, targets={}, code="8.3", content="Chỉ tiêu 8.3 theo Phụ lục II")
    data.update(
        {
            "target-general-text": "Đạt",
            "target-general-source": "QĐ 318/QĐ-TTg (2022), Phụ lục II",
            f"target-region-{north.pk}-threshold": "60",
            f"target-region-{north.pk}-to_confirm": "on",
            f"target-region-{north.pk}-to_confirm_note": "Chờ đối chiếu",
        }
    )
    client.force_login(operator)

    response = add(client, criterion_8, data)

    assert response.status_code == 302
    indicator = Indicator.objects.get(criterion=criterion_8, code="8.3")
    general = indicator.targets.get(region=None)
    regional = indicator.targets.get(region=north)
    assert (general.text, general.source) == ("Đạt", "QĐ 318/QĐ-TTg (2022), Phụ lục II")
    assert (regional.threshold, regional.to_confirm, regional.to_confirm_note) == (
        Decimal("60"),
        True,
        "Chờ đối chiếu",
    )
    assert indicator.targets.count() == 2
    codes = criterion_8.indicators.order_by("order").values_list("code", flat=True)
    assert list(codes) == ["8.1", "8.2", "8.3", "8.4"]  # placed by its code
