"""Where the time of one indicator save goes: python bench/profile_save.py [SAVES]

Run with DATABASE_URL pointing at a `bench/prepare.py country` database (make bench leaves
<name>_bench_10k). Logs in through the login page, then posts the same form the load test posts
through the whole middleware stack with CSRF checks on, under cProfile; posts the minimal
durable save as many times; prints the milliseconds per save in Python and in the database, the
queries of one save, and the functions that take the most time. In-process: no HTTP server,
no load generator, so what it shows is the application's own cost.
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
for name, value in {
    "DEBUG": "0",
    "SECRET_KEY": "bench-only",
    "ALLOWED_HOSTS": "localhost,127.0.0.1,testserver",
    "SECURE_SSL_REDIRECT": "0",
    "SESSION_COOKIE_SECURE": "0",
    "CSRF_COOKIE_SECURE": "0",
    "LOG_LEVEL": "WARNING",
    "CONN_MAX_AGE": "60",
}.items():
    os.environ.setdefault(name, value)

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

settings.ROOT_URLCONF = "bench.urls"

from bench.prepare import PASSWORD, load_targets  # noqa: E402

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class DatabaseTime:
    """Wall time spent inside the database driver, per query."""

    def __init__(self):
        self.seconds, self.count, self.queries = 0.0, 0, []

    def __call__(self, execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            elapsed = time.perf_counter() - start
            self.seconds += elapsed
            self.count += 1
            self.queries.append((elapsed, sql))


def server_process() -> int | None:
    """The process id of the database backend serving this connection (PostgreSQL)."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def cpu_seconds(pid: int | None) -> float:
    """CPU time a local process has used (user + system); 0 if it cannot be read."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, TypeError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def logged_in() -> Client:
    client = Client(enforce_csrf_checks=True, HTTP_HOST="localhost")
    page = client.get("/dang-nhap/").content.decode()
    token = TOKEN.search(page).group(1)
    response = client.post(
        "/dang-nhap/",
        {"username": "bench-root", "password": PASSWORD, "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302, response.status_code
    return client


def main(saves: int) -> None:
    targets = load_targets()
    client = logged_in()
    pk, version = targets["drafts"][0]
    indicator = targets["indicator"]
    prefix = f"i{indicator}"
    state = {"version": version, "n": 0}

    def real():
        state["n"] += 1
        body = {f"{prefix}-version": state["version"], f"{prefix}-note": f"Lần lưu {state['n']}"}
        body.update({f"{prefix}-c_{k}": "yes" for k in range(1, 7)})
        body["csrfmiddlewaretoken"] = client.cookies["csrftoken"].value
        response = client.post(f"/danh-gia/{pk}/chi-tieu/{indicator}/", body)
        assert response.status_code == 302, response.status_code
        state["version"] += 1
        # as the load test: the page a browser is sent to shows the message and empties the
        # cookie; a client that never loads it would re-encode a growing pile at every save
        client.cookies.pop("messages", None)

    def durable():
        state["n"] += 1
        body = {"note": f"Lần lưu {state['n']}"}
        body["csrfmiddlewaretoken"] = client.cookies["csrftoken"].value
        response = client.post(f"/bench/save/{pk}/{indicator}/", body)
        assert response.status_code == 302, response.status_code

    from assessments.models import Assessment

    state["version"] = Assessment.objects.get(pk=pk).version
    for name, post in (("real form save", real), ("minimal durable save", durable)):
        for _ in range(20):  # warm: caches, connections, first-save inserts
            post()
        one = DatabaseTime()  # (request_started empties connection.queries: not usable here)
        with connection.execute_wrapper(one):
            post()
        database = DatabaseTime()
        profile = cProfile.Profile(time.process_time)  # CPU time: other processes do not count
        with connection.execute_wrapper(database):
            start = time.perf_counter()
            profile.enable()
            for _ in range(saves):
                post()
            profile.disable()
            total = time.perf_counter() - start
        # Profiling slows Python down; time the same loop again without it, in CPU time of this
        # process and of the PostgreSQL backend serving it (same machine): the machine is shared,
        # so wall time says more about the others than about the save.
        backend = server_process()
        start, cpu, server_cpu = time.perf_counter(), time.process_time(), cpu_seconds(backend)
        for _ in range(saves):
            post()
        plain = time.perf_counter() - start
        cpu = time.process_time() - cpu
        server_cpu = cpu_seconds(backend) - server_cpu
        print(f"\n=== {name}: {saves} saves")
        print(
            f"per save: {cpu / saves * 1000:.2f} ms CPU in Python, "
            f"{server_cpu / saves * 1000:.2f} ms CPU in the database server, "
            f"{plain / saves * 1000:.2f} ms wall time; profiled: "
            f"{total / saves * 1000:.2f} ms wall time, of which "
            f"{database.seconds / saves * 1000:.2f} ms waiting for "
            f"{database.count / saves:.0f} queries"
        )
        print(f"queries of one save ({one.count}, {one.seconds * 1000:.2f} ms):")
        for elapsed, sql in one.queries:
            print(f"  {elapsed * 1000:6.2f} ms  {sql[:150]}")
        out = io.StringIO()
        stats = pstats.Stats(profile, stream=out).strip_dirs()
        stats.sort_stats("cumulative").print_stats(45)
        stats.sort_stats("tottime").print_stats(25)
        print(out.getvalue())


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
