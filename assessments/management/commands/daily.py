"""The daily run: reminders by e-mail, and the housekeeping that goes with them.

Run it once a day, for example from cron (`15 6 * * * cd /srv/ntm-ict && .venv/bin/python manage.py
daily`) or from a systemd timer, with the application's environment loaded.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from assessments import notify
from assessments.excel_entry import expire_previews


class Command(BaseCommand):
    help = (
        "E-mail each officer what is waiting for them (periods closing within --days, assessments "
        "not started, returns not yet answered), then remove expired Excel entry previews."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=7,
            help="remind of open periods closing within this many days (default: %(default)s)",
        )

    def handle(self, *args, days: int, **options):
        if days < 0:
            raise CommandError("--days must be 0 or more.")
        sent = notify.send_daily(days=days)
        self.stdout.write(f"{sent} reminder(s) sent.")
        # Checked Excel uploads that were never applied (assessments.excel_entry).
        removed = expire_previews()
        self.stdout.write(f"{removed} expired Excel preview(s) removed.")
