from __future__ import annotations

import datetime

from django.core.management.base import BaseCommand, CommandError

from assessments.excel_entry import PREVIEW_LIFETIME, expire_previews


class Command(BaseCommand):
    help = (
        "Remove the checked Excel entry files (MEDIA_ROOT/imports/) that were never applied and "
        "are older than --hours (default: the time a preview may still be applied). Meant to "
        "run daily."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--hours",
            type=float,
            default=PREVIEW_LIFETIME.total_seconds() / 3600,
            help="remove files older than this many hours (default: %(default)s)",
        )

    def handle(self, *args, hours: float, **options):
        if hours < 0:
            raise CommandError("--hours must be 0 or more.")
        removed = expire_previews(older_than=datetime.timedelta(hours=hours))
        self.stdout.write(f"{removed} checked file(s) removed.")
