from __future__ import annotations

import datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from assessments.unit_import import UnitFileInvalid, import_units, read_unit_file
from criteria.models import Region

SHIPPED = Path(__file__).resolve().parents[2] / "data" / "lang-son-units-2025-03-01.csv"


class Command(BaseCommand):
    help = (
        "Import provinces, districts and communes from a statistics-office list (CSV or XLSX "
        "with the headers Mã TP, Tỉnh / Thành Phố, Mã QH, Quận Huyện, Mã PX, Phường Xã, Cấp)."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", type=Path, default=SHIPPED)
        parser.add_argument(
            "--region", help="code of the province's region, e.g. %(default)s", default=None
        )
        parser.add_argument(
            "--valid-from",
            type=datetime.date.fromisoformat,
            default=None,
            help="date from which new units are valid (YYYY-MM-DD)",
        )

    def handle(self, *args, file: Path, region: str | None, valid_from, **options):
        region_obj = None
        if region:
            region_obj = Region.objects.filter(code=region).first()
            if region_obj is None:
                codes = ", ".join(Region.objects.values_list("code", flat=True))
                raise CommandError(
                    f"unknown region {region!r}; known: {codes or 'none (run load_criteria)'}"
                )
        try:
            rows = read_unit_file(file)
        except OSError as exc:
            raise CommandError(f"{file}: {exc}") from exc
        except UnitFileInvalid as exc:
            raise CommandError(f"{file}: nothing was imported.\n" + "\n".join(exc.errors)) from exc
        step = max(len(rows) // 10, 500)

        def progress(done: int, total: int) -> None:
            if done % step == 0 or done == total and total > step:
                self.stdout.write(f"  {done}/{total} rows")

        tally = import_units(rows, region=region_obj, valid_from=valid_from, progress=progress)
        for kind in ("province", "district", "commune"):
            c = tally[kind]
            self.stdout.write(
                f"{kind}s: {c['created']} created, {c['updated']} updated, "
                f"{c['unchanged']} unchanged"
            )
