from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from criteria.services import retire_replaced_versions
from criteria.specs import SetLocked, load_regions, normalize_spec, save_spec, shipped_set_files
from criteria.workbooks import WorkbookInvalid, check_spec

OUTCOMES = {
    "created": "created",
    "updated": "updated",
    "unchanged": "unchanged",
    "annotated": "in use: sources, marks and notes updated",
    "kept": (
        "kept: the draft differs from the shipped file (it may have been completed in the "
        "app); name the file on the command line to replace the draft with it"
    ),
}


class Command(BaseCommand):
    help = (
        "Load the regions and the criteria sets shipped with ntm-ict (or the given JSON files). "
        "A set in use only takes corrected sources, marks and notes; a shipped draft that was "
        "changed in the app is kept unless its file is named."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="*", type=Path, help="criteria set JSON files")

    def handle(self, *args, files: list[Path], **options):
        regions_changed = load_regions()
        if regions_changed:
            self.stdout.write(f"regions: {regions_changed} created or updated")
        failed = False
        for path in files or shipped_set_files():
            try:
                raw = json.loads(path.read_text(encoding="utf-8"))
                spec = normalize_spec(raw)
                check_spec(spec)
                criteria_set, outcome = save_spec(
                    spec, replace_draft=bool(files), annotate_locked=True
                )
                retired = retire_replaced_versions(
                    criteria_set=criteria_set, versions=raw.get("retire_versions", [])
                )
            except (OSError, ValueError, KeyError) as exc:
                raise CommandError(f"{path}: {exc}") from exc
            except WorkbookInvalid as exc:
                raise CommandError(f"{path}:\n" + "\n".join(exc.errors)) from exc
            except SetLocked as exc:
                self.stderr.write(f"{path.name}: {exc}")
                failed = True
                continue
            name = f"{criteria_set.code} v{criteria_set.version}"
            self.stdout.write(f"{path.name}: {name} {OUTCOMES[outcome]}")
            for old in retired:
                self.stdout.write(
                    f"{path.name}: {old.code} v{old.version} retired, replaced by the draft "
                    f"v{criteria_set.version}; periods that include it keep it"
                )
        if failed:
            raise CommandError("some criteria sets were refused; nothing was changed in them")
