"""The settings refuse unsafe production values, and production-like values pass check --deploy."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

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
    dropped = ("_COOKIE_SECURE", "DJANGO_ALLOW_ASYNC_UNSAFE")
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
