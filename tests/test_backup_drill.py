"""The backup drill: back up a seeded province, restore it into a fresh database and media
folder, and prove that nothing was lost — on whichever engine the suite runs (SQLite, or
PostgreSQL when DATABASE_URL says so).

The restore and the checks of the restored data run in child processes (`manage.py restore`,
then a small script with Django's test client), each configured by DATABASE_URL and MEDIA_ROOT
exactly as an operator's shell would be. That is the command as documented, against a database
that pytest-django knows nothing about: no second DATABASES alias to add to a connection
handler that has already been set up, no test-database renaming, no transaction wrapping.
Backups read committed data (pg_dump runs in its own session), so these tests commit theirs.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from django.apps import apps
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.urls import reverse

from assessments import services
from assessments.backups import pg_command
from assessments.models import Assessment, State, User
from tests.conftest import PASSWORD, indicator

PDF = b"%PDF-1.4\n% bien ban kiem tra diem buu dien van hoa xa\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def rows_per_model() -> dict[str, int]:
    """Rows of every installed model, many-to-many tables included."""
    return {
        model._meta.label: model._base_manager.count()
        for model in apps.get_models(include_auto_created=True)
        if model._meta.managed and not model._meta.proxy
    }


def manage(*args: str, database_url: str, media_root: Path) -> subprocess.CompletedProcess:
    """Run manage.py in a child process on another database and media folder."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=child_environment(database_url, media_root),
        capture_output=True,
        text=True,
        timeout=300,
    )


def child_environment(database_url: str, media_root: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database_url,
        "MEDIA_ROOT": str(media_root),
        "DEBUG": "0",
        "SECRET_KEY": "backup-drill",
        "ALLOWED_HOSTS": "testserver",
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
    }


@pytest.fixture
def restore_target(transactional_db, tmp_path):
    """DATABASE_URL of a new, empty database beside the test database: a new SQLite file, or
    `<test database>_restore` on the same PostgreSQL server, dropped afterwards."""
    if connection.vendor == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    source = connection.settings_dict
    name = f"{source['NAME']}_restore"
    quoted = connection.ops.quote_name(name)
    with connection.cursor() as cursor:  # autocommit: CREATE DATABASE refuses a transaction
        cursor.execute(f"DROP DATABASE IF EXISTS {quoted}")
        cursor.execute(f"CREATE DATABASE {quoted} TEMPLATE template0")
    user = quote(source["USER"] or "", safe="")
    if source["PASSWORD"]:
        user += ":" + quote(source["PASSWORD"], safe="")
    port = f":{source['PORT']}" if source["PORT"] else ""
    try:
        yield f"postgres://{user}@{source['HOST']}{port}/{name}"
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {quoted}")


# Run in the restored environment: counts rows through the ORM, hashes every evidence file
# through its storage, then logs in with a password and opens the province dashboard and an
# evidence download. Prints what it saw as JSON.
CHECK_RESTORED = """
import hashlib, json, sys

import django

django.setup()

from django.apps import apps
from django.test import Client
from django.test.utils import override_settings, setup_test_environment
from django.urls import reverse

from assessments.models import Evidence

given = json.loads(sys.argv[1])
setup_test_environment()  # the test client's host is allowed, templates' contexts are kept
seen = {"rows": {}, "files": {}}
for model in apps.get_models(include_auto_created=True):
    if model._meta.managed and not model._meta.proxy:
        seen["rows"][model._meta.label] = model._base_manager.count()
for evidence in Evidence.objects.exclude(file=""):
    with evidence.file.open("rb") as file:
        seen["files"][str(evidence.pk)] = hashlib.sha256(file.read()).hexdigest()

with override_settings(PASSWORD_HASHERS=given["hashers"], STORAGES=given["storages"]):
    client = Client()
    login = client.post(
        reverse("login"), {"username": given["username"], "password": given["password"]}
    )
    seen["login"] = [login.status_code, login.get("Location")]
    dashboard = client.get(reverse("reports:province"))
    seen["dashboard"] = dashboard.status_code
    total = dashboard.context["report"].total
    seen["totals"] = [total.in_scope, total.approved, total.criterion_met]
    download = client.get(reverse("assessments:evidence_download", args=[given["evidence"]]))
    seen["download"] = hashlib.sha256(b"".join(download.streaming_content)).hexdigest()
print(json.dumps(seen))
"""


