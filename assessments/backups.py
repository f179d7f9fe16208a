"""Backups that prove themselves: a consistent database dump, a copy of MEDIA_ROOT, a SHA-256
of every file, and a manifest (date, engine, migrations, app version, rows per model) that a
restore checks the restored data against.

A backup folder holds:

    database.dump       PostgreSQL: `pg_dump -Fc`, read back by `pg_restore`
    database.sqlite3    SQLite: a copy made with SQLite's online backup API
    media/…             MEDIA_ROOT as it was
    SHA256SUMS          a SHA-256 per file above; `sha256sum -c SHA256SUMS` checks them by hand
    manifest.json       written last: a folder without it is not a finished backup

The database is dumped before the media folder is copied. Evidence files are never deleted
(removing evidence only marks it removed), so every file the dump names is in the copy; the
copy may hold a few newer files that no row names yet, which is harmless.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Iterable
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.postgresql.client import DatabaseClient
from django.db.migrations.loader import MigrationLoader
from django.db.models import Model
from django.utils import timezone

FORMAT = 1
MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
MEDIA = "media"
DUMP_FILES = {"postgresql": "database.dump", "sqlite": "database.sqlite3"}
CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup or a restore that cannot go ahead; the message says why, and nothing changed."""


# ---------------------------------------------------------------- what a database holds


def counted_models() -> list[type[Model]]:
    """Every model with a table of its own, many-to-many tables included."""
    return [
        model
        for model in apps.get_models(include_auto_created=True)
        if model._meta.managed and not model._meta.proxy
    ]


def row_counts(cursor, quote_name, models: Iterable[type[Model]]) -> dict[str, int]:
    """Rows per model label, in one query on any DB-API cursor (Django's or sqlite3's)."""
    models = list(models)
    if not models:
        return {}
    # One SELECT per table, joined: about forty tables, far below SQLite's 500 compound terms.
    # Each is tagged with its position, so the query needs no parameters in either dialect.
    cursor.execute(
        " UNION ALL ".join(
            f"SELECT {position}, COUNT(*) FROM {quote_name(model._meta.db_table)}"  # noqa: S608 - our own table names, quoted
            for position, model in enumerate(models)
        )
    )
    return {models[position]._meta.label: count for position, count in cursor.fetchall()}


def applied_migrations(cursor) -> dict[str, list[str]]:
    """The migrations recorded as applied, by app."""
    cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
    applied: dict[str, list[str]] = {}
    for app, name in cursor.fetchall():
        applied.setdefault(app, []).append(name)
    return applied


def app_version() -> str:
    try:
        return importlib.metadata.version("ntm-ict")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


# ---------------------------------------------------------------- PostgreSQL tools


