from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS

from assessments import backups


class Command(BaseCommand):
    help = (
        "Back up the database and MEDIA_ROOT into DIR (new or empty): a consistent dump "
        "(pg_dump -Fc on PostgreSQL, SQLite's online backup otherwise), a copy of the media "
        "files, a SHA-256 of every file (SHA256SUMS) and manifest.json (date, engine, "
        "migrations, app version, rows per model). `manage.py restore DIR` reads it back."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path, help="a new or empty folder")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, directory: Path, database: str, **options):
        try:
            manifest = backups.back_up(directory, using=database)
        except backups.BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"Backed up {manifest['engine']}: {sum(manifest['row_counts'].values())} rows "
            f"in {len(manifest['row_counts'])} tables and {manifest['media_files']} media "
            f"files, into {directory}"
        )
