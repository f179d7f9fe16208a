from __future__ import annotations

import datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from assessments.unit_import import (
    Tally,
    UnitFileInvalid,
    import_ended_units,
    import_units,
    read_ended_units,
    read_unit_file,
    refresh_names,
)
from criteria.models import Region

DATA = Path(__file__).resolve().parents[2] / "data"
# The shipped Lạng Sơn lists: the units in force on 01/03/2025, the units that ended on
# 30/11/2024, and the units of the reform of 01/07/2025 (created by apply_reorganisation).
SHIPPED = DATA / "lang-son-units-2025-03-01.csv"
SHIPPED_ON = datetime.date(2025, 3, 1)
ENDED = DATA / "lang-son-ended-2024-12-01.csv"
REFORMED = DATA / "lang-son-units-2025-07-01.csv"
REFORMED_ON = datetime.date(2025, 7, 1)


class Command(BaseCommand):
    help = (
        "Import provinces, districts and communes from a statistics-office list (CSV or XLSX "
        "with the headers Mã TP, Tỉnh / Thành Phố, Mã QH, Quận Huyện, Mã PX, Phường Xã, Cấp). "
        "Without a file: the shipped Lạng Sơn lists — the units of 01/03/2025, the units that "
        "ended on 30/11/2024, and corrected names of the units of 01/07/2025 once "
        "apply_reorganisation has created them. Safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", type=Path, default=None)
        parser.add_argument(
            "--region", help="code of the province's region, e.g. %(default)s", default=None
        )
        parser.add_argument(
            "--valid-from",
            type=datetime.date.fromisoformat,
            default=None,
            help="date from which new units are valid (YYYY-MM-DD)",
        )
        parser.add_argument(
            "--on",
            type=datetime.date.fromisoformat,
            default=None,
            help="the day the list describes (YYYY-MM-DD): its rows are matched with the units "
            "in force that day; default today",
        )

    def handle(self, *args, file: Path | None, region: str | None, valid_from, on, **options):
        region_obj = None
        if region:
            region_obj = Region.objects.filter(code=region).first()
            if region_obj is None:
                codes = ", ".join(Region.objects.values_list("code", flat=True))
                raise CommandError(
                    f"unknown region {region!r}; known: {codes or 'none (run load_criteria)'}"
                )
        if file is None:
            file, on = SHIPPED, on or SHIPPED_ON
        rows = self._read(read_unit_file, file)
        step = max(len(rows) // 10, 500)

        def progress(done: int, total: int) -> None:
            if done % step == 0 or done == total and total > step:
                self.stdout.write(f"  {done}/{total} rows")

        tallies = [
            self._run(
                file,
                lambda: import_units(
                    rows, region=region_obj, valid_from=valid_from, on=on, progress=progress
                ),
            )
        ]
        for kind in ("province", "district", "commune"):
            self._counts(f"{kind}s", tallies[0][kind])
        if file == SHIPPED:
            tallies += self._history()
        for tally in tallies:
            for code, old, new in tally.renamed:
                self.stdout.write(f"  renamed {code}: «{old}» → «{new}»")
            for code, name, day in tally.started:
                self.stdout.write(f"  {code} {name}: in force from {day:%d/%m/%Y}")

    def _history(self) -> list[Tally]:
        ended_rows = self._read(read_ended_units, ENDED)
        ended = self._run(ENDED, lambda: import_ended_units(ended_rows))
        self._counts("units ended on 30/11/2024", ended["ended"])
        reformed_rows = self._read(read_unit_file, REFORMED)
        reformed = self._run(REFORMED, lambda: refresh_names(reformed_rows, valid_from=REFORMED_ON))
        if reformed is None:
            self.stdout.write("units of 01/07/2025: not created yet (run apply_reorganisation)")
            return [ended]
        self._counts("units of 01/07/2025", reformed["commune"])
        return [ended, reformed]

    def _counts(self, label: str, counts) -> None:
        self.stdout.write(
            f"{label}: {counts['created']} created, {counts['updated']} updated, "
            f"{counts['unchanged']} unchanged"
        )

    def _read(self, reader, file: Path):
        try:
            return reader(file)
        except OSError as exc:
            raise CommandError(f"{file}: {exc}") from exc
        except UnitFileInvalid as exc:
            raise CommandError(f"{file}: nothing was imported.\n" + "\n".join(exc.errors)) from exc

    def _run(self, file: Path, step):
        try:
            return step()
        except UnitFileInvalid as exc:
            raise CommandError(f"{file}: nothing was imported.\n" + "\n".join(exc.errors)) from exc
