from __future__ import annotations

import datetime
import random

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from assessments.models import AssessmentPeriod, Commune, Province, State, User
from assessments.seeding import Mix, ensure_villages, seed_period
from criteria.models import CriteriaSet

PERIODS = [
    # name, year, open, mix of states (None: not started)
    ("Năm 2024", 2024, False, Mix({State.APPROVED: 0.9, State.SUBMITTED: 0.05, None: 0.05}, 0.88)),
    (
        "Năm 2025",
        2025,
        True,
        Mix(
            {
                State.APPROVED: 0.45,
                State.SUBMITTED: 0.2,
                State.RETURNED: 0.1,
                State.DRAFT: 0.15,
                None: 0.1,
            },
            0.9,
        ),
    ),
]


class Command(BaseCommand):
    help = (
        "Fill the demo province (Lạng Sơn) with plausible assessments of the xã NTM set for two "
        "periods, so that the dashboards have something to show. DEBUG only; running it again "
        "adds nothing."
    )

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("seed_demo fills the database with invented data: DEBUG must be on")
        province = Province.objects.filter(code="20").first()
        criteria_set = CriteriaSet.objects.filter(code="xa-ntm-2021-2025", status="active").first()
        if province is None or criteria_set is None:
            raise CommandError("load the criteria and the Lạng Sơn units first (make run does)")
        call_command("create_demo_accounts", verbosity=0)
        reviewer = User.objects.get(username="tinh-thamdinh")
        admin = User.objects.get(username="tinh-admin")
        officers = {u.district_id: u for u in User.objects.filter(role="district_officer")}
        communes = list(
            Commune.objects.filter(province=province, kind=Commune.Kind.RURAL)
            .current()
            .select_related("province__region")
            .order_by("code")
        )
        rng = random.Random(20)  # the same demo every time
        ensure_villages(communes, rng)
        for name, year, is_open, mix in PERIODS:
            period, _ = AssessmentPeriod.objects.get_or_create(
                province=province,
                name=name,
                defaults={
                    "year": year,
                    "reference_date": datetime.date(year, 3, 1),
                    "opens_on": datetime.date(year, 1, 1),
                    "closes_on": datetime.date(year + 1, 12, 31),
                    "is_open": is_open,
                },
            )
            period.criteria_sets.add(criteria_set)
            made = seed_period(
                communes=communes,
                period=period,
                criteria_set=criteria_set,
                officer_for=lambda c: officers.get(c.district_id, admin),
                reviewer=reviewer,
                mix=mix,
                seed=f"demo-{year}",
            )
            self.stdout.write(f"{name}: {made} assessments created")
