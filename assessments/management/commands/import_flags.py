from __future__ import annotations

import datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from assessments.models import CommuneFlagRecord
from assessments.unit_import import UnitFileInvalid
from assessments.unit_lists import ListChanged, apply_flags, plan_flags, read_list, row_limit

from ._lists import acting_user, chosen_province, report_plan


class Command(BaseCommand):
    help = (
        "Set a commune flag (ĐBKK, border, ATK) on the communes a deciding document lists: a CSV "
        "or XLSX file with a column «Mã PX» of GSO commune codes (and optionally «Phường Xã»). "
        "The codes name the units in force on --valid-from. A file with any bad row changes "
        "nothing. Each changed commune gets a record of the document."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--flag", required=True, choices=CommuneFlagRecord.Flag.values)
        parser.add_argument("--document", required=True, help='e.g. "QĐ 861/QĐ-TTg"')
        parser.add_argument("--valid-from", required=True, type=datetime.date.fromisoformat)
        parser.add_argument("--valid-to", type=datetime.date.fromisoformat, default=None)
        parser.add_argument("--province", help="province code, e.g. 20 (default: the only one)")
        parser.add_argument(
            "--complete",
            action="store_true",
            help="the file is the complete list: communes of the province not in it lose the flag",
        )
        parser.add_argument(
            "--by", help="username recorded as the importer (default: the only superuser)"
        )
        parser.add_argument("--dry-run", action="store_true", help="show the changes, save nothing")

    def handle(self, *args, file: Path, **options):
        province = chosen_province(options["province"])
        user = acting_user(options["by"])
        try:
            with file.open("rb") as handle:
                rows = read_list(handle, size=file.stat().st_size, max_rows=row_limit(province))
            plan = plan_flags(
                rows,
                province=province,
                flag=options["flag"],
                document=options["document"].strip(),
                valid_from=options["valid_from"],
                valid_to=options["valid_to"],
                complete=options["complete"],
            )
        except OSError as exc:
            raise CommandError(f"{file}: {exc}") from exc
        except UnitFileInvalid as exc:
            raise CommandError(f"{file}: nothing was changed.\n" + "\n".join(exc.errors)) from exc
        report_plan(
            self.stdout,
            f"{plan.flag}: {sum(c.value for c in plan.changes)} set, "
            f"{sum(not c.value for c in plan.changes)} cleared, {plan.unchanged} already set",
            [f"{'+' if c.value else '-'} {c.commune.code} {c.commune.label}" for c in plan.changes],
            plan.warnings,
        )
        if options["dry_run"]:
            self.stdout.write("dry run: nothing was saved")
            return
        try:
            saved = apply_flags(plan, user=user)
        except ListChanged as exc:
            raise CommandError("the flags changed while reading the file; run it again") from exc
        self.stdout.write(f"saved {saved} changes from {plan.document}")
