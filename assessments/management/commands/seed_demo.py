from __future__ import annotations

import datetime
import random

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from assessments.models import AssessmentPeriod, Commune, Province, State, User
from assessments.seeding import (
    Mix,
    assign_demo_groups,
    demo_copy_of_2026_set,
    ensure_villages,
    seed_period,
)
from criteria.models import CriteriaSet

# name, year, reference date (the units it scores), open, the set's code, mix of states
# (None: not started). 2024 and early 2025 score the units before the reform of 01/07/2025,
# with their districts; 2026 scores the 65 units after it, on the demo copy of the 2026–2030 set.
PERIODS = [
    (
        "Năm 2024",
        2024,
        datetime.date(2024, 12, 31),
        False,
        "xa-ntm-2021-2025",
        Mix({State.APPROVED: 0.9, State.SUBMITTED: 0.05, None: 0.05}, 0.88),
    ),
    (
        "Năm 2025",
        2025,
        datetime.date(2025, 3, 1),
        True,
        "xa-ntm-2021-2025",
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
    (
        "Năm 2026",
        2026,
        datetime.date(2026, 3, 1),
        True,
        None,  # the demo copy of the 2026–2030 draft
        Mix({State.APPROVED: 0.3, State.SUBMITTED: 0.25, State.DRAFT: 0.2, None: 0.25}, 0.8),
    ),
]


class Command(BaseCommand):
    help = (
        "Fill the demo province (Lạng Sơn) with plausible assessments: 2024 and early 2025 on "
        "the units before the reform (xã NTM 2021–2025), 2026 on the new communes (a demo copy "
        "of the 2026–2030 draft, marked 'minh họa'), so that the dashboards have something to "
        "show. DEBUG only; running it again adds nothing."
    )

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("seed_demo fills the database with invented data: DEBUG must be on")
        province = Province.objects.filter(code="20").first()
        ntm = CriteriaSet.objects.filter(code="xa-ntm-2021-2025", status="active").first()
        if province is None or ntm is None:
            raise CommandError("load the criteria and the Lạng Sơn units first (make run does)")
        call_command("create_demo_accounts", verbosity=0)
        reviewer = User.objects.get(username="tinh-thamdinh")
        admin = User.objects.get(username="tinh-admin")
        officers = {u.district_id: u for u in User.objects.filter(role="district_officer")}
        demo_set = demo_copy_of_2026_set()
        for name, year, reference_date, is_open, set_code, mix in PERIODS:
            criteria_set = ntm if set_code else demo_set
            communes = list(
                Commune.objects.filter(province=province, kind=Commune.Kind.RURAL)
                .current(reference_date)
                .select_related("province__region")
                .order_by("code")
            )
            if not communes:
                self.stdout.write(f"{name}: no unit in force on {reference_date:%d/%m/%Y}")
                continue
            ensure_villages(communes, random.Random(20))  # the same demo every time
            if not set_code:
                assign_demo_groups(communes, criteria_set)
            period, _ = AssessmentPeriod.objects.get_or_create(
                province=province,
                name=name,
                defaults={
                    "year": year,
                    "reference_date": reference_date,
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
