from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from assessments.unit_import import UnitFileInvalid
from assessments.unit_lists import ListChanged, apply_groups, plan_groups, read_list, row_limit

from ._lists import acting_user, chosen_province, report_plan


class Command(BaseCommand):
    help = (
        "Put communes in their group for a criteria set whose targets go by commune group: a "
        "CSV or XLSX file with a column «Mã PX» of GSO commune codes and a column «Nhóm» "
        "(nhom-1, 1 or Nhóm 1 …). A file with any bad row changes nothing; communes not in the "
        "file keep their group."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--set", required=True, dest="set_code", help="e.g. xa-ntm-2026-2030")
        parser.add_argument("--document", default="", help="the deciding document, if any")
        parser.add_argument("--province", help="province code, e.g. 20 (default: the only one)")
        parser.add_argument(
            "--by", help="username recorded as the importer (default: the only superuser)"
        )
        parser.add_argument("--dry-run", action="store_true", help="show the changes, save nothing")

    def handle(self, *args, file: Path, set_code: str, **options):
        province = chosen_province(options["province"])
        user = acting_user(options["by"])
        try:
            with file.open("rb") as handle:
                rows = read_list(
                    handle,
                    size=file.stat().st_size,
                    max_rows=row_limit(province),
                    with_groups=True,
                )
            plan = plan_groups(
                rows, province=province, set_code=set_code, document=options["document"].strip()
            )
        except OSError as exc:
            raise CommandError(f"{file}: {exc}") from exc
        except UnitFileInvalid as exc:
            raise CommandError(f"{file}: nothing was changed.\n" + "\n".join(exc.errors)) from exc
        report_plan(
            self.stdout,
            f"{plan.criteria_set.code}: {len(plan.changes)} changed, {plan.unchanged} unchanged",
            [f"{c.commune.code} {c.commune.label}: {c.old or '—'} → {c.new}" for c in plan.changes],
            plan.warnings,
        )
        if options["dry_run"]:
            self.stdout.write("dry run: nothing was saved")
            return
        try:
            saved = apply_groups(plan, user=user)
        except ListChanged as exc:
            raise CommandError("the groups changed while reading the file; run it again") from exc
        self.stdout.write(f"saved {saved} changes")