def check_restored(database_url: str, media_root: Path, **given) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", CHECK_RESTORED, json.dumps(given)],
        cwd=settings.BASE_DIR,
        env=child_environment(database_url, media_root),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def upload_evidence(user: User, assessment: Assessment, name: str, data: bytes, kind: str):
    return services.add_evidence(
        user=user,
        assessment=assessment,
        indicator=indicator(assessment.criteria_set, "8.1"),
        upload=SimpleUploadedFile(name, data),
        content_type=kind,
        doc_number="12/BC-UBND",
    )


@pytest.fixture
def seeded(lang_son, settings, tmp_path):
    """The demo province (three periods, thousands of rows) plus two evidence files."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.DEBUG = True
    call_command("apply_reorganisation", verbosity=0)
    call_command("seed_demo", verbosity=0)
    settings.DEBUG = False
    drafts = (
        Assessment.objects.filter(state=State.DRAFT, period__year=2025)
        .exclude(created_by__district=None)
        .select_related("criteria_set", "created_by")
        .order_by("pk")
    )
    first, second = drafts[0], drafts[1]
    evidence = [
        upload_evidence(first.created_by, first, "bien-ban.pdf", PDF, "application/pdf"),
        upload_evidence(second.created_by, second, "anh-diem-buu-dien.png", PNG, "image/png"),
    ]
    reviewer = User.objects.get(username="tinh-thamdinh")
    reviewer.set_password(PASSWORD)
    reviewer.save()
    return {"evidence": evidence, "reviewer": reviewer}


@pytest.mark.django_db(transaction=True)
def test_a_backup_restores_into_a_fresh_database_with_every_row_and_every_file(
    seeded, restore_target, client, settings, tmp_path
):
    evidence = seeded["evidence"]
    client.force_login(seeded["reviewer"])
    total = client.get(reverse("reports:province")).context["report"].total
    rows = rows_per_model()  # after the login above, which wrote a session and a login record
    backup = tmp_path / "backup"

    call_command("backup", str(backup), verbosity=0)

    manifest = json.loads((backup / "manifest.json").read_text())
    assert manifest["engine"] == connection.vendor
    assert manifest["row_counts"] == rows
    applied = MigrationRecorder(connection).applied_migrations()
    assert sum(map(len, manifest["migrations"].values())) == len(applied)
    assert manifest["media_files"] == 2
    sums = dict(
        reversed(line.split("  ")) for line in (backup / "SHA256SUMS").read_text().splitlines()
    )
    assert sums[f"media/{evidence[0].file.name}"] == sha256(PDF)
    assert sums[f"media/{evidence[1].file.name}"] == sha256(PNG)

    restored_media = tmp_path / "restored-media"
    done = manage("restore", str(backup), database_url=restore_target, media_root=restored_media)
    assert done.returncode == 0, done.stderr
    assert "all counts and checksums match" in done.stdout

    seen = check_restored(
        restore_target,
        restored_media,
        username="tinh-thamdinh",
        password=PASSWORD,
        hashers=settings.PASSWORD_HASHERS,
        storages=settings.STORAGES,
        evidence=evidence[0].pk,
    )
    assert seen["rows"] == rows
    assert seen["files"] == {str(evidence[0].pk): sha256(PDF), str(evidence[1].pk): sha256(PNG)}
    assert seen["login"] == [302, reverse("home")]
    assert seen["dashboard"] == 200
    assert seen["totals"] == [total.in_scope, total.approved, total.criterion_met]
    assert total.in_scope > 0
    assert seen["download"] == sha256(PDF)


@pytest.fixture
def small_backup(assessment, district_officer, settings, tmp_path) -> Path:
    """A backup of one assessment with one evidence file."""
    settings.MEDIA_ROOT = tmp_path / "media"
    upload_evidence(district_officer, assessment, "bien-ban.pdf", PDF, "application/pdf")
    call_command("backup", str(tmp_path / "backup"), verbosity=0)
    return tmp_path / "backup"


@pytest.mark.django_db(transaction=True)
def test_restore_refuses_a_database_that_is_not_empty_and_touches_nothing(
    small_backup, settings, tmp_path
):
    rows = rows_per_model()
    settings.MEDIA_ROOT = tmp_path / "empty-media"

    with pytest.raises(CommandError, match="is not empty"):
        call_command("restore", str(small_backup))

    assert rows_per_model() == rows
    assert not settings.MEDIA_ROOT.exists()


@pytest.mark.django_db(transaction=True)
def test_restore_refuses_a_media_folder_that_is_not_empty_and_exits_non_zero(
    small_backup, restore_target, tmp_path
):
    media = tmp_path / "restored-media"
    media.mkdir()
    (media / "left-behind.txt").write_text("an earlier restore")

    refused = manage("restore", str(small_backup), database_url=restore_target, media_root=media)

    assert refused.returncode == 1
    assert "media folder" in refused.stderr and "is not empty" in refused.stderr
    assert [p.name for p in media.iterdir()] == ["left-behind.txt"]
    # The database was not touched either: once the folder is empty the same restore succeeds.
    (media / "left-behind.txt").unlink()
    done = manage("restore", str(small_backup), database_url=restore_target, media_root=media)
    assert done.returncode == 0, done.stderr


@pytest.mark.django_db(transaction=True)
def test_restore_refuses_a_backup_whose_files_do_not_match_their_checksums(
    small_backup, restore_target, tmp_path
):
    evidence_file = next(p for p in (small_backup / "media").rglob("*") if p.is_file())
    intact = evidence_file.read_bytes()
    evidence_file.write_bytes(intact + b"damaged")
    media = tmp_path / "restored-media"

    refused = manage("restore", str(small_backup), database_url=restore_target, media_root=media)

    assert refused.returncode == 1
    assert "do not match SHA256SUMS" in refused.stderr
    assert evidence_file.name in refused.stderr
    assert not media.exists()
    evidence_file.write_bytes(intact)
    done = manage("restore", str(small_backup), database_url=restore_target, media_root=media)
    assert done.returncode == 0, done.stderr


def test_backup_refuses_a_folder_that_is_not_empty(db, tmp_path):
    (tmp_path / "yesterday.dump").write_bytes(b"an earlier backup")

    with pytest.raises(CommandError, match="not an empty folder"):
        call_command("backup", str(tmp_path))

    assert [p.name for p in tmp_path.iterdir()] == ["yesterday.dump"]


def test_the_postgresql_password_travels_in_the_environment_never_on_the_command_line():
    database = {
        "NAME": "ntm_ict",
        "USER": "ntm",
        "PASSWORD": "s3cret-pw",
        "HOST": "127.0.0.1",
        "PORT": "5432",
        "OPTIONS": {"sslmode": "require"},
    }

    args, env = pg_command("pg_restore", database, "--no-owner", "backup/database.dump")

    assert not any("s3cret-pw" in arg for arg in args)
    assert env["PGPASSWORD"] == "s3cret-pw" and env["PGSSLMODE"] == "require"
    assert args == [
        "pg_restore",
        "--host",
        "127.0.0.1",
        "--port",
        "5432",
        "--username",
        "ntm",
        "--dbname",
        "ntm_ict",
        "--no-owner",
        "backup/database.dump",
    ]
