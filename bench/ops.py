"""The operations measures (issue 13), run by bench/run.py against gunicorn on 127.0.0.1 only.

- Logins: real POSTs to the login page, one after another, p50 and p99; with the project's
  hashers (Argon2 first) and, as the baseline, with PBKDF2 first (bench/wsgi.py reads
  BENCH_PASSWORD_HASHERS), as logins were before.
- Several servers: the province dashboard under load on one gunicorn server with its own memory
  cache (the default), and on two gunicorn servers that share a Redis cache (CACHE_URL), the
  same clients split between them. This machine has two cores: the one server has two workers,
  the two servers one each, so that both use the same cores and the difference is the shared
  cache and the split. Before the load, a dashboard built on server A is shown to be a cache hit
  on server B, in a session opened on server A.

Every server is started on a free port, and stopped, by this module; Redis keys are written
under a prefix of this run's own and deleted afterwards.
"""

from __future__ import annotations

import os
import pickle
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench import load

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
USERNAME = "bench-root"
LOGINS = 40  # with Argon2
PBKDF2_LOGINS = 5  # about 2 s each
PBKDF2_FIRST = (
    "django.contrib.auth.hashers.PBKDF2PasswordHasher,"
    "assessments.passwords.TunedArgon2PasswordHasher"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/1")
CLIENTS = 4  # dashboard readers: all on the one server, or two on each of the two
ROUNDS = int(os.environ.get("BENCH_LOAD_ROUNDS", "3"))  # one server, two servers, interleaved
WARM_UP = 5  # requests per client before the clock starts (each worker builds its cache)
SENTINEL = "<!-- bench: this body was built and cached by server A -->"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(env: dict, workers: int = 2) -> Iterator[int]:
    """A gunicorn server of the bench application on a free port; yields the port."""
    port = free_port()
    server = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "bench.wsgi:application",
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=ROOT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"gunicorn on port {port} exited with {server.returncode}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn on port {port} did not start")
            time.sleep(0.2)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)


