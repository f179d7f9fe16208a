"""Many entries in one save (the Excel path): history rows as a form save writes them."""

from __future__ import annotations

import pytest

from assessments import services
from assessments.models import Change, IndicatorResult
from tests.conftest import POSTAL_ALL, indicator, make_commune

pytestmark = pytest.mark.django_db


def test_hundreds_of_entries_save_at_once_with_their_history(
    district_officer, loc_binh, ntm_set, period
):
    communes = [make_commune(loc_binh, f"Xã Số {n}") for n in range(260)]
    assessments = services.create_assessments(
        user=district_officer, communes=communes, criteria_set=ntm_set, period=period
    )
    codes = ["8.1", "8.4"]
    items = [
        services.EntryItem(
            assessment=a,
            indicator=indicator(ntm_set, code),
            entry=services.Entry(inputs=POSTAL_ALL if code == "8.1" else {}, note=f"Ghi {n}"),
        )
        for n, a in enumerate(assessments)
        for code in codes
    ]

    services.save_entries(user=district_officer, items=items, source="Tệp Excel thử")

    assert IndicatorResult.objects.count() == 520
    # 8.1: the entry, the note and the result; 8.4: the note (an empty entry stays undecided)
    assert Change.objects.count() == 260 * 3 + 260 * 1  # over 1,000: the fast path on PG
    assert Change.objects.filter(field="note", old="", new="Ghi 7").count() == 2
    assert Change.objects.filter(field="is_met", old__isnull=True, new=True).count() == 260
    assert set(Change.objects.values_list("source", flat=True)) == {"Tệp Excel thử"}
    assert {a.version for a in assessments} == {2}
