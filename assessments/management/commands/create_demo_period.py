from __future__ import annotations

import datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from assessments.models import AssessmentPeriod, Province
from criteria.models import CriteriaSet


class Command(BaseCommand):
    help = "Create the open demo period “Năm 2025” of Lạng Sơn with the active sets (DEBUG only)."

    def add_arguments(self, parser):
        parser.add_argument("--if-debug", action="store_true")

    def handle(self, *args, if_debug: bool, **options):
        if not settings.DEBUG:
            if if_debug:
                self.stdout.write("DEBUG is off: no demo period is created.")
                return
            raise CommandError("the demo period is only created while DEBUG is on")
        translation.activate(settings.LANGUAGE_CODE)
        province = Province.objects.filter(code="20").first()
        if province is None:
            raise CommandError("Lạng Sơn (20) is not loaded: run import_units first")
        period, created = AssessmentPeriod.objects.get_or_create(
            province=province,
            name="Năm 2025",
            defaults={
                "year": 2025,
                "reference_date": datetime.date(2025, 3, 1),
                "opens_on": datetime.date(2025, 1, 1),
                "closes_on": datetime.date(2026, 12, 31),
                "is_open": True,
            },
        )
        if created:
            period.criteria_sets.set(CriteriaSet.objects.filter(status="active"))
        state = "open" if period.is_open else "closed"
        self.stdout.write(f"Demo period: {period.name} ({state})")
