from __future__ import annotations

import datetime
import random
import time

from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from assessments.collation import sort_key
from assessments.models import (
    AssessmentPeriod,
    Commune,
    District,
    Evidence,
    IndicatorResult,
    Province,
    Role,
    State,
    User,
    Village,
)
from assessments.seeding import Mix, seed_period
from criteria.models import CriteriaSet, Region

PROVINCES = 63
DISTRICTS = 700
TINY_PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
LATEST = Mix(
    {
        State.APPROVED: 0.55,
        State.SUBMITTED: 0.2,
        State.RETURNED: 0.08,
        State.DRAFT: 0.12,
        None: 0.05,
    }
)
EARLIER = Mix({State.APPROVED: 0.93, State.SUBMITTED: 0.03, State.RETURNED: 0.02, None: 0.02})


class Command(BaseCommand):
    help = (
        "Generate a synthetic country for benchmarks: N communes in 63 provinces and about 700 "
        "districts, 5–20 villages each, P yearly periods with an assessment of every xã, results "
        "for every ICT indicator, a realistic mix of states, overrides, notes and evidence. "
        "Deterministic for a seed. Refuses to run on a database that already holds units."
    )

    def add_arguments(self, parser):
        parser.add_argument("--communes", type=int, default=10_000)
        parser.add_argument("--periods", type=int, default=5)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--files", type=int, default=200, help="evidence records with a file")

    def handle(self, *args, communes: int, periods: int, seed: int, files: int, **options):
        if Province.objects.exists():
            raise CommandError(
                "this database already holds units: seed_national needs an empty one"
            )
        criteria_set = CriteriaSet.objects.filter(code="xa-ntm-2021-2025", status="active").first()
        if criteria_set is None:
            raise CommandError("load the criteria first: manage.py load_criteria")
        started = time.monotonic()
        rng = random.Random(seed)
        regions = list(Region.objects.all())
        with transaction.atomic():
            provinces, officers, reviewers = self._units(communes, regions, rng)
        self.stdout.write(
            f"units: {communes} communes in {len(provinces)} provinces "
            f"({time.monotonic() - started:.0f} s)"
        )
        years = list(range(2025 - periods + 1, 2026))
        for number, province in enumerate(provinces, start=1):
            province_communes = list(
                Commune.objects.filter(province=province, kind=Commune.Kind.RURAL).select_related(
                    "province__region"
                )
            )
            villages: dict[int, list[Village]] = {}
            for village in Village.objects.filter(commune__province=province):
                villages.setdefault(village.commune_id, []).append(village)
            for year in years:
                period = AssessmentPeriod.objects.create(
                    province=province,
                    name=f"Năm {year}",
                    year=year,
                    reference_date=datetime.date(year, 1, 1),
                    opens_on=datetime.date(year, 1, 1),
                    closes_on=datetime.date(year, 12, 31),
                    is_open=year == years[-1],
                )
                period.criteria_sets.add(criteria_set)
                seed_period(
                    communes=province_communes,
                    period=period,
                    criteria_set=criteria_set,
                    officer_for=lambda c, o=officers[province.pk]: o,
                    reviewer=reviewers[province.pk],
                    mix=LATEST if year == years[-1] else EARLIER,
                    seed=f"{seed}-{year}",
                    villages_by_commune=villages,
                )
            if number % 7 == 0 or number == len(provinces):
                self.stdout.write(
                    f"  {number}/{len(provinces)} provinces ({time.monotonic() - started:.0f} s)"
                )
        self._files(files, rng)
        self.stdout.write(f"done in {time.monotonic() - started:.0f} s")

    def _units(self, total: int, regions, rng):
        provinces = Province.objects.bulk_create(
            Province(
                code=f"{n:02d}",
                name=f"Tỉnh Số {n:02d}",
                sort_key=f"TINH {n:02d}",
                region=regions[n % len(regions)],
            )
            for n in range(1, PROVINCES + 1)
        )
        district_count = min(DISTRICTS, max(PROVINCES, total // 5))
        districts = District.objects.bulk_create(
            District(
                code=f"{n:03d}",
                name=f"Huyện Số {n:03d}",
                sort_key=f"HUYEN {n:03d}",
                kind=District.Kind.RURAL,
                province=provinces[(n - 1) % PROVINCES],
            )
            for n in range(1, district_count + 1)
        )
        communes = []
        for n in range(1, total + 1):
            district = districts[(n - 1) % district_count]
            kind = (
                Commune.Kind.RURAL
                if n % 10
                else rng.choice([Commune.Kind.WARD, Commune.Kind.TOWNSHIP])
            )
            name = f"Xã Số {n:05d}"
            communes.append(
                Commune(
                    code=f"{n:05d}",
                    name=name,
                    sort_key=sort_key(name),
                    kind=kind,
                    province=district.province,
                    district=district,
                    is_border=rng.random() < 0.1,
                    is_extremely_difficult=rng.random() < 0.15,
                    pilot_ntm_year=2025 if rng.random() < 0.05 else None,
                )
            )
        Commune.objects.bulk_create(communes, batch_size=2000)
        Village.objects.bulk_create(
            (
                Village(commune=c, name=f"Thôn {k}", sort_key=f"THON {k:03d}")
                for c in communes
                for k in range(1, rng.randint(5, 20) + 1)
            ),
            batch_size=5000,
        )
        officers, reviewers = {}, {}
        for province in provinces:
            district = next(d for d in districts if d.province_id == province.pk)
            officers[province.pk] = User.objects.create(
                username=f"huyen-{district.code}",
                role=Role.DISTRICT_OFFICER,
                province=province,
                district=district,
            )
            reviewers[province.pk] = User.objects.create(
                username=f"tinh-{province.code}", role=Role.PROVINCE_REVIEWER, province=province
            )
        return provinces, officers, reviewers

    def _files(self, count: int, rng) -> None:
        """A few evidence records with a real (tiny) file, so downloads can be tried."""
        results = list(
            IndicatorResult.objects.filter(is_met=True)
            .select_related("updated_by")
            .order_by("pk")[: count * 10 : 10]
        )
        for result in results:
            evidence = Evidence(
                result=result,
                original_name="bien-ban.pdf",
                content_type="application/pdf",
                size=len(TINY_PDF),
                added_by=result.updated_by,
            )
            evidence.file.save("upload", ContentFile(TINY_PDF), save=False)
            Evidence.objects.bulk_create([evidence])  # seeding: no lock check on approved rows
