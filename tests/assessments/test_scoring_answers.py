"""Scoring with answers not entered yet, on the borderline, and impossible: in domain words.

A condition or village cell is yes, no, or not entered yet; "not entered" is never read as no.
Shares are 0–100 and counts are at least 0: anything else is refused, never scored.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import translation

from assessments.scoring import decide, impossible_number, is_share
from criteria.specs import normalize_spec, save_spec
from tests.conftest import indicator

pytestmark = pytest.mark.django_db
GENERAL = None  # the set's general target: nothing here depends on the commune's region


class Village:
    def __init__(self, pk, name):
        self.pk, self.name = pk, name


VILLAGES = [Village(1, "Bản Chắt"), Village(2, "Nà Mạ"), Village(3, "Pò Lọi")]
# 8.2, each village: 1 fixed / 2 mobile telephone (one of them), 3 fixed / 4 mobile broadband
# (one of them). 8.3: commune condition 1 the radio station; village condition 2 loudspeakers.
FULL = {"1": True, "2": True, "3": True, "4": True}


@pytest.fixture
def in_english():
    """Reasons read in the source language, whatever the catalogue holds yet."""
    with translation.override("en"):
        yield


@pytest.fixture
def telecom(ntm_set):
    return indicator(ntm_set, "8.2")


@pytest.fixture
def radio(ntm_set):
    return indicator(ntm_set, "8.3")


@pytest.fixture
def office_it(ntm_set):
    """8.4: conditions 1 and 5 are shares (%) with thresholds 80 and 60; 2–4 are yes / no."""
    return indicator(ntm_set, "8.4")


@pytest.fixture
def smart_village(db):
    """A province's set with a share and a count (numbers of its own, not the national sets')."""
    spec = normalize_spec(
        {
            "code": "thon-thong-minh",
            "name": "Thôn thông minh",
            "kind": "province",
            "year_from": 2025,
            "year_to": 2025,
            "groups": [
                {
                    "number": "I",
                    "name": "Hạ tầng số",
                    "criteria": [
                        {
                            "number": 1,
                            "name": "Hạ tầng số",
                            "indicators": [
                                {
                                    "code": "1.1",
                                    "content": "Tỷ lệ người dân có điện thoại thông minh",
                                    "value_type": "percentage",
                                    "unit": "%",
                                    "targets": [{"region": None, "threshold": "50", "text": ""}],
                                },
                                {
                                    "code": "1.2",
                                    "content": "Số điểm Wi-Fi công cộng miễn phí",
                                    "value_type": "number",
                                    "unit": "điểm",
                                    "targets": [{"region": None, "threshold": "2", "text": ""}],
                                },
                            ],
                        }
                    ],
                }
            ],
        }
    )
    return save_spec(spec)[0]


@pytest.fixture
def smartphones(smart_village):
    """At least 50% of the people have a smartphone."""
    return indicator(smart_village, "1.1")


@pytest.fixture
def wifi_points(smart_village):
    """At least 2 free public Wi-Fi points."""
    return indicator(smart_village, "1.2")


def grid(**villages):
    return {"conditions": {}, "villages": villages}


def radio_entry(station, **villages):
    return {"conditions": {"1": station}, "villages": villages}


OFFICE_TICKS = {"2": True, "3": True, "4": True}

# ---------------------------------------------------------------- villages, all required (8.2)


def test_two_of_three_villages_with_internet_is_not_met_when_all_are_required(telecom):
    no_internet = {"1": False, "2": True, "3": False, "4": False}

    decision = decide(telecom, GENERAL, VILLAGES, grid(**{"1": FULL, "2": FULL, "3": no_internet}))

    assert decision.met is False
    assert "2/3" in decision.reason and "1/3 thôn chưa có Internet (Pò Lọi)" in decision.reason


def test_a_village_with_only_the_telephone_answered_is_undecided_not_failed(telecom, in_english):
    telephone_only = {"1": False, "2": True}

    decision = decide(
        telecom, GENERAL, VILLAGES, grid(**{"1": FULL, "2": telephone_only, "3": FULL})
    )

    assert decision.met is None
    assert "not fully entered for 1 village (Nà Mạ)" in decision.reason
    assert "lack" not in decision.reason and "Not met" not in decision.reason


def test_a_cell_kept_as_none_is_not_entered_yet_rather_than_no(telecom, in_english):
    mobile_unknown = {"1": False, "2": None, "3": True, "4": None}

    decision = decide(
        telecom, GENERAL, VILLAGES, grid(**{"1": FULL, "2": FULL, "3": mobile_unknown})
    )

    assert decision.met is None
    assert "not fully entered for 1 village (Pò Lọi)" in decision.reason


def test_no_fixed_telephone_with_mobile_not_entered_leaves_the_village_undecided(
    telecom, in_english
):
    fixed_no = {"1": False, "3": True}

    decision = decide(telecom, GENERAL, VILLAGES, grid(**{"1": FULL, "2": FULL, "3": fixed_no}))

    assert decision.met is None
    assert "(Pò Lọi)" in decision.reason and "lack" not in decision.reason


def test_villages_with_nothing_entered_are_named_as_undecided(telecom, in_english):
    decision = decide(telecom, GENERAL, VILLAGES, grid(**{"1": FULL}))

    assert decision.met is None
    assert "not fully entered for 2 villages (Nà Mạ, Pò Lọi)" in decision.reason


def test_one_village_without_internet_fails_8_2_while_another_is_not_entered_yet(
    telecom, in_english
):
    no_internet = {"1": True, "3": False, "4": False}

    decision = decide(telecom, GENERAL, VILLAGES, grid(**{"1": FULL, "2": no_internet}))

    assert decision.met is False
    assert "1/3 villages lack Internet (Nà Mạ)" in decision.reason
    assert "not fully entered for 1 village (Pò Lọi)" in decision.reason


def test_entries_saved_with_unticked_boxes_as_no_still_read_as_no(telecom):
    """Before the three-way answer the form kept every unticked box as False."""
    saved = {"1": False, "2": True, "3": False, "4": False}

    decision = decide(telecom, GENERAL, VILLAGES, grid(**{"1": saved, "2": saved, "3": saved}))

    assert decision.met is False
    assert "3/3 thôn chưa có Internet (Bản Chắt, Nà Mạ, Pò Lọi)" in decision.reason


# ---------------------------------------------------------------- a share of villages (8.3)


def test_two_of_three_villages_with_loudspeakers_is_exactly_two_thirds_and_met(radio):
    decision = decide(
        radio,
        GENERAL,
        VILLAGES,
        radio_entry(True, **{"1": {"2": True}, "2": {"2": True}, "3": {"2": False}}),
    )

    assert decision.met is True and "2/3" in decision.reason


def test_loudspeakers_in_two_villages_are_enough_while_the_third_is_not_entered(radio, in_english):
    decision = decide(
        radio, GENERAL, VILLAGES, radio_entry(True, **{"1": {"2": True}, "2": {"2": True}})
    )

    assert decision.met is True
    assert "not fully entered for 1 village (Pò Lọi)" in decision.reason


def test_one_village_without_loudspeakers_and_one_not_entered_is_not_decided_yet(radio, in_english):
    decision = decide(
        radio, GENERAL, VILLAGES, radio_entry(True, **{"1": {"2": True}, "2": {"2": False}})
    )

    assert decision.met is None
    assert decision.reason.startswith("Not decided yet")
    assert "1/3 villages lack" in decision.reason
    assert "not fully entered for 1 village (Pò Lọi)" in decision.reason


def test_the_radio_station_not_entered_leaves_8_3_undecided_with_every_loudspeaker_working(
    radio,
):
    working = {str(v.pk): {"2": True} for v in VILLAGES}

    decision = decide(radio, GENERAL, VILLAGES, radio_entry(None, **working))

    assert decision.met is None
    assert "Đài truyền thanh xã đang hoạt động" in decision.reason


# ---------------------------------------------------------------- the commune's checklist (8.1)


def test_a_postal_condition_not_entered_is_still_to_enter_not_a_failure(ntm_set):
    five = {str(n): True for n in range(1, 6)}

    decision = decide(indicator(ntm_set, "8.1"), GENERAL, [], {"conditions": {**five, "6": None}})

    assert decision.met is None
    assert decision.reason.startswith("Còn phải nhập")
    assert "khối lượng đơn chiếc đến 5 kg" in decision.reason


def test_one_postal_condition_answered_no_fails_8_1_however_many_are_not_entered(ntm_set):
    decision = decide(indicator(ntm_set, "8.1"), GENERAL, [], {"conditions": {"4": False}})

    assert decision.met is False
    assert "Thời gian mở cửa tối thiểu 4 giờ/ngày làm việc" in decision.reason


# ---------------------------------------------------------------- on the threshold


def test_exactly_the_threshold_share_is_met(smartphones):
    assert decide(smartphones, GENERAL, [], {"value": "50"}).met is True
    assert decide(smartphones, GENERAL, [], {"value": "49.99"}).met is False


def test_exactly_the_threshold_count_is_met(wifi_points):
    assert decide(wifi_points, GENERAL, [], {"value": "2"}).met is True
    assert decide(wifi_points, GENERAL, [], {"value": "1"}).met is False


def test_exactly_eighty_percent_of_officials_with_computers_is_met(office_it):
    met = decide(office_it, GENERAL, [], {"conditions": {**OFFICE_TICKS, "1": "80", "5": "60"}})
    below = decide(
        office_it, GENERAL, [], {"conditions": {**OFFICE_TICKS, "1": "79.99", "5": "60"}}
    )

    assert met.met is True
    assert below.met is False and "máy vi tính" in below.reason


# ---------------------------------------------------------------- impossible values


def test_one_hundred_and_twenty_percent_is_refused(smartphones, in_english):
    decision = decide(smartphones, GENERAL, [], {"value": "120"})

    assert decision.met is None
    assert "120% is not possible" in decision.reason


def test_one_hundred_and_twenty_percent_of_officials_with_computers_is_refused(
    office_it, in_english
):
    decision = decide(
        office_it, GENERAL, [], {"conditions": {**OFFICE_TICKS, "1": "120", "5": "60"}}
    )

    assert decision.met is None
    assert "máy vi tính" in decision.reason and "120% is not possible" in decision.reason


def test_a_negative_count_of_wifi_points_is_refused(wifi_points, in_english):
    decision = decide(wifi_points, GENERAL, [], {"value": "-1"})

    assert decision.met is None
    assert "-1 is not possible" in decision.reason


def test_a_share_is_zero_to_one_hundred_and_a_count_is_zero_or_more(office_it, wifi_points):
    computers, paperless = (c for c in office_it.conditions.all() if c.threshold is not None)

    assert is_share(office_it, computers) and is_share(office_it, paperless)
    assert not is_share(wifi_points)
    assert impossible_number(Decimal("0"), share=True) is None
    assert impossible_number(Decimal("100"), share=True) is None
    assert impossible_number(Decimal("100.01"), share=True)
    assert impossible_number(Decimal("250"), share=False) is None
    assert impossible_number(Decimal("-0.5"), share=False)
