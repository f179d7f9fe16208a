"""The settings refuse unsafe production values, and production-like values pass check --deploy."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.db.utils import ConnectionHandler

from config.settings import database_from_url

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "a-long-random-production-secret-0123456789-abcdefghijklmnopqrstuvwxyz",
    "ALLOWED_HOSTS": "ntm.langson.gov.vn",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v for k, v in os.environ.items() if k not in PRODUCTION and not k.startswith("SECURE_")
    }
    # the browser tests' conftest allows async-unsafe ORM calls in this process only
    dropped = ("_COOKIE_SECURE", "DJANGO_ALLOW_ASYNC_UNSAFE", "BEHIND_HTTPS_PROXY")
    clean = {k: v for k, v in clean.items() if not k.endswith(dropped)}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS"])
def test_app_refuses_to_start_without_debug_and_a_required_setting(missing):
    env = {k: v for k, v in PRODUCTION.items() if k != missing}

    result = manage("check", **env)

    assert result.returncode != 0
    assert f"{missing} must be set when DEBUG is off" in result.stderr


def test_malformed_debug_value_is_refused():
    result = manage("check", **{**PRODUCTION, "DEBUG": "maybe"})

    assert result.returncode != 0
    assert "DEBUG must be one of" in result.stderr


@pytest.mark.parametrize("name", ["LOGIN_FAILURE_LIMIT", "LOGIN_COOLOFF_MINUTES"])
@pytest.mark.parametrize("value", ["0", "-5"])
def test_login_throttling_that_would_lock_forever_or_never_is_refused(name, value):
    """axes reads a cool-off of 0 as "locked until an administrator unlocks", and a limit of 0
    as "locked at the first wrong password": neither is what the variable promises."""
    result = manage("check", **{**PRODUCTION, name: value})

    assert result.returncode != 0
    assert f"{name} must be at least 1; got {value}" in result.stderr


def test_production_settings_pass_check_deploy_without_warnings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_database_url_forms():
    assert database_from_url(None)["ENGINE"] == "django.db.backends.sqlite3"
    assert database_from_url("sqlite:////srv/ntm/db.sqlite3")["NAME"] == "/srv/ntm/db.sqlite3"
    pg = database_from_url("postgres://app:s%40cret@db.local:5433/ntm")
    assert (pg["ENGINE"], pg["USER"], pg["PASSWORD"], pg["HOST"], pg["PORT"], pg["NAME"]) == (
        "django.db.backends.postgresql",
        "app",
        "s@cret",
        "db.local",
        "5433",
        "ntm",
    )
    with pytest.raises(Exception, match="DATABASE_URL"):
        database_from_url("mysql://x/y")


def test_sqlite_writers_wait_for_each_other_instead_of_failing(tmp_path, django_db_blocker):
    """Two transactions that read then write. With SQLite's default (DEFERRED) transactions the
    second one's write fails at once with "database is locked" while the first is committing;
    IMMEDIATE transactions queue at BEGIN instead, and both rows are saved."""
    databases = ConnectionHandler({"default": database_from_url(f"sqlite:///{tmp_path}/x.db")})
    first_wrote, second_read = threading.Event(), threading.Event()
    errors: list[Exception] = []

    def save(writer: str) -> None:
        connection = databases["default"]  # each thread has its own connection
        # What transaction.atomic() does, on this connection rather than the test database's.
        connection.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT COUNT(*) FROM saves")
                if writer == "second":
                    second_read.set()
                    time.sleep(0.3)  # the first writer is committing by now
                cursor.execute("INSERT INTO saves VALUES (%s)", [writer])
                if writer == "first":
                    first_wrote.set()
                    second_read.wait(timeout=1)
            connection.commit()
        except Exception as error:
            connection.rollback()
            errors.append(error)
        finally:
            connection.set_autocommit(True)
            connection.close()

    with django_db_blocker.unblock():  # a database of its own, not the test database
        with databases["default"].cursor() as cursor:
            cursor.execute("CREATE TABLE saves (writer TEXT)")
        first = threading.Thread(target=save, args=["first"])
        first.start()
        first_wrote.wait(timeout=5)
        save("second")
        first.join()
        with databases["default"].cursor() as cursor:
            cursor.execute("SELECT writer FROM saves ORDER BY writer")
            saved = cursor.fetchall()
        databases.close_all()

    assert errors == []
    assert saved == [("first",), ("second",)]


@pytest.mark.parametrize(("behind_https_proxy", "trusted"), [(None, False), ("1", True)])
def test_x_forwarded_proto_is_trusted_only_when_the_deployment_says_so(behind_https_proxy, trusted):
    env = {**PRODUCTION}
    if behind_https_proxy:
        env["BEHIND_HTTPS_PROXY"] = behind_https_proxy
    code = (
        "from django.test import RequestFactory; "
        "print(RequestFactory().get('/', headers={'x-forwarded-proto': 'https'}).is_secure())"
    )

    result = manage("shell", "-c", code, **env)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == str(trusted)
