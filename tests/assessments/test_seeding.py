from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count

from assessments.models import Assessment, Commune, IndicatorResult, Province, State, Village

pytestmark = pytest.mark.django_db


def test_seed_demo_refuses_to_run_with_debug_off(lang_son, settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo")
    assert not Assessment.objects.exists()


def test_seed_demo_fills_two_periods_and_a_second_run_adds_nothing(lang_son, settings):
    settings.DEBUG = True
    out = StringIO()

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
    assert set(by_period) == {"Năm 2024", "Năm 2025"}
    assert by_period["Năm 2024"] > 150  # of 175 xã
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
