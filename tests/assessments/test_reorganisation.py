from __future__ import annotations

import datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from assessments.models import Commune, District

pytestmark = pytest.mark.django_db
ENDED = datetime.date(2025, 6, 30)
EFFECTIVE = datetime.date(2025, 7, 1)


def reorganise() -> str:
    out = StringIO()
    call_command("apply_reorganisation", stdout=out)
    return out.getvalue()


def test_reorganisation_creates_65_units_under_the_province_and_ends_the_old_ones(lang_son):
    old = Commune.objects.get(code="06280", valid_to__isnull=True)
    old.is_border, old.pilot_ntm_year = True, 2024
    old.save()
    village = old.villages.create(name="Thôn Bản Chắt")
    before = Commune.objects.filter(pk=old.pk).values(
        "name", "district_id", "is_border", "pilot_ntm_year", "kind"
    )[0]

    output = reorganise()

    assert "created 65 new units" in output
    new = Commune.objects.filter(valid_from=EFFECTIVE)
    assert new.count() == 65
    assert not new.filter(district__isnull=False).exists()
    assert Commune.objects.filter(valid_to=ENDED).count() == 194
    assert District.objects.filter(valid_to=ENDED).count() == 11
    assert not Commune.objects.filter(valid_to=ENDED, successor__isnull=True).exists()
    # 05971 Hoàng Văn Thụ → 06187 Kỳ Lừa; 05977 is reused: Vĩnh Trại → the new Đông Kinh
    assert Commune.objects.get(code="05971").successor.code == "06187"
    vinh_trai = Commune.objects.get(code="05977", valid_to=ENDED)
    assert vinh_trai.name == "Phường Vĩnh Trại"
    assert vinh_trai.successor == Commune.objects.get(code="05977", valid_from=EFFECTIVE)
    old.refresh_from_db()
    after = Commune.objects.filter(pk=old.pk).values(*before)[0]
    assert after == before
    assert list(old.villages.all()) == [village]


def test_applying_it_twice_changes_nothing(lang_son):
    reorganise()
    rows = list(Commune.objects.order_by("pk").values())

    output = reorganise()

    assert "created 0 new units, 65 already in place" in output
    assert list(Commune.objects.order_by("pk").values()) == rows


def test_ended_units_are_shown_as_such_with_their_successor(client, lang_son, settings):
    reorganise()
    from tests.conftest import make_user

    admin = make_user("tinh", role="province_admin", province=lang_son)
    client.force_login(admin)
    old = Commune.objects.get(code="05971")

    page = client.get(reverse("assessments:commune", args=[old.pk])).content.decode()

    assert "đã kết thúc 30/06/2025" in page
    assert "Phường Kỳ Lừa" in page
    assert reverse("assessments:commune", args=[old.successor.pk]) in page
