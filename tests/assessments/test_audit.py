"""The audit log: every change to accounts, roles, periods, criteria sets, reviewer assignments,
commune groups and flags is written with who, what, on what, when and from where; a province's
administrators read their province's entries, newest first, by kind."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from assessments import audit
from assessments.models import AssessmentPeriod, AuditEntry, Role, User
from criteria.models import CriteriaSet, Indicator
from criteria.signals import SetAction
from tests.conftest import make_list_file, make_province, make_user

pytestmark = pytest.mark.django_db
ADDRESS = "203.0.113.9"
NEW_PASSWORD = "Lang-Son-2025-xyz"
AUDIT = reverse("assessments:audit_log")


def only_entry(action: str) -> AuditEntry:
    return AuditEntry.objects.get(action=action)


def assert_written(entry: AuditEntry, *, actor: User, obj, province) -> None:
    assert entry.actor == actor
    assert (entry.object_type, entry.object_id) == (obj._meta.label_lower, str(obj.pk))
    assert entry.object_repr == str(obj)
    assert entry.province_id == (province.pk if province else None)
    assert entry.ip_address == ADDRESS
    assert timezone.now() - entry.at < datetime.timedelta(minutes=1)


# ---------------------------------------------------------------- accounts


def test_creating_an_account_is_logged_with_who_what_when_and_from_where(client, manager, loc_binh):
    client.force_login(manager)

    client.post(
        reverse("assessments:user_create"),
        {
            "username": "huyen-moi",
            "email": "",
            "role": Role.DISTRICT_OFFICER,
            "district": loc_binh.pk,
            "is_active": "on",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
        REMOTE_ADDR=ADDRESS,
    )

    created = User.objects.get(username="huyen-moi")
    entry = only_entry(audit.Action.ACCOUNT_CREATE)
    assert_written(entry, actor=manager, obj=created, province=manager.province)
    assert entry.details["changes"]["role"] == ["", "Cán bộ huyện"]
    assert NEW_PASSWORD not in str(entry.details)


def test_a_role_change_is_logged_with_the_role_before_and_after(client, manager, district_officer):
    client.force_login(manager)

    client.post(
        reverse("assessments:user_edit", args=[district_officer.pk]),
        {
            "username": district_officer.username,
            "email": "",
            "role": Role.VIEWER,
            "district": district_officer.district_id,
            "is_active": "on",
        },
        REMOTE_ADDR=ADDRESS,
    )

    entry = only_entry(audit.Action.ACCOUNT_ROLE)
    assert_written(entry, actor=manager, obj=district_officer, province=manager.province)
    assert entry.details["changes"]["role"] == ["Cán bộ huyện", "Người xem (chỉ đọc)"]


def test_a_password_set_by_the_administrator_is_logged_without_the_password(
    client, manager, district_officer
):
    client.force_login(manager)

    client.post(
        reverse("assessments:user_password", args=[district_officer.pk]),
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        REMOTE_ADDR=ADDRESS,
    )

    entry = only_entry(audit.Action.ACCOUNT_PASSWORD)
    assert_written(entry, actor=manager, obj=district_officer, province=manager.province)
    assert entry.details == {}


def test_saving_an_unchanged_account_writes_nothing(client, manager, district_officer):
    client.force_login(manager)

    client.post(
        reverse("assessments:user_edit", args=[district_officer.pk]),
        {
            "username": district_officer.username,
            "email": "",
            "role": Role.DISTRICT_OFFICER,
            "district": district_officer.district_id,
            "is_active": "on",
        },
    )

    assert not AuditEntry.objects.exists()


# ---------------------------------------------------------------- periods and reviewers


def test_creating_opening_and_closing_a_period_are_logged(client, manager, ntm_set):
    client.force_login(manager)

    client.post(
        reverse("assessments:period_create"),
        {
            "name": "Năm 2026",
            "year": 2026,
            "criteria_sets": [ntm_set.pk],
            "reference_date": "01/03/2026",
            "opens_on": "01/01/2026",
            "closes_on": "31/12/2026",
        },
        REMOTE_ADDR=ADDRESS,
    )
    period = AssessmentPeriod.objects.get(name="Năm 2026")
    toggle = reverse("assessments:period_toggle", args=[period.pk])
    client.post(toggle, REMOTE_ADDR=ADDRESS)
    client.post(toggle, REMOTE_ADDR=ADDRESS)

    for action in (audit.Action.PERIOD_CREATE, audit.Action.PERIOD_OPEN):
        assert_written(only_entry(action), actor=manager, obj=period, province=manager.province)
    assert_written(
        only_entry(audit.Action.PERIOD_CLOSE), actor=manager, obj=period, province=manager.province
    )
    assert only_entry(audit.Action.PERIOD_CREATE).details["reference_date"] == "01/03/2026"


def test_assigning_a_reviewers_communes_is_logged(client, manager, commune):
    reviewer = make_user(
        "so-khcn", role=Role.PROVINCE_REVIEWER, province=manager.province,
        reviews_whole_province=False,
    )  # fmt: skip
    client.force_login(manager)

    client.post(
        reverse("assessments:review_assignments"),
        {"reviewer": reviewer.pk, "communes": [commune.pk]},
        REMOTE_ADDR=ADDRESS,
    )

    entry = only_entry(audit.Action.REVIEWERS_ASSIGN)
    assert_written(entry, actor=manager, obj=reviewer, province=manager.province)
    assert entry.details == {"communes": ["Xã Hữu Khánh"]}


# ---------------------------------------------------------------- commune groups and flags


def test_a_flag_list_import_is_logged(client, manager, commune):
    client.force_login(manager)
    client.post(
        reverse("assessments:flag_import"),
        {
            "flag": "is_extremely_difficult",
            "document": "QĐ 861/QĐ-TTg",
            "valid_from": "04/06/2021",
            "valid_to": "",
            "file": make_list_file([["06280", "Xã Hữu Khánh"]]),
        },
    )

    client.post(reverse("assessments:flag_import_apply"), REMOTE_ADDR=ADDRESS)

    entry = only_entry(audit.Action.COMMUNE_FLAGS_IMPORT)
    assert_written(entry, actor=manager, obj=manager.province, province=manager.province)
    assert (entry.details["document"], entry.details["changed"]) == ("QĐ 861/QĐ-TTg", 1)


def test_a_group_list_import_and_a_single_group_change_are_logged(
    client, manager, commune, grouped_set
):
    client.force_login(manager)
    client.post(
        reverse("assessments:group_import"),
        {
            "set_code": grouped_set.code,
            "document": "QĐ 5/QĐ-UBND",
            "file": make_list_file([["06280", "", "1"]], header=("Mã PX", "Phường Xã", "Nhóm")),
        },
    )
    client.post(reverse("assessments:group_import_apply"), REMOTE_ADDR=ADDRESS)
    client.post(
        reverse("assessments:commune_group_edit", args=[commune.pk, grouped_set.pk]),
        {f"g{grouped_set.pk}-group": "nhom-2", f"g{grouped_set.pk}-document": ""},
        REMOTE_ADDR=ADDRESS,
    )

    imported = only_entry(audit.Action.COMMUNE_GROUPS_IMPORT)
    assert_written(imported, actor=manager, obj=manager.province, province=manager.province)
    assert imported.details == {"set": "nhom-thu", "document": "QĐ 5/QĐ-UBND", "changed": 1}
    changed = only_entry(audit.Action.COMMUNE_GROUP)
    assert_written(changed, actor=manager, obj=commune, province=manager.province)
    assert changed.details["group"] == "nhom-2"


# ---------------------------------------------------------------- criteria sets


def test_each_change_to_a_provinces_own_set_is_logged_for_that_province(
    client, manager, shipped_sets
):
    national = shipped_sets["xa-ntm-2021-2025"]
    client.force_login(manager)

    client.post(reverse("criteria:set_copy_into_province", args=[national.pk]), REMOTE_ADDR=ADDRESS)
    own = CriteriaSet.objects.get(owner_province_code="20")
    postal = Indicator.objects.get(criterion__criteria_set=own, code="8.1")
    client.post(reverse("criteria:indicator_delete", args=[postal.pk]), REMOTE_ADDR=ADDRESS)
    client.post(reverse("criteria:set_activate", args=[own.pk]), REMOTE_ADDR=ADDRESS)

    for action in (SetAction.COPY_TO_PROVINCE, SetAction.INDICATOR_DELETE, SetAction.ACTIVATE):
        entry = only_entry(action)
        assert entry.actor == manager and entry.province == manager.province
        assert entry.object_id == str(own.pk) and entry.ip_address == ADDRESS
    assert only_entry(SetAction.COPY_TO_PROVINCE).details["from_code"] == "xa-ntm-2021-2025"
    assert only_entry(SetAction.INDICATOR_DELETE).details == {"indicator": "8.1"}


def test_a_national_set_change_is_logged_for_the_national_operator_only(
    client, operator, manager, ntm_set
):
    client.force_login(operator)
    client.post(reverse("criteria:set_copy", args=[ntm_set.pk]), REMOTE_ADDR=ADDRESS)

    entry = only_entry(SetAction.COPY)
    assert (entry.actor, entry.province, entry.ip_address) == (operator, None, ADDRESS)
    assert "Sao chép bộ tiêu chí thành phiên bản mới" in client.get(AUDIT).content.decode()
    client.force_login(manager)
    assert list(client.get(AUDIT).context["page"]) == []


# ---------------------------------------------------------------- the page


def test_a_province_administrator_reads_their_provinces_entries_only_newest_first(
    client, manager, district_officer
):
    elsewhere = make_user(
        "ha-giang", role=Role.PROVINCE_ADMIN, province=make_province("02", "Tỉnh Hà Giang")
    )
    audit.record(manager, audit.Action.ACCOUNT_PASSWORD, district_officer, ip=ADDRESS)
    audit.record(manager, audit.Action.ACCOUNT_ROLE, district_officer, ip=ADDRESS)
    audit.record(elsewhere, audit.Action.ACCOUNT_CHANGE, elsewhere)
    client.force_login(manager)

    response = client.get(AUDIT)

    assert [e.action for e in response.context["page"]] == [
        audit.Action.ACCOUNT_ROLE,
        audit.Action.ACCOUNT_PASSWORD,
    ]
    page = response.content.decode()
    assert ADDRESS in page and "Đổi vai trò hoặc đơn vị" in page
    assert "ha-giang" not in page
    client.force_login(elsewhere)
    assert [e.actor for e in client.get(AUDIT).context["page"]] == [elsewhere]


@pytest.mark.parametrize("who", ["user", "district_officer", "viewer", "commune_officer"])
def test_only_province_administrators_and_superusers_read_the_log(client, request, who):
    client.force_login(request.getfixturevalue(who))

    assert client.get(AUDIT).status_code == 403


def test_the_log_is_linked_next_to_accounts_for_administrators_only(client, manager, user):
    client.force_login(manager)
    assert AUDIT in client.get(reverse("assessments:user_list")).content.decode()
    client.force_login(user)
    assert AUDIT not in client.get(reverse("assessments:period_list")).content.decode()


def test_the_log_is_filtered_by_kind_of_change(client, manager, district_officer, period):
    audit.record(manager, audit.Action.ACCOUNT_PASSWORD, district_officer)
    audit.record(manager, audit.Action.PERIOD_OPEN, period)
    client.force_login(manager)

    response = client.get(AUDIT, {"kind": "period"})

    assert [e.action for e in response.context["page"]] == [audit.Action.PERIOD_OPEN]
    assert 'value="period" selected' in response.content.decode()


def test_the_log_shows_fifty_entries_a_page_in_the_same_queries_whatever_its_length(
    client, manager, district_officer, django_assert_max_num_queries
):
    def fill(n: int) -> None:
        AuditEntry.objects.bulk_create(
            AuditEntry(
                actor=manager,
                province=manager.province,
                action=audit.Action.ACCOUNT_CHANGE,
                object_type="assessments.user",
                object_id=str(district_officer.pk),
                object_repr=district_officer.username,
                details={"changes": {"email": ["", f"{i}@example.org"]}},
            )
            for i in range(n)
        )

    client.force_login(manager)
    fill(3)
    # session, user, count, the page of entries with their actor and province
    with django_assert_max_num_queries(6):
        client.get(AUDIT)
    fill(120)
    with django_assert_max_num_queries(6):
        response = client.get(AUDIT, {"page": 2})

    assert len(response.context["page"]) == 50
    assert response.context["page"].paginator.num_pages == 3
