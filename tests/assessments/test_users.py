from __future__ import annotations

import pytest
from django.http import HttpRequest
from django.urls import reverse

from assessments.models import Role, User
from tests.conftest import PASSWORD, make_district, make_province, make_user

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "Lang-Son-2025-xyz"
# client.login() passes no request of its own: axes, which watches logins, needs one.


def new_officer(district, **extra) -> dict:
    return {
        "username": "huyen-moi",
        "first_name": "Nguyễn Văn A",
        "email": "",
        "role": Role.DISTRICT_OFFICER,
        "district": district.pk,
        "is_active": "on",
        "password1": NEW_PASSWORD,
        "password2": NEW_PASSWORD,
        **extra,
    }


def test_province_admin_creates_a_district_officer_who_can_then_log_in(client, manager, loc_binh):
    client.force_login(manager)

    response = client.post(reverse("assessments:user_create"), new_officer(loc_binh))

    assert response.status_code == 302
    created = User.objects.get(username="huyen-moi")
    assert (created.role, created.district, created.province) == (
        Role.DISTRICT_OFFICER,
        loc_binh,
        manager.province,
    )
    client.logout()
    assert client.login(request=HttpRequest(), username="huyen-moi", password=NEW_PASSWORD)
    assert client.get(reverse("assessments:province"))["Location"] == reverse(
        "assessments:district", args=[loc_binh.pk]
    )


def test_no_one_can_grant_superuser_or_staff_through_the_form(client, manager, loc_binh):
    client.force_login(manager)

    client.post(
        reverse("assessments:user_create"),
        new_officer(loc_binh, is_superuser="on", is_staff="on"),
    )

    created = User.objects.get(username="huyen-moi")
    assert not created.is_superuser and not created.is_staff


@pytest.mark.parametrize("who", ["district_officer", "user", "viewer", "commune_officer"])
def test_only_province_administrators_manage_accounts(client, request, who, loc_binh):
    client.force_login(request.getfixturevalue(who))

    for url in [reverse("assessments:user_list"), reverse("assessments:user_create")]:
        assert client.get(url).status_code == 403
    response = client.post(
        reverse("assessments:user_create"), new_officer(loc_binh, role=Role.PROVINCE_ADMIN)
    )

    assert response.status_code == 403
    assert not User.objects.filter(username="huyen-moi").exists()


def test_a_district_of_another_province_cannot_be_granted(client, manager):
    elsewhere = make_district(make_province("02", "Tỉnh Hà Giang"), "024", "Huyện Đồng Văn")
    client.force_login(manager)

    response = client.post(reverse("assessments:user_create"), new_officer(elsewhere))

    assert response.status_code == 200
    assert "district" in response.context["form"].errors
    assert not User.objects.filter(username="huyen-moi").exists()


def test_an_unknown_role_is_refused(client, manager, loc_binh):
    client.force_login(manager)

    response = client.post(reverse("assessments:user_create"), new_officer(loc_binh, role="god"))

    assert "role" in response.context["form"].errors
    assert not User.objects.filter(username="huyen-moi").exists()


def test_accounts_of_another_province_and_superusers_are_out_of_reach(client, manager):
    stranger = make_user("la", role=Role.PROVINCE_ADMIN, province=make_province("02", "Hà Giang"))
    root = User.objects.create_superuser("root", password=PASSWORD, province=manager.province)
    client.force_login(manager)

    for account in (stranger, root):
        assert client.get(reverse("assessments:user_edit", args=[account.pk])).status_code == 404
        url = reverse("assessments:user_password", args=[account.pk])
        response = client.post(url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
        assert response.status_code == 404
        account.refresh_from_db()
        assert account.check_password(PASSWORD)


def test_deactivating_an_account_stops_its_login(client, manager, district_officer):
    client.force_login(manager)
    url = reverse("assessments:user_edit", args=[district_officer.pk])
    data = {
        "username": district_officer.username,
        "first_name": "",
        "email": "",
        "role": Role.DISTRICT_OFFICER,
        "district": district_officer.district_id,
    }

    assert client.post(url, data).status_code == 302

    district_officer.refresh_from_db()
    assert district_officer.is_active is False
    client.logout()
    assert not client.login(
        request=HttpRequest(), username=district_officer.username, password=PASSWORD
    )


def test_an_administrator_cannot_deactivate_themself(client, manager):
    client.force_login(manager)
    url = reverse("assessments:user_edit", args=[manager.pk])

    response = client.post(
        url, {"username": manager.username, "role": Role.PROVINCE_ADMIN, "email": ""}
    )

    assert "Bạn không thể khóa tài khoản của chính mình." in response.content.decode()
    manager.refresh_from_db()
    assert manager.is_active


def test_resetting_a_password(client, manager, district_officer):
    client.force_login(manager)
    url = reverse("assessments:user_password", args=[district_officer.pk])

    response = client.post(url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    assert response.status_code == 302
    client.logout()
    assert client.login(
        request=HttpRequest(), username=district_officer.username, password=NEW_PASSWORD
    )


def test_a_district_officer_needs_a_district(client, manager):
    client.force_login(manager)
    data = {**new_officer(make_district(manager.province, "999", "Huyện Thử")), "district": ""}

    response = client.post(reverse("assessments:user_create"), data)

    assert "Chọn huyện mà cán bộ này phụ trách." in response.content.decode()
    assert not User.objects.filter(username="huyen-moi").exists()


def test_province_administrators_may_change_criteria_sets_by_their_role(manager, user):
    assert manager.has_perm("criteria.change_criteriaset")
    assert not user.has_perm("criteria.change_criteriaset")
