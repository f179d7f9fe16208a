from __future__ import annotations

import pytest

from assessments.collation import sort_key
from assessments.models import District
from tests.conftest import make_district, make_province


def test_vietnamese_alphabetical_order():
    names = ["Gia Cát", "Đình Lập", "Dương", "Ái Quốc", "An Hùng", "Bắc Sơn", "Ba Sơn"]

    assert sorted(names, key=sort_key) == [
        "Ái Quốc",
        "An Hùng",
        "Ba Sơn",
        "Bắc Sơn",
        "Dương",
        "Đình Lập",
        "Gia Cát",
    ]


def test_unit_kind_is_ignored_and_a_longer_name_comes_after_its_prefix():
    assert sort_key("Huyện Đình Lập") == sort_key("Đình Lập")
    assert sort_key("Xã Hòa Bình") < sort_key("Xã Hòa Bình Mới") < sort_key("Xã Hoa Thám")


@pytest.mark.django_db
def test_the_database_orders_districts_in_vietnamese(db):
    province = make_province()
    for code, name in [("901", "Huyện Gia Cát"), ("902", "Huyện Đình Lập"), ("903", "Huyện Dương")]:
        make_district(province, code, name)

    assert list(District.objects.values_list("name", flat=True)) == [
        "Huyện Dương",
        "Huyện Đình Lập",
        "Huyện Gia Cát",
    ]
