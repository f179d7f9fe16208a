"""A province administrator manages the accounts of their province only — never staff or
superusers, never their own role or unit — and the Django admin is for superusers only."""

from __future__ import annotations

import pytest
from django.urls import reverse

from assessments.models import Assessment, Evidence, IndicatorResult, Role, State, User
from assessments.workflow import Action, can
from tests.assessments.test_workflow import complete
from tests.conftest import PASSWORD, make_province, make_user

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "Lang-Son-2025-xyz"


def own_account_data(manager, **changes) -> dict:
    return {
        "username": manager.username,
        "first_name": "Quản trị tỉnh",
        "email": "",
        "role": manager.role,
        "is_active": "on",
        **changes,
    }


def test_the_own_account_form_shows_role_and_unit_but_refuses_to_change_them(client, manager):
    client.force_login(manager)

    response = client.get(reverse("assessments:user_edit", args=[manager.pk]))

    form = response.context["form"]
    assert all(form.fields[name].disabled for name in ("role", "district", "commune"))
    assert "Không ai tự đổi vai trò hay đơn vị của mình." in response.content.decode()


def test_a_forged_post_does_not_change_the_administrators_own_role_or_unit(
    client, manager, loc_binh, commune
):
    """The attack: become one's own reviewer, then approve."""
    client.force_login(manager)

    response = client.post(
        reverse("assessments:user_edit", args=[manager.pk]),
        own_account_data(
            manager, role=Role.PROVINCE_REVIEWER, district=loc_binh.pk, commune=commune.pk
        ),
    )

    assert response.status_code == 302
    manager.refresh_from_db()
    assert (manager.role, manager.district, manager.commune) == (Role.PROVINCE_ADMIN, None, None)
    assert manager.first_name == "Quản trị tỉnh"  # the rest of the form is saved


def test_an_administrator_still_changes_another_accounts_role(client, manager, district_officer):
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
    )

    district_officer.refresh_from_db()
    assert district_officer.role == Role.VIEWER


@pytest.mark.parametrize("kind", ["staff", "superuser", "other_province"])
def test_staff_superusers_and_other_provinces_accounts_are_out_of_reach(
    client, manager, loc_binh, kind
):
    if kind == "other_province":
        account = make_user(
            "ha-giang", role=Role.PROVINCE_ADMIN, province=make_province("02", "Tỉnh Hà Giang")
        )
    else:
        account = make_user(
            f"tai-khoan-{kind}",
            role=Role.DISTRICT_OFFICER,
            province=manager.province,
            district=loc_binh,
            is_staff=True,
            is_superuser=kind == "superuser",
        )
    client.force_login(manager)
    edit = reverse("assessments:user_edit", args=[account.pk])
    password = reverse("assessments:user_password", args=[account.pk])

    responses = [
        client.get(edit),
        client.post(edit, {"username": "doi-ten", "role": Role.VIEWER, "email": ""}),
        client.get(password),
        client.post(password, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}),
    ]

    assert [r.status_code for r in responses] == [404] * 4
    account.refresh_from_db()
    assert account.username != "doi-ten" and account.check_password(PASSWORD)
    listing = client.get(reverse("assessments:user_list")).content.decode()
    assert account.username not in listing


# ---------------------------------------------------------------- the Django admin


@pytest.mark.parametrize("name", ["admin:index", "admin:assessments_user_changelist"])
def test_a_staff_province_administrator_gets_no_admin(client, manager, name):
    User.objects.filter(pk=manager.pk).update(is_staff=True)
    client.force_login(manager)

    response = client.get(reverse(name))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_the_admin_cannot_be_used_to_change_ones_own_role_without_being_superuser(client, manager):
    User.objects.filter(pk=manager.pk).update(is_staff=True)
    client.force_login(manager)

    response = client.post(
        reverse("admin:assessments_user_change", args=[manager.pk]),
        {"username": manager.username, "role": Role.PROVINCE_REVIEWER},
    )

    assert response.status_code == 302
    manager.refresh_from_db()
    assert manager.role == Role.PROVINCE_ADMIN


