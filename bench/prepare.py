"""Prepare one benchmark database (idempotent); prints JSON describing what the load test uses.

python bench/prepare.py country N   # seed_national with N communes, a superuser
python bench/prepare.py import N    # one district of N xã with empty drafts in an open period
"""

from __future__ import annotations

import datetime
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from assessments import services  # noqa: E402
from assessments.collation import sort_key  # noqa: E402
from assessments.models import (  # noqa: E402
    Assessment,
    AssessmentPeriod,
    Commune,
    District,
    IndicatorResult,
    Province,
    State,
    User,
)
from criteria.models import CriteriaSet  # noqa: E402

PASSWORD = "bench-password-1"  # noqa: S105 - a local benchmark database only


def root() -> User:
    user, created = User.objects.get_or_create(
        username="bench-root", defaults={"is_superuser": True, "is_staff": True}
    )
    if created:
        user.set_password(PASSWORD)
        user.save()
    return user


def country(communes: int) -> dict:
    if not Province.objects.exists():
        call_command("seed_national", communes=communes, stdout=sys.stderr)
    user = root()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    targets = load_targets()
    # The minimal durable save updates a result row: each draft has one for the indicator.
    for pk, _version in targets["drafts"]:
        IndicatorResult.objects.get_or_create(
            assessment_id=pk,
            indicator_id=targets["indicator"],
            defaults={"inputs": {"conditions": {}}, "updated_by": user},
        )
    return {**targets, "password": PASSWORD}


def load_targets() -> dict:
    """The drafts the load test saves (one per client) and the indicator it saves."""
    period = AssessmentPeriod.objects.filter(is_open=True).order_by("province__code").first()
    drafts = list(
        Assessment.objects.filter(period__is_open=True, state=State.DRAFT)
        .order_by("pk")
        .values_list("pk", "version")[:8]
    )
    postal = services.indicators_of(period.criteria_sets.first())[0]
    return {"drafts": drafts, "indicator": postal.pk}


def import_district(communes: int) -> dict:
    user = root()
    criteria_set = CriteriaSet.objects.get(code="xa-ntm-2021-2025", status="active")
    province, _ = Province.objects.get_or_create(
        code="99", defaults={"name": "Tỉnh Thử Tải", "sort_key": sort_key("Thử Tải")}
    )
    district, _ = District.objects.get_or_create(
        code="999", defaults={"name": "Huyện Thử Tải", "province": province, "kind": "huyen"}
    )
    if not Commune.objects.filter(district=district).exists():
        Commune.objects.bulk_create(
            (
                Commune(
                    code=f"{n:05d}",
                    name=f"Xã Thử {n:05d}",
                    sort_key=f"THU {n:05d}",
                    kind=Commune.Kind.RURAL,
                    province=province,
                    district=district,
                )
                for n in range(1, communes + 1)
            ),
            batch_size=2000,
        )
    period, created = AssessmentPeriod.objects.get_or_create(
        province=province,
        name="Năm 2026 (thử tải)",
        defaults={
            "year": 2026,
            "reference_date": datetime.date(2026, 1, 1),
            "opens_on": datetime.date(2026, 1, 1),
            "closes_on": datetime.date(2026, 12, 31),
            "is_open": True,
        },
    )
    period.criteria_sets.add(criteria_set)
    # every run starts from empty drafts
    Assessment.objects.filter(period=period).delete()
    services.create_assessments(
        user=user,
        communes=list(Commune.objects.filter(district=district)),
        criteria_set=criteria_set,
        period=period,
    )
    return {"communes": Commune.objects.filter(district=district).count()}


if __name__ == "__main__":
    call_command("migrate", verbosity=0)
    call_command("load_criteria", verbosity=0)
    kind, size = sys.argv[1], int(sys.argv[2])
    print(json.dumps(country(size) if kind == "country" else import_district(size)))
