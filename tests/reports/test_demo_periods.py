"""Every period of the demo (`make run` + seed_demo): each counts the units in force on its
reference date once, and the 2024 dashboard still shows 11 districts and 175 xã."""

from __future__ import annotations

from django.core.management import call_command
from django.urls import reverse

from assessments.models import AssessmentPeriod, Commune, User


def test_no_unit_is_counted_twice_in_any_demo_period(client, lang_son, settings):
    settings.DEBUG = True
    call_command("apply_reorganisation", verbosity=0)
    call_command("seed_demo", verbosity=0)
    settings.DEBUG = False
    client.force_login(User.objects.get(username="tinh-thamdinh"))
    periods = list(AssessmentPeriod.objects.filter(province=lang_son).order_by("reference_date"))
    assert [p.name for p in periods] == ["Năm 2024", "Năm 2025", "Năm 2026"]

    for period in periods:
        for criteria_set in period.criteria_sets.all():
            response = client.get(
                reverse("reports:province"),
                {"period": period.pk, "set": criteria_set.pk, "submitted": "on"},
            )
            report = response.context["report"]
            in_force = set(
                Commune.objects.current(period.reference_date)
                .rural()
                .filter(province=lang_son)
                .values_list("pk", flat=True)
            )
            lines = [line.commune.pk for line in report.lines]
            assert len(lines) == len(set(lines)), period.name
            assert set(lines) == in_force, period.name
            assert sum(r.in_scope for r in report.rows) == report.total.in_scope == len(in_force)
            assert sum(r.approved for r in report.rows) == report.total.approved
            assert sum(r.criterion_met for r in report.rows) == report.total.criterion_met
            if period.name == "Năm 2024":
                assert len(report.rows) == 11 and report.total.in_scope == 175
            if period.name == "Năm 2026":
                assert report.rows[-1].label in ("Chưa xếp nhóm", "Not grouped yet")
                assert all(row.district is None for row in report.rows)