def test_the_admin_link_is_offered_to_superusers_only(client, manager, operator):
    User.objects.filter(pk=manager.pk).update(is_staff=True)
    admin_url = reverse("admin:index")

    client.force_login(manager)
    assert admin_url not in client.get(reverse("assessments:user_list")).content.decode()
    client.force_login(operator)
    assert admin_url in client.get(reverse("criteria:set_list")).content.decode()


def test_superusers_use_the_admin(client, operator, district_officer):
    client.force_login(operator)

    assert client.get(reverse("admin:index")).status_code == 200
    url = reverse("admin:assessments_user_change", args=[district_officer.pk])
    assert client.get(url).status_code == 200


def test_a_superuser_does_not_change_their_own_role_or_powers_in_the_admin(client, operator):
    client.force_login(operator)

    page = client.get(reverse("admin:assessments_user_change", args=[operator.pk]))

    fields = page.context["adminform"].form.fields
    assert "role" not in fields and "is_superuser" not in fields  # shown read-only


# ---------------------------------------------------------------- entries are read-only there


@pytest.fixture
def approved_with_evidence(assessment, district_officer, user):
    from assessments import services

    complete(assessment, district_officer)
    result = IndicatorResult.objects.filter(assessment=assessment).first()
    Evidence.objects.create(result=result, doc_number="12/QĐ-UBND", added_by=district_officer)
    services.submit(user=district_officer, assessment=assessment)
    services.approve(user=user, assessment=assessment)
    assessment.refresh_from_db()
    assert assessment.state == State.APPROVED
    return assessment


def admin_write_paths(obj) -> list[tuple[str, str]]:
    """Every admin page that could write the object: (method, url)."""
    prefix = f"admin:assessments_{obj._meta.model_name}"
    return [
        ("get", reverse(f"{prefix}_add")),
        ("post", reverse(f"{prefix}_add")),
        ("post", reverse(f"{prefix}_change", args=[obj.pk])),
        ("get", reverse(f"{prefix}_delete", args=[obj.pk])),
        ("post", reverse(f"{prefix}_delete", args=[obj.pk])),
        ("post", reverse(f"{prefix}_changelist")),
    ]


def test_no_admin_write_to_an_approved_assessment_its_results_or_evidence_gives_a_500(
    client, operator, approved_with_evidence
):
    """Before, the admin let a superuser try, and the lock answered with a 500."""
    assessment = approved_with_evidence
    result = IndicatorResult.objects.filter(assessment=assessment).first()
    evidence = Evidence.objects.get(result__assessment=assessment)
    before = (assessment.version, result.note, evidence.doc_number)
    client.force_login(operator)
    data = {
        "state": State.DRAFT,
        "note": "sửa trong quản trị",
        "doc_number": "sửa",
        "action": "delete_selected",
        "_selected_action": [assessment.pk, result.pk, evidence.pk],
        "post": "yes",
    }

    statuses = {}
    for obj in (assessment, result, evidence):
        for method, url in admin_write_paths(obj):
            response = getattr(client, method)(url, data)
            statuses[(method, url)] = response.status_code

    assert all(status < 500 for status in statuses.values()), statuses
    assert {s for (method, url), s in statuses.items() if "/change/" in url} == {403}
    assessment.refresh_from_db()
    result.refresh_from_db()
    evidence.refresh_from_db()
    assert (assessment.version, result.note, evidence.doc_number) == before
    assert assessment.state == State.APPROVED
    assert Assessment.objects.filter(pk=assessment.pk).exists()


def test_an_administrator_who_cannot_change_their_role_cannot_approve(client, manager, assessment):
    """The end of the attack: the province administrator takes no part in approving."""
    Assessment.objects.filter(pk=assessment.pk).update(state=State.SUBMITTED)
    assessment.refresh_from_db()

    assert not can(manager, assessment, Action.APPROVE)
    client.force_login(manager)
    response = client.post(reverse("assessments:approve", args=[assessment.pk]))
    assert response.status_code == 403
