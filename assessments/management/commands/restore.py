from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS

from assessments import backups


class Command(BaseCommand):
    help = (
        "Restore a backup made by `manage.py backup` into an EMPTY database (the one "
        "DATABASE_URL names: create it first) and an empty MEDIA_ROOT, then prove it: every "
        "model has the rows the backup counted and every file its SHA-256. A database or media "
        "folder that is not empty, or a damaged backup, is refused before anything is written."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path, help="a folder written by manage.py backup")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, directory: Path, database: str, **options):
        try:
            manifest = backups.restore(directory, using=database)
        except backups.BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"Restored the backup of {manifest['created_at']} (version "
            f"{manifest['app_version']}): {sum(manifest['row_counts'].values())} rows in "
            f"{len(manifest['row_counts'])} tables and {manifest['media_files']} media files "
            f"into {settings.MEDIA_ROOT}; all counts and checksums match."
        )
        if unapplied := backups.unapplied_migrations(using=database):
            self.stdout.write(
                f"This code has {len(unapplied)} migrations the backup has not: "
                "run `manage.py migrate` next."
            )
