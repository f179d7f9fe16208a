from __future__ import annotations

import pytest
from django.urls import reverse

from assessments.models import Village
from tests.conftest import make_village

pytestmark = pytest.mark.django_db


def test_bad_pilot_years_are_refused_in_vietnamese_and_the_input_is_kept(
    client, district_officer, commune
):
    client.force_login(district_officer)
    url = reverse("assessments:commune_edit", args=[commune.pk])

    response = client.post(url, {"pilot_ntm_year": "1890", "pilot_advanced_year": "2024x"})

    page = response.content.decode()
    assert response.status_code == 200
    assert "Nhập một năm từ 2000 đến 2100." in page
    assert 'value="1890"' in page
    commune.refresh_from_db()
    assert commune.pilot_ntm_year is None


def test_advanced_pilot_year_cannot_come_before_the_ntm_year(client, district_officer, commune):
    client.force_login(district_officer)
    url = reverse("assessments:commune_edit", args=[commune.pk])

    response = client.post(url, {"pilot_ntm_year": "2025", "pilot_advanced_year": "2023"})

    assert "không thể trước" in response.content.decode()
    commune.refresh_from_db()
    assert commune.pilot_advanced_year is None


def test_officer_adds_renames_and_retires_a_village(client, district_officer, commune):
    client.force_login(district_officer)

    client.post(
        reverse("assessments:village_add", args=[commune.pk]),
        {"name": "  Thôn   Pò Lọi ", "is_active": "on"},
    )
    village = Village.objects.get(commune=commune)
    assert village.name == "Thôn Pò Lọi"

    client.post(reverse("assessments:village_edit", args=[village.pk]), {"name": "Bản Pò Lọi"})

    village.refresh_from_db()
    assert village.name == "Bản Pò Lọi"
    assert village.is_active is False  # unticked: retired, never deleted


def test_a_village_name_cannot_repeat_in_a_commune(client, district_officer, commune):
    make_village(commune, "Thôn Nà Mạ")
    client.force_login(district_officer)

    response = client.post(
        reverse("assessments:village_add", args=[commune.pk]),
        {"name": "thôn nà mạ", "is_active": "on"},
    )

    page = response.content.decode()
    assert "Xã này đã có thôn tên" in page
    assert 'value="thôn nà mạ"' in page
    assert commune.villages.count() == 1


def test_villages_cannot_be_deleted_in_admin(client, commune, db):
    from assessments.models import User

    village = make_village(commune, "Thôn A")
    client.force_login(User.objects.create_superuser("root", password="pw-for-tests-1"))

    response = client.post(reverse("admin:assessments_village_delete", args=[village.pk]))

    assert response.status_code == 403
    assert Village.objects.filter(pk=village.pk).exists()
