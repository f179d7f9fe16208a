"""The met / not met decision for every value type, for two regions, with reasons in words."""

from __future__ import annotations

import pytest

from assessments.models import Commune
from assessments.scoring import decide, region_for
from criteria.models import CriteriaSet, Region
from criteria.specs import normalize_spec, save_spec
from tests.conftest import indicator, make_district, make_province

pytestmark = pytest.mark.django_db
NORTH, DELTA = "trung-du-mien-nui-phia-bac", "dong-bang-song-hong"
GENERAL = None  # the set's general target: the decisions below do not depend on the region


class Village:
    def __init__(self, pk, name):
        self.pk, self.name = pk, name


VILLAGES = [Village(1, "Bản Chắt"), Village(2, "Nà Mạ"), Village(3, "Pò Lọi")]


@pytest.fixture
def regional_set(shipped_sets):
    """A set whose number, percentage and yes/no indicators differ by region."""
    targets = [
        {"region": None, "threshold": "60", "text": ""},
        {"region": NORTH, "threshold": "50", "text": ""},
        {"region": DELTA, "threshold": "70", "text": ""},
    ]
    spec = normalize_spec(
        {
            "code": "vung-thu",
            "name": "Bộ thử theo vùng",
            "kind": "province",
            "year_from": 2025,
            "year_to": 2025,
            "groups": [
                {
                    "number": "I",
                    "name": "Nhóm",
                    "criteria": [
                        {
                            "number": 1,
                            "name": "TC",
                            "indicators": [
                                {
                                    "code": "1.1",
                                    "content": "Tỷ lệ",
                                    "value_type": "percentage",
                                    "targets": targets,
                                },
                                {
                                    "code": "1.2",
                                    "content": "Số điểm",
                                    "value_type": "number",
                                    "unit": "điểm",
                                    "comparison": "lte",
                                    "targets": [{"region": None, "threshold": "3", "text": ""}],
                                },
                                {
                                    "code": "1.3",
                                    "content": "Có",
                                    "value_type": "yes_no",
                                    "targets": [{"region": None, "text": "Đạt"}],
                                },
                            ],
                        }
                    ],
                }
            ],
        }
    )
    return save_spec(spec)[0]


def test_percentage_target_differs_by_region(regional_set):
    rate = indicator(regional_set, "1.1")

    north = decide(rate, NORTH, [], {"value": "60"})
    delta = decide(rate, DELTA, [], {"value": "60"})
    elsewhere = decide(rate, "tay-nguyen", [], {"value": "60"})

    assert north.met is True and "≥ 50%" in north.reason
    assert delta.met is False and "60%" in delta.reason and "≥ 70%" in delta.reason
    assert elsewhere.met is True  # no target for the region: the general 60%


def test_number_at_most_and_yes_no_and_nothing_entered(regional_set):
    count, yes_no = indicator(regional_set, "1.2"), indicator(regional_set, "1.3")

    assert decide(count, None, [], {"value": "3"}).met is True
    assert decide(count, None, [], {"value": "4"}).met is False
    assert decide(yes_no, None, [], {"value": True}).met is True
    assert decide(yes_no, None, [], {"value": False}).met is False
    assert decide(yes_no, None, [], {}).met is None


def test_the_sets_special_rule_sends_difficult_and_safe_zone_communes_to_northern_targets(db):
    delta = Region.objects.get_or_create(code=DELTA, defaults={"name": "ĐBSH"})[0]
    north = Region.objects.get_or_create(code=NORTH, defaults={"name": "TDMNPB"})[0]
    province = make_province("01", "Hà Nội")
    province.region = delta
    province.save()
    district = make_district(province, "250", "Huyện Ba Vì")
    commune = Commune(province=province, district=district, code="09999", name="Xã Ba Vì")
    rule = CriteriaSet(
        special_region=north,
        special_region_flags=["is_extremely_difficult", "is_safe_zone_poor"],
        special_region_basis="QĐ 318/QĐ-TTg (2022)",
    )
    without_rule = CriteriaSet()

    assert region_for(commune, rule) == DELTA
    commune.is_extremely_difficult = True
    assert region_for(commune, rule) == NORTH
    assert region_for(commune, without_rule) == DELTA
    commune.is_extremely_difficult, commune.is_safe_zone_poor = False, True
    assert region_for(commune, rule) == NORTH


def test_postal_checklist_needs_every_condition(ntm_set):
    postal = indicator(ntm_set, "8.1")
    all_six = {"conditions": {str(n): True for n in range(1, 7)}}
    five = {"conditions": {**all_six["conditions"], "4": False}}

    assert decide(postal, GENERAL, [], all_six).met is True
    refused = decide(postal, GENERAL, [], five)
    assert refused.met is False
    assert "Thời gian mở cửa tối thiểu 4 giờ/ngày làm việc" in refused.reason
    assert decide(postal, GENERAL, [], {"conditions": {"1": True}}).met is None


def test_checklist_condition_with_a_threshold(ntm_set):
    it = indicator(ntm_set, "8.4")
    ticks = {"2": True, "3": True, "4": True}

    assert decide(it, GENERAL, [], {"conditions": {**ticks, "1": "85", "5": "60"}}).met is True
    low = decide(it, GENERAL, [], {"conditions": {**ticks, "1": "70", "5": "60"}})
    assert low.met is False and "máy vi tính" in low.reason


def telecom_grid(**villages):
    return {"conditions": {}, "villages": villages}


def test_a_village_with_fixed_broadband_but_no_mobile_broadband_still_passes_8_2(ntm_set):
    telecom = indicator(ntm_set, "8.2")
    full = {"1": True, "2": True, "3": True, "4": True}
    fixed_only = {"1": False, "2": True, "3": True, "4": False}

    decision = decide(
        telecom, GENERAL, VILLAGES, telecom_grid(**{"1": full, "2": full, "3": fixed_only})
    )

    assert decision.met is True
    assert "3/3" in decision.reason


def test_a_village_without_internet_fails_8_2_and_the_reason_counts_villages(ntm_set):
    telecom = indicator(ntm_set, "8.2")
    full = {"1": True, "2": True, "3": True, "4": True}
    no_internet = {"1": True, "2": True, "3": False, "4": False}

    decision = decide(
        telecom, GENERAL, VILLAGES, telecom_grid(**{"1": full, "2": no_internet, "3": full})
    )

    assert decision.met is False
    assert "1/3 thôn chưa có Internet (Nà Mạ)" in decision.reason


def test_per_village_indicator_without_villages_is_not_decided(ntm_set):
    decision = decide(indicator(ntm_set, "8.2"), GENERAL, [], telecom_grid())

    assert decision.met is None
    assert "chưa có thôn" in decision.reason


def test_radio_needs_the_station_and_two_thirds_of_villages(ntm_set):
    radio = indicator(ntm_set, "8.3")
    two_of_three = {"1": {"2": True}, "2": {"2": True}, "3": {"2": False}}

    met = decide(radio, GENERAL, VILLAGES, {"conditions": {"1": True}, "villages": two_of_three})
    station_down = decide(
        radio, GENERAL, VILLAGES, {"conditions": {"1": False}, "villages": two_of_three}
    )
    one_of_three = {**two_of_three, "2": {"2": False}}
    too_few = decide(
        radio, GENERAL, VILLAGES, {"conditions": {"1": True}, "villages": one_of_three}
    )

    assert met.met is True
    assert station_down.met is False and "Đài truyền thanh" in station_down.reason
    assert too_few.met is False and "1/3" in too_few.reason
