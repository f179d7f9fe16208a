"""CACHE_URL: one memory cache per process by default, or a Redis cache that several application
servers share, so that a dashboard built on one server is a cache hit on the others.

The Redis tests use TEST_REDIS_URL (default redis://127.0.0.1:6379/15) under a key prefix of their
own, and delete only their own keys; without Redis they are skipped, saying why.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from config.settings import cache_from_url
from tests.conftest import make_commune, make_district

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def test_cache_url_forms():
    assert cache_from_url(None)["default"]["BACKEND"].endswith("LocMemCache")
    assert cache_from_url("")["default"]["BACKEND"].endswith("LocMemCache")
    shared = cache_from_url("redis://127.0.0.1:6379/1", "release-42")["default"]
    assert shared == {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/1",
        "KEY_PREFIX": "release-42",
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
    assert cache_from_url("rediss://cache.internal:6380/0")["default"]["BACKEND"].endswith(
        "RedisCache"
    )
    with pytest.raises(ImproperlyConfigured, match="CACHE_URL must start with redis://"):
        cache_from_url("memcached://127.0.0.1:11211")


@pytest.fixture
def redis_prefix():
    """A key prefix of this test's own on the test Redis; its keys are deleted afterwards."""
    try:
        import redis
    except ImportError:
        pytest.skip("the redis package is not installed: shared-cache tests skipped")
    server = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1, socket_timeout=2)
    try:
        server.ping()
    except redis.RedisError as error:
        pytest.skip(f"Redis does not answer at {REDIS_URL} ({error}): shared-cache tests skipped")
    prefix = f"ntm-ict-test-{uuid.uuid4().hex}"
    yield prefix
    for key in server.scan_iter(match=f"{prefix}:*"):
        server.delete(key)
    server.close()


def report_keys(prefix: str) -> list[bytes]:
    import redis

    server = redis.Redis.from_url(REDIS_URL)
    try:
        return list(server.scan_iter(match=f"{prefix}:*report:*"))
    finally:
        server.close()


def load_dashboard(client, period) -> tuple[str, list[str]]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("reports:province"), {"period": period.pk})
    assert response.status_code == 200
    return response.content.decode(), [query["sql"] for query in ctx.captured_queries]


@pytest.mark.django_db
def test_a_dashboard_built_on_one_server_is_a_cache_hit_on_the_other(
    client, django_user_model, settings, redis_prefix, user, period, assessment
):
    # Server A: its own cache client (connection pool) on the shared Redis builds the dashboard.
    settings.CACHES = cache_from_url(REDIS_URL, redis_prefix)
    client.force_login(user)
    built, queries_on_a = load_dashboard(client, period)
    assert len(report_keys(redis_prefix)) == 1
    assert any("indicatorresult" in sql for sql in queries_on_a)  # it computed the roll-up

    # Server B: a new cache client (settings changed: Django drops its cache connections) and
    # another browser session of the same reviewer.
    settings.CACHES = cache_from_url(REDIS_URL, redis_prefix)
    from django.test import Client

    other_server = Client()
    other_server.force_login(django_user_model.objects.get(pk=user.pk))
    served, queries_on_b = load_dashboard(other_server, period)

    assert not any("indicatorresult" in sql for sql in queries_on_b)  # the roll-up was reused
    assert len(queries_on_b) < len(queries_on_a)
    assert len(report_keys(redis_prefix)) == 1  # nothing new was stored
    assert "Xã" in served and served.count("<tr") == built.count("<tr")


@pytest.mark.django_db
def test_a_write_on_one_server_shows_on_the_other(
    client, settings, redis_prefix, user, period, assessment
):
    settings.CACHES = cache_from_url(REDIS_URL, redis_prefix)
    client.force_login(user)
    before, _ = load_dashboard(client, period)

    district = make_district(user.province, "999", "Huyện Mới Lập")
    make_commune(district, "Xã Mới Lập")  # on server A: a write moves the stamp every server reads
    settings.CACHES = cache_from_url(REDIS_URL, redis_prefix)  # server B
    after, _ = load_dashboard(client, period)

    assert "Huyện Mới Lập" not in before
    assert "Huyện Mới Lập" in after
    assert len(report_keys(redis_prefix)) == 2  # a new entry under the new stamp, not a stale hit


def test_another_process_reads_what_this_one_cached_through_cache_url(settings, redis_prefix):
    settings.CACHES = cache_from_url(REDIS_URL, redis_prefix)
    from django.core.cache import cache

    cache.set("report:shared-probe", "built by the first server", timeout=60)
    program = (
        "import django; django.setup(); from django.core.cache import cache; "
        "print(cache.get('report:shared-probe'))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "CACHE_URL": REDIS_URL,
        "CACHE_KEY_PREFIX": redis_prefix,
    }
    result = subprocess.run(
        [sys.executable, "-c", program],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "built by the first server"


def test_login_throttling_is_kept_in_the_database_that_every_server_shares():
    """Several servers count a password guesser's failures together only if axes keeps them in
    the database (its default handler), not in a cache of one process."""
    from axes.conf import settings as axes_settings

    assert axes_settings.AXES_HANDLER == "axes.handlers.database.AxesDatabaseHandler"


def closed_port() -> int:
    """A local port nothing listens on: a Redis that has stopped."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.django_db
def test_a_dashboard_is_built_and_served_when_the_shared_cache_is_down(
    client, settings, user, period, assessment, caplog
):
    settings.CACHES = cache_from_url(f"redis://127.0.0.1:{closed_port()}/0", "down")

    client.force_login(user)
    with caplog.at_level("WARNING", logger="reports.views"):
        page, queries = load_dashboard(client, period)  # asserts 200
        again, queries_again = load_dashboard(client, period)

    assert "Xã" in page and again.count("<tr") == page.count("<tr")
    assert any("indicatorresult" in sql for sql in queries)  # built, not read from a cache
    assert any("indicatorresult" in sql for sql in queries_again)  # still built: nothing kept
    assert "cache" in caplog.text.lower()  # the operator is told the cache does not answer