def percentiles(latencies: list[float]) -> dict:
    ordered = sorted(latencies)
    n = len(ordered)
    return {
        "n": n,
        "p50_ms": statistics.median(ordered) * 1000,
        "p99_ms": ordered[max(0, -(-n * 99 // 100) - 1)] * 1000,  # nearest rank
    }


# ---------------------------------------------------------------- logins


def timed_logins(port: int, password: str, count: int) -> list[float]:
    """`count` logins one after another, each in a new browser: the login page is fetched (its
    CSRF token), then the POST is timed, up to the redirect that ends it."""
    times = []
    for _ in range(count):
        browser = load.Browser(port)
        _status, page = browser.request("GET", "/dang-nhap/")
        token = load.TOKEN.search(page).group(1).decode()
        body = {"username": USERNAME, "password": password, "csrfmiddlewaretoken": token}
        start = time.perf_counter()
        status, _ = browser.request("POST", "/dang-nhap/", body)
        times.append(time.perf_counter() - start)
        browser.connection.close()
        if status != 302:
            raise RuntimeError(f"login failed: {status}")
    return times


def warm(port: int, path: str = "/dang-nhap/", requests: int = 10) -> None:
    browser = load.Browser(port)
    for _ in range(requests):
        browser.request("GET", path)
    browser.connection.close()


def logins(env: dict, password: str) -> dict:
    """Login latency with PBKDF2 first (before) and with the project's hashers (after)."""
    with gunicorn({**env, "BENCH_PASSWORD_HASHERS": PBKDF2_FIRST}) as port:
        warm(port)
        timed_logins(port, password, 1)  # the account's hash is rewritten with PBKDF2
        before = timed_logins(port, password, PBKDF2_LOGINS)
    with gunicorn(env) as port:
        warm(port)
        upgrade = timed_logins(port, password, 1)  # ... and back to Argon2, as after a deploy
        timed_logins(port, password, 3)
        after = timed_logins(port, password, LOGINS)
    return {
        "pbkdf2": percentiles(before),
        "argon2": percentiles(after),
        "upgrading_login_ms": upgrade[0] * 1000,
    }


# ---------------------------------------------------------------- several servers


def browse(ports: list[int], password: str, path: str, seconds: float) -> list[float]:
    """One client per entry of `ports`, each logged in on its server, GETting `path` until the
    time is up; the clock starts when every client has logged in and warmed up."""
    client = {
        "username": USERNAME,
        "password": password,
        "warm_up": [path] * WARM_UP,
        "next_post": lambda _browser: (path, None, 200),
    }
    return load.run(ports[0], [{**client, "port": port} for port in ports], seconds)


def built_on_a_hit_on_b(redis, prefix: str, a: int, b: int, password: str, path: str) -> dict:
    """Server A builds the dashboard; its cache entry is marked in Redis; server B, asked by the
    same browser (a session opened on A), serves the marked body: a hit on what A built."""
    on_a = load.Browser(a)
    on_a.log_in(USERNAME, password)
    start = time.perf_counter()
    status_a, _ = on_a.request("GET", path)
    built_ms = (time.perf_counter() - start) * 1000
    keys = list(redis.scan_iter(match=f"{prefix}:*report:*"))
    if status_a != 200 or len(keys) != 1:
        raise RuntimeError(f"server A: {status_a}, {len(keys)} report keys in Redis")
    original = redis.get(keys[0])
    body = pickle.loads(original)  # noqa: S301 - our own entry, in our own Redis
    redis.set(keys[0], pickle.dumps(type(body)(body + SENTINEL)), keepttl=True)

    on_b = load.Browser(b)
    on_b.cookies = dict(on_a.cookies)
    start = time.perf_counter()
    status_b, page = on_b.request("GET", path)
    served_ms = (time.perf_counter() - start) * 1000
    redis.set(keys[0], original, keepttl=True)
    return {
        "built_on_a_ms": built_ms,
        "served_by_b_ms": served_ms,
        "session_from_a_valid_on_b": status_b == 200,
        "hit_on_b": status_b == 200 and SENTINEL.encode() in page,
        "report_keys": len(list(redis.scan_iter(match=f"{prefix}:*report:*"))),
    }


def two_servers(env: dict, password: str, path: str, seconds: float) -> dict:
    """The province dashboard under load: one server (2 workers) with its memory cache, and two
    servers (1 worker each: the same two cores, split) sharing Redis, in ROUNDS interleaved
    rounds (a busy moment of the machine moves one round; each figure is the median round).
    Skipped, with the reason, when Redis does not answer at BENCH_REDIS_URL."""
    try:
        import redis as redis_client

        redis = redis_client.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
        redis.ping()
    except Exception as error:  # the package missing, or Redis not answering
        return {"skipped": f"Redis does not answer at {REDIS_URL}: {error}"}
    prefix = f"ntm-ict-bench-{uuid.uuid4().hex[:12]}"
    shared = {**env, "CACHE_URL": REDIS_URL, "CACHE_KEY_PREFIX": prefix}
    rounds: dict[str, list[dict]] = {"single": [], "two": []}
    try:
        with (
            gunicorn(env, workers=2) as single,
            gunicorn(shared, workers=1) as a,
            gunicorn(shared, workers=1) as b,
        ):
            warm(single), warm(a), warm(b)
            proof = built_on_a_hit_on_b(redis, prefix, a, b, password, path)
            for _ in range(ROUNDS):
                latencies = browse([single] * CLIENTS, password, path, seconds)
                rounds["single"].append(percentiles(latencies))
                latencies = browse([a, b] * (CLIENTS // 2), password, path, seconds)
                rounds["two"].append(percentiles(latencies))
    finally:
        for key in redis.scan_iter(match=f"{prefix}:*"):
            redis.delete(key)
        redis.close()

    def median_round(figures: list[dict]) -> dict:
        return {
            key: statistics.median(f[key] for f in figures) for key in ("n", "p50_ms", "p99_ms")
        } | {"rounds": figures}

    return {
        "redis": REDIS_URL,
        "clients": CLIENTS,
        "single": median_round(rounds["single"]),
        "two": median_round(rounds["two"]),
        "proof": proof,
    }
