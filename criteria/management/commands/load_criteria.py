from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from criteria.specs import SetLocked, load_regions, read_spec_file, save_spec, shipped_set_files
from criteria.workbooks import WorkbookInvalid, check_spec


class Command(BaseCommand):
    help = "Load the regions and the criteria sets shipped with ntm-ict (or the given JSON files)."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="*", type=Path, help="criteria set JSON files")

    def handle(self, *args, files: list[Path], **options):
        regions_changed = load_regions()
        if regions_changed:
            self.stdout.write(f"regions: {regions_changed} created or updated")
        failed = False
        for path in files or shipped_set_files():
            try:
                spec = read_spec_file(path)
                check_spec(spec)
                criteria_set, outcome = save_spec(spec)
            except (OSError, ValueError, KeyError) as exc:
                raise CommandError(f"{path}: {exc}") from exc
            except WorkbookInvalid as exc:
                raise CommandError(f"{path}:\n" + "\n".join(exc.errors)) from exc
            except SetLocked as exc:
                self.stderr.write(f"{path.name}: {exc}")
                failed = True
                continue
            self.stdout.write(f"{path.name}: {criteria_set.code} v{criteria_set.version} {outcome}")
        if failed:
            raise CommandError("some criteria sets were refused; nothing was changed in them")
