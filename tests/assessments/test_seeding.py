from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count

from assessments.models import Assessment, Commune, IndicatorResult, Province, State, Village
from assessments.seeding import DEMO_LABEL, DEMO_SET_CODE
from criteria.models import CriteriaSet, Indicator

pytestmark = pytest.mark.django_db


def test_seed_demo_refuses_to_run_with_debug_off(lang_son, settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo")
    assert not Assessment.objects.exists()


def test_seed_demo_fills_three_periods_and_a_second_run_adds_nothing(lang_son, settings):
    settings.DEBUG = True
    out = StringIO()
    call_command("apply_reorganisation", stdout=out)

    call_command("seed_demo", stdout=out)
    counts = (Assessment.objects.count(), IndicatorResult.objects.count(), Village.objects.count())
    call_command("seed_demo", stdout=out)

    assert (
        Assessment.objects.count(),
        IndicatorResult.objects.count(),
        Village.objects.count(),
    ) == counts
    assert "Năm 2025: 0 assessments created" in out.getvalue()
    by_period = dict(
        Assessment.objects.values("period__name")
        .annotate(n=Count("pk"))
        .values_list("period__name", "n")
    )
    assert set(by_period) == {"Năm 2024", "Năm 2025", "Năm 2026"}
    assert by_period["Năm 2024"] > 150  # of 175 xã
    # each period scores the units in force on its reference date: old ones before the reform
    # (with their districts), the new ones (no district) on the demo copy of the 2026–2030 set
    assert not Assessment.objects.filter(period__year__lt=2026, commune__district=None).exists()
    in_2026 = Assessment.objects.filter(period__name="Năm 2026")
    assert in_2026.exists() and not in_2026.exclude(commune__district=None).exists()
    assert set(in_2026.values_list("criteria_set__code", flat=True)) == {DEMO_SET_CODE}
    demo_set = CriteriaSet.objects.get(code=DEMO_SET_CODE)
    assert DEMO_LABEL in demo_set.name
    seven = Indicator.objects.filter(criterion__criteria_set=demo_set)
    assert sorted(seven.values_list("code", flat=True)) == ["7.1", "7.2", "7.3", "7.4"]
    assert all(i.to_confirm and DEMO_LABEL in i.to_confirm_note for i in seven)
    assert CriteriaSet.objects.get(code="xa-ntm-2026-2030").status == "draft"
    assert not Assessment.objects.exclude(commune__kind=Commune.Kind.RURAL).exists()
    assert Assessment.objects.filter(state=State.RETURNED, transitions__action="return").exists()
    assert (
        IndicatorResult.objects.filter(override_met__isnull=False)
        .exclude(override_reason="")
        .exists()
    )


def test_seed_national_is_deterministic_and_refuses_a_database_with_units(
    shipped_sets, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    call_command("seed_national", communes=300, periods=2, files=2, stdout=StringIO())

    assert Province.objects.count() == 63
    assert Commune.objects.count() == 300
    per_commune = Village.objects.filter(commune=Commune.objects.first()).count()
    assert 5 <= per_commune <= 20
    xa = Commune.objects.filter(kind=Commune.Kind.RURAL).count()
    assert Assessment.objects.count() <= 2 * xa
    first = sorted(Assessment.objects.values_list("commune__code", "period__year", "state"))
    assert IndicatorResult.objects.count() == 4 * Assessment.objects.count()
    with pytest.raises(CommandError, match="empty"):
        call_command("seed_national", communes=300, periods=2, stdout=StringIO())
    Assessment.objects.all().delete()
    from assessments.models import AssessmentPeriod, District, User

    AssessmentPeriod.objects.all().delete()
    User.objects.all().delete()
    Village.objects.all().delete()
    Commune.objects.all().delete()
    District.objects.all().delete()
    Province.objects.all().delete()
    call_command("seed_national", communes=300, periods=2, files=0, stdout=StringIO())
    assert sorted(Assessment.objects.values_list("commune__code", "period__year", "state")) == first
