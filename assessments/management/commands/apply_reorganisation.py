from __future__ import annotations

import datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from assessments.unit_import import (
    UnitFileInvalid,
    apply_reorganisation,
    read_mapping,
    read_unit_file,
)

DATA = Path(__file__).resolve().parents[2] / "data"


class Command(BaseCommand):
    help = (
        "Apply a reorganisation: end the province's current units the day before the effective "
        "date, create the new units (directly under the province), and record each old unit's "
        "successor. Defaults to Lạng Sơn on 01/07/2025."
    )

    def add_arguments(self, parser):
        parser.add_argument("--units", type=Path, default=DATA / "lang-son-units-2025-07-01.csv")
        parser.add_argument("--mapping", type=Path, default=DATA / "lang-son-merge-2025-07-01.csv")
        parser.add_argument(
            "--effective", type=datetime.date.fromisoformat, default=datetime.date(2025, 7, 1)
        )

    def handle(self, *args, units: Path, mapping: Path, effective, **options):
        try:
            result = apply_reorganisation(
                units=read_unit_file(units), mapping=read_mapping(mapping), effective=effective
            )
        except OSError as exc:
            raise CommandError(str(exc)) from exc
        except UnitFileInvalid as exc:
            raise CommandError("nothing was changed.\n" + "\n".join(exc.errors)) from exc
        self.stdout.write(
            f"ended {result['ended']} units on {effective - datetime.timedelta(days=1):%d/%m/%Y}, "
            f"created {result['created']} new units, {result['unchanged']} already in place"
        )
