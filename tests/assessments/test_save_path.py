"""The form's save of one indicator: a fixed number of queries, the version and `all_met` stored
together, and history rows written by the cursor exactly as bulk_create writes them."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from assessments import services
from assessments.models import Assessment, Change, IndicatorResult
from criteria.models import CriteriaSet
from tests.conftest import POSTAL_ALL, indicator, make_commune, make_village

pytestmark = pytest.mark.django_db


def save(client, assessment, code, data):
    ind = indicator(assessment.criteria_set, code)
    prefix = f"i{ind.pk}"
    assessment.refresh_from_db()
    body = {f"{prefix}-version": assessment.version}
    body.update({f"{prefix}-{k}": v for k, v in data.items()})
    with CaptureQueriesContext(connection) as ctx:
        response = client.post(
            reverse("assessments:indicator_save", args=[assessment.pk, ind.pk]), body
        )
    assert response.status_code == 302, response.content.decode()[:500]
    # the test's own transaction makes the view's a savepoint: not a query of the save
    return sum(not q["sql"].startswith(("SAVEPOINT", "RELEASE")) for q in ctx.captured_queries)


POSTAL_YES = {f"c_{n}": "yes" for n in range(1, 7)}


def test_saving_one_indicator_takes_the_same_queries_whatever_the_villages_and_results(
    client, district_officer, loc_binh, ntm_set, period
):
    client.force_login(district_officer)
    small, large = make_commune(loc_binh, "Xã Ít Thôn"), make_commune(loc_binh, "Xã Nhiều Thôn")
    for n in range(2):
        make_village(small, f"Thôn {n}")
    for n in range(40):
        make_village(large, f"Thôn {n}")
    first, second = services.create_assessments(
        user=district_officer, communes=[small, large], criteria_set=ntm_set, period=period
    )
    services.save_entry(
        user=district_officer,
        assessment=second,
        indicator=indicator(ntm_set, "8.4"),
        entry=services.Entry(inputs={"conditions": {"2": True}}, note="Đã có"),
        seen_version=None,
    )

    reading = save(client, first, "8.1", {**POSTAL_YES, "note": "Lần 1"})
    again = save(client, first, "8.1", {**POSTAL_YES, "note": "Lần 2"})  # an update this time
    many = save(client, second, "8.1", {**POSTAL_YES, "note": "Lần 1"})

    # session, user, the assessment (locked), the results, the result written, its history,
    # the version; the first save of an indicator of a set in use also reads the indicator,
    # its conditions, its targets and the number of indicators of the set
    assert again == many <= 7
    assert reading == again + 4
    # an indicator decided per village reads the villages once more, whatever their number
    village_reading = save(client, first, "8.2", {"note": "Thôn"})
    village_many = save(client, second, "8.2", {"note": "Thôn"})
    assert village_many == many + 1
    assert village_reading == village_many + 4


def test_a_set_saved_since_or_a_draft_has_its_indicator_read_again(
    client, district_officer, assessment
):
    client.force_login(district_officer)
    criteria_set = assessment.criteria_set
    reading = save(client, assessment, "8.1", {**POSTAL_YES, "note": "Lần 1"})
    assert save(client, assessment, "8.1", {**POSTAL_YES, "note": "Lần 2"}) == reading - 4

    CriteriaSet.objects.filter(pk=criteria_set.pk).update(updated_at=timezone.now())
    assert save(client, assessment, "8.1", {**POSTAL_YES, "note": "Lần 3"}) == reading

    CriteriaSet.objects.filter(pk=criteria_set.pk).update(status=CriteriaSet.Status.DRAFT)
    for n in range(2):
        assert save(client, assessment, "8.1", {**POSTAL_YES, "note": f"Nháp {n}"}) == reading


def test_the_version_and_whether_every_indicator_is_met_are_stored_by_each_save(
    district_officer, assessment
):
    criteria_set = assessment.criteria_set
    codes = [i.code for i in services.indicators_of(criteria_set)]
    villages = [str(v.pk) for v in assessment.commune.villages.all()]
    met_inputs = {
        "8.1": POSTAL_ALL,
        "8.2": {"villages": {v: {str(n): True for n in range(1, 5)} for v in villages}},
        "8.3": {"conditions": {"1": True}, "villages": {v: {"2": True} for v in villages}},
        "8.4": {"conditions": {"1": "90", "2": True, "3": True, "4": True, "5": "70"}},
    }
    assert sorted(met_inputs) == sorted(codes)

    def enter(code, inputs):
        services.save_entry(
            user=district_officer,
            assessment=assessment,
            indicator=indicator(criteria_set, code),
            entry=services.Entry(inputs=inputs),
            seen_version=assessment.version,
        )
        return Assessment.objects.get(pk=assessment.pk)

    stored = None
    for n, code in enumerate(codes, start=1):
        stored = enter(code, met_inputs[code])
        assert stored.version == 1 + n
        # undecided until the last indicator is entered
        assert stored.all_met is (True if n == len(codes) else None)
    assert IndicatorResult.objects.filter(assessment=assessment, is_met=True).count() == len(codes)
    stored = enter("8.1", {"conditions": {**POSTAL_ALL["conditions"], "3": False}})
    assert (stored.version, stored.all_met) == (2 + len(codes), False)
    assert assessment.all_met is False and assessment.version == stored.version


def test_history_rows_read_back_as_bulk_create_writes_them(district_officer, assessment):
    ind = indicator(assessment.criteria_set, "8.1")
    at = timezone.make_aware(datetime.datetime(2026, 3, 4, 5, 6, 7, 890123))
    values = [
        None,
        "",
        "Ghi chú có dấu: Bưu điện văn hóa xã",
        True,
        False,
        12,
        "12.5",
        {"conditions": {"1": True, "2": False, "3": None}, "villages": {"7": {"1": True}}},
        ["a", 1, None],
        {"value": "80.00"},
    ]
    # more rows than one statement carries on SQLite (999 parameters, 11 columns)
    rows = [
        services._change_row(
            assessment, district_officer, f"field{n % 7}", old, new, indicator=ind, at=at
        )
        for n in range(250)
        for old, new in [(values[n % len(values)], values[(n + 3) % len(values)])]
    ]

    services._insert_changes(rows)
    Change.objects.bulk_create(
        Change(
            **dict(zip(services.CHANGE_COLUMNS, (*row[:8], "bulk_create", *row[9:]), strict=True))
        )
        for row in rows
    )

    def read(source):
        return list(
            Change.objects.filter(source=source)
            .order_by("pk")
            .values_list(*[c for c in services.CHANGE_COLUMNS if c != "source"])
        )

    written, expected = read("form"), read("bulk_create")
    assert len(written) == 250
    assert written == expected
    assert written[0][-1] == at
    # SQL NULL for None, as bulk_create stores it: the history's "was empty" queries find it
    assert Change.objects.filter(source="form", old__isnull=True).count() == 25
    assert Decimal(Change.objects.filter(source="form", new__value="80.00").first().new["value"])


def test_rows_updated_through_the_cursor_read_back_as_update_writes_them(
    district_officer, assessment
):
    criteria_set = assessment.criteria_set
    first, second = (
        services.save_entry(
            user=district_officer,
            assessment=assessment,
            indicator=indicator(criteria_set, code),
            entry=services.Entry(inputs={"conditions": {}}),
            seen_version=None,
        )
        for code in ("8.1", "8.4")
    )
    at = timezone.make_aware(datetime.datetime(2026, 3, 4, 5, 6, 7, 890123))
    values = {
        "inputs": {"conditions": {"1": "90.5", "2": True, "3": None}, "villages": {"7": {}}},
        "override_met": False,
        "override_reason": "Ghi chú có dấu: xác minh tại thực địa",
        "note": "",
        "computed_met": None,
        "is_met": False,
        "updated_by": district_officer,
        "updated_at": at,
    }
    services._update_rows(IndicatorResult, [first.pk], values)
    IndicatorResult.objects.filter(pk=second.pk).update_checked_rows(**values)
    columns = [*values, "no_evidence_explanation"]
    written, expected = (
        IndicatorResult.objects.filter(pk=pk).values(*columns).get() for pk in (first.pk, second.pk)
    )
    assert written == expected
    assert written["updated_at"] == at and written["computed_met"] is None
    # the version raised by one in SQL, with the other values
    version = Assessment.objects.get(pk=assessment.pk).version
    services._update_rows(Assessment, [assessment.pk], {"all_met": False}, plus_one="version")
    stored = Assessment.objects.get(pk=assessment.pk)
    assert (stored.version, stored.all_met) == (version + 1, False)
