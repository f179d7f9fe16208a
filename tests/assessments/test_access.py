"""The access matrix of the unit and village pages: owner, other district, read-only, anonymous."""

from __future__ import annotations

import pytest
from django.urls import reverse

from assessments.models import Commune, Village
from tests.conftest import make_village

pytestmark = pytest.mark.django_db


@pytest.fixture
def village(commune) -> Village:
    return make_village(commune, "Thôn Nà Mạ")


def pages(commune, village) -> dict[str, str]:
    return {
        "district": reverse("assessments:district", args=[commune.district_id]),
        "commune": reverse("assessments:commune", args=[commune.pk]),
        "commune_edit": reverse("assessments:commune_edit", args=[commune.pk]),
        "village_edit": reverse("assessments:village_edit", args=[village.pk]),
    }


def test_anonymous_users_are_sent_to_login(client, commune, village):
    urls = [*pages(commune, village).values(), reverse("assessments:province")]
    urls.append(reverse("assessments:village_add", args=[commune.pk]))
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login")), url


def test_district_officer_sees_and_changes_their_own_communes(
    client, district_officer, commune, village
):
    client.force_login(district_officer)
    for name, url in pages(commune, village).items():
        assert client.get(url).status_code == 200, name

    response = client.post(
        reverse("assessments:commune_edit", args=[commune.pk]),
        {"is_border": "on", "pilot_ntm_year": "2025"},
    )

    assert response.status_code == 302
    commune.refresh_from_db()
    assert commune.is_border and commune.pilot_ntm_year == 2025


def test_another_districts_officer_gets_404_on_every_page_and_change(
    client, other_district_officer, commune, village
):
    client.force_login(other_district_officer)
    for name, url in pages(commune, village).items():
        assert client.get(url).status_code == 404, name
        assert client.post(url, {"name": "X", "is_border": "on"}).status_code == 404, name
    add = reverse("assessments:village_add", args=[commune.pk])
    assert client.post(add, {"name": "Thôn lạ", "is_active": "on"}).status_code == 404
    commune.refresh_from_db()
    assert not commune.is_border
    assert list(commune.villages.values_list("name", flat=True)) == ["Thôn Nà Mạ"]


@pytest.mark.parametrize("who", ["viewer", "district_viewer", "user", "commune_officer"])
def test_read_only_users_see_but_get_403_on_changes(client, request, who, commune, village):
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse("assessments:commune", args=[commune.pk])).status_code == 200

    edit = reverse("assessments:commune_edit", args=[commune.pk])
    assert client.get(edit).status_code == 403
    assert client.post(edit, {"is_border": "on"}).status_code == 403
    add = reverse("assessments:village_add", args=[commune.pk])
    assert client.post(add, {"name": "Thôn mới", "is_active": "on"}).status_code == 403
    rename = reverse("assessments:village_edit", args=[village.pk])
    assert client.post(rename, {"name": "Đổi", "is_active": "on"}).status_code == 403
    commune.refresh_from_db()
    village.refresh_from_db()
    assert not commune.is_border and village.name == "Thôn Nà Mạ"
    assert commune.villages.count() == 1


def test_district_viewer_and_commune_officer_do_not_see_other_units(
    client, district_viewer, commune_officer, commune, other_commune, loc_binh
):
    neighbour = Commune.objects.create(
        province=commune.province, district=loc_binh, code="06283", name="Xã Bên", kind="xa"
    )
    client.force_login(district_viewer)
    assert client.get(reverse("assessments:commune", args=[other_commune.pk])).status_code == 404
    assert client.get(reverse("assessments:commune", args=[neighbour.pk])).status_code == 200

    client.force_login(commune_officer)
    assert client.get(reverse("assessments:commune", args=[neighbour.pk])).status_code == 404
    assert client.get(reverse("assessments:district", args=[loc_binh.pk])).status_code == 404
    assert client.get(reverse("assessments:province"))["Location"] == reverse(
        "assessments:commune", args=[commune.pk]
    )


def test_province_page_sends_district_officers_to_their_district(
    client, district_officer, loc_binh
):
    client.force_login(district_officer)

    response = client.get(reverse("assessments:province"))

    assert response["Location"] == reverse("assessments:district", args=[loc_binh.pk])


def test_lang_son_district_officer_sees_loc_binhs_20_units_and_nothing_of_cao_loc(client, lang_son):
    from assessments.models import District, Role
    from tests.conftest import make_user

    loc_binh, cao_loc = District.objects.get(code="188"), District.objects.get(code="183")
    officer = make_user("lb", role=Role.DISTRICT_OFFICER, province=lang_son, district=loc_binh)
    client.force_login(officer)

    page = client.get(reverse("assessments:district", args=[loc_binh.pk]))

    assert len(page.context["communes"]) == 20
    assert "Thị trấn Lộc Bình" in page.content.decode()
    assert client.get(reverse("assessments:district", args=[cao_loc.pk])).status_code == 404
    for commune in cao_loc.communes.all()[:5]:
        url = reverse("assessments:commune", args=[commune.pk])
        assert client.get(url).status_code == 404


def test_province_page_counts_lang_son(client, lang_son, viewer):
    client.force_login(viewer)

    response = client.get(reverse("assessments:province"))

    assert len(response.context["districts"]) == 11
    assert response.context["totals"]["total"] == 194
    assert response.context["totals"]["rural"] == 175
    loc_binh = next(d for d in response.context["districts"] if d.code == "188")
    assert loc_binh.total == 20