def tool_major(name: str) -> int:
    """The major version of pg_dump or pg_restore, refusing when it is missing."""
    try:
        done = subprocess.run([name, "--version"], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        raise BackupError(
            f"{name} is not installed or does not run: install the PostgreSQL client "
            "(Debian: apt install postgresql-client)"
        ) from None
    found = re.search(r"\(PostgreSQL\)\s+(\d+)", done.stdout)
    if not found:
        raise BackupError(f"cannot read the version of {name} from {done.stdout.strip()!r}")
    return int(found.group(1))


def server_major(connection: BaseDatabaseWrapper) -> int:
    connection.ensure_connection()
    return connection.pg_version // 10000


def check_tool_fits(name: str, connection: BaseDatabaseWrapper) -> int:
    """The tool's major version, refusing a tool older than the server (pg_dump refuses to dump
    a newer server, and an older pg_restore may not know what the server speaks)."""
    tool, server = tool_major(name), server_major(connection)
    if tool < server:
        raise BackupError(
            f"{name} {tool} is older than the PostgreSQL {server} server: install "
            f"postgresql-client-{server} (or newer) and put its {name} first on PATH"
        )
    return tool


def pg_command(name: str, settings_dict: dict, *arguments: str) -> tuple[list[str], dict]:
    """A pg_dump / pg_restore command line for the database in settings_dict, and the
    environment it runs in: the password travels in PGPASSWORD, never on the command line."""
    # Django's dbshell does the same translation of settings (password, sslmode, service, …).
    _args, env = DatabaseClient.settings_to_cmd_args_env(settings_dict, [])
    args = [name]
    for option, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if settings_dict.get(key):
            args += [option, str(settings_dict[key])]
    if settings_dict.get("NAME"):
        args += ["--dbname", settings_dict["NAME"]]
    return [*args, *arguments], {**os.environ, **(env or {})}


def run_tool(args: list[str], env: dict) -> None:
    done = subprocess.run(args, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines()[-10:]
        raise BackupError(f"{args[0]} failed (exit {done.returncode}):\n" + "\n".join(lines))


# ---------------------------------------------------------------- files and checksums


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def copy_file(source: Path, target: Path) -> str:
    """Copy one file and return the SHA-256 of the bytes copied."""
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with source.open("rb") as reader, target.open("xb") as writer:
        while chunk := reader.read(CHUNK):
            digest.update(chunk)
            writer.write(chunk)
    shutil.copystat(source, target)
    return digest.hexdigest()


def files_under(folder: Path) -> list[Path]:
    """The regular files under folder (none if it does not exist), in a stable order."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def write_sums(folder: Path, sums: dict[str, str]) -> None:
    lines = [f"{digest}  {name}\n" for name, digest in sorted(sums.items())]
    (folder / SUMS).write_text("".join(lines), encoding="utf-8")


def read_sums(folder: Path) -> dict[str, str]:
    """The checksum list, refusing names that would lead outside the backup folder."""
    sums = {}
    for number, line in enumerate((folder / SUMS).read_text(encoding="utf-8").splitlines(), 1):
        digest, _sep, name = line.partition("  ")
        path = Path(name)
        if not re.fullmatch(r"[0-9a-f]{64}", digest) or path.is_absolute() or ".." in path.parts:
            raise BackupError(f"{SUMS} line {number} is not a checksum of a file in the backup")
        sums[name] = digest
    return sums


def mismatched(folder: Path, sums: dict[str, str]) -> list[str]:
    """The listed files that are missing under folder or whose bytes are not the listed ones."""
    return [
        name
        for name, digest in sums.items()
        if not (folder / name).is_file() or sha256_of(folder / name) != digest
    ]


def describe_files(names: list[str], limit: int = 10) -> str:
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


# ---------------------------------------------------------------- backup


def back_up(folder: Path, *, using: str = DEFAULT_DB_ALIAS) -> dict:
    """Write a backup of the database `using` and of MEDIA_ROOT to folder (new or empty);
    return its manifest."""
    connection = connections[using]
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise BackupError(f"{folder} is not an empty folder: back up into a new one")
    if connection.in_atomic_block:
        raise BackupError("a backup reads committed data: run it outside a transaction")
    engine = connection.vendor
    if engine not in DUMP_FILES:
        raise BackupError(f"cannot back up a {engine} database")
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)  # the dump holds password hashes
    dump = folder / DUMP_FILES[engine]
    if engine == "postgresql":
        details = _dump_postgresql(connection, dump)
    else:
        details = _copy_sqlite(connection, dump)
    sums = {dump.name: sha256_of(dump)}
    media_root = Path(settings.MEDIA_ROOT)
    for path in files_under(media_root):
        name = f"{MEDIA}/{path.relative_to(media_root).as_posix()}"
        sums[name] = copy_file(path, folder / name)
    write_sums(folder, sums)
    manifest = {
        "format": FORMAT,
        "created_at": timezone.now().isoformat(),
        "engine": engine,
        "database_file": dump.name,
        "app_version": app_version(),
        **details,
        "media_files": len(sums) - 1,
    }
    (folder / MANIFEST).write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return manifest


def _dump_postgresql(connection: BaseDatabaseWrapper, dump: Path) -> dict:
    """pg_dump and the row counts read one snapshot: the counts describe the dump exactly."""
    tool = check_tool_fits("pg_dump", connection)
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]
        counts = row_counts(cursor, connection.ops.quote_name, counted_models())
        migrations = applied_migrations(cursor)
        # The snapshot lives as long as this transaction: pg_dump runs inside it.
        args, env = pg_command(
            "pg_dump", connection.settings_dict, "-Fc", "--snapshot", snapshot, "--file", str(dump)
        )
        run_tool(args, env)
    return {
        "server_version": server_major(connection),
        "pg_dump_version": tool,
        "migrations": migrations,
        "row_counts": counts,
    }


def _copy_sqlite(connection: BaseDatabaseWrapper, dump: Path) -> dict:
    """SQLite's online backup copies a consistent state even while others write; the counts
    are read from the copy."""
    connection.ensure_connection()
    copy = sqlite3.connect(dump)
    try:
        connection.connection.backup(copy)
        cursor = copy.cursor()
        counts = row_counts(cursor, connection.ops.quote_name, counted_models())
        migrations = applied_migrations(cursor)
    finally:
        copy.close()
    return {"migrations": migrations, "row_counts": counts}


# ---------------------------------------------------------------- restore


def read_manifest(folder: Path) -> dict:
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError(f"{folder} holds no {MANIFEST}: it is not a finished backup") from None
    except ValueError:
        raise BackupError(f"{folder / MANIFEST} is not valid JSON") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(
            f"{folder} is a backup of format {manifest.get('format')!r}, not {FORMAT}"
        )
    return manifest


def restore(folder: Path, *, using: str = DEFAULT_DB_ALIAS) -> dict:
    """Restore the backup in folder into the empty database `using` and an empty MEDIA_ROOT,
    then prove it: every model has the rows the manifest counted and every file its checksum.
    Everything that can refuse is checked before anything is written. Returns the manifest."""
    connection = connections[using]
    media_root = Path(settings.MEDIA_ROOT)
    manifest = read_manifest(folder)
    if manifest["engine"] != connection.vendor:
        raise BackupError(
            f"the backup is of a {manifest['engine']} database, the target is {connection.vendor}"
        )
    _refuse_unknown_migrations(manifest)
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
    if tables:
        raise BackupError(
            f"the database {connection.settings_dict['NAME']} is not empty ({len(tables)} "
            "tables): restore into a new, empty database"
        )
    if files_under(media_root):
        raise BackupError(
            f"the media folder {media_root} is not empty: restore into a new, empty folder"
        )
    if manifest["engine"] == "postgresql":
        pg_restore = check_tool_fits("pg_restore", connection)
        if pg_restore < manifest["pg_dump_version"]:
            raise BackupError(
                f"the backup was written by pg_dump {manifest['pg_dump_version']}; "
                f"pg_restore {pg_restore} cannot read it: install a newer postgresql-client"
            )
    sums = read_sums(folder)
    dump = folder / manifest["database_file"]
    if dump.name not in sums:
        raise BackupError(f"{SUMS} does not list {dump.name}")
    if bad := mismatched(folder, sums):
        raise BackupError(f"these files do not match {SUMS}: {describe_files(bad)}")

    if manifest["engine"] == "postgresql":
        args, env = pg_command(
            "pg_restore",
            connection.settings_dict,
            "--no-owner",
            "--exit-on-error",
            "--single-transaction",  # a failed restore leaves the database empty
            str(dump),
        )
        run_tool(args, env)
    else:
        _restore_sqlite(connection, dump)
    for name in sums:
        if name.startswith(f"{MEDIA}/"):
            copy_file(folder / name, media_root / name.removeprefix(f"{MEDIA}/"))
    _prove(connection, manifest, media_root, sums)
    return manifest


def _refuse_unknown_migrations(manifest: dict) -> None:
    """A backup made by a newer version of the application needs that version's code."""
    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    unknown = sorted(
        f"{app}.{name}"
        for app, names in manifest["migrations"].items()
        for name in names
        if (app, name) not in known
    )
    if unknown:
        raise BackupError(
            f"the backup was made by version {manifest['app_version']}, whose migrations "
            f"{describe_files(unknown)} this code does not have: restore it with that version"
        )


def _restore_sqlite(connection: BaseDatabaseWrapper, dump: Path) -> None:
    if connection.is_in_memory_db():
        raise BackupError("the target SQLite database is in memory: restore into a file")
    connection.close()  # the file is written through a connection of its own
    source = sqlite3.connect(f"file:{dump}?mode=ro", uri=True)
    target = sqlite3.connect(connection.settings_dict["NAME"])
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()


def _prove(
    connection: BaseDatabaseWrapper, manifest: dict, media_root: Path, sums: dict[str, str]
) -> None:
    """Count the restored rows and hash the restored files against what the backup recorded."""
    expected = manifest["row_counts"]
    models = [m for m in counted_models() if m._meta.label in expected]
    with connection.cursor() as cursor:
        counts = row_counts(cursor, connection.ops.quote_name, models)
    # A model the backup counted that this code no longer has is not compared.
    wrong = [
        f"{label} ({counts.get(label)} rows, backed up {rows})"
        for label, rows in expected.items()
        if counts.get(label, rows) != rows
    ]
    if wrong:
        raise BackupError(f"the restored database differs from the backup: {describe_files(wrong)}")
    media = {
        name.removeprefix(f"{MEDIA}/"): digest
        for name, digest in sums.items()
        if name.startswith(f"{MEDIA}/")
    }
    if bad := mismatched(media_root, media):
        raise BackupError(f"restored media files differ from the backup: {describe_files(bad)}")


def unapplied_migrations(*, using: str = DEFAULT_DB_ALIAS) -> list[str]:
    """Migrations this code has and the (restored) database has not applied."""
    loader = MigrationLoader(connections[using], ignore_no_migrations=True)
    return sorted(
        f"{app}.{name}"
        for app, name in loader.disk_migrations
        if (app, name) not in loader.applied_migrations
    )
