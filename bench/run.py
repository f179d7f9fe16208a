"""`make bench`: the benchmark of issue 6, each measure beside its baseline, in one run.

Uses PostgreSQL when DATABASE_URL is set (databases <name>_bench_1k, _bench_10k and
_bench_import are created beside it), else SQLite files under var/. Prints a table and writes
bench/results.json. The load test runs gunicorn on 127.0.0.1 and stops by itself.
"""

from __future__ import annotations

import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

from bench import load, ops  # noqa: E402

SIZES = {"1k": 1_000, "10k": 10_000}
IMPORT_ROWS = 10_000
LOAD_SECONDS = float(os.environ.get("BENCH_LOAD_SECONDS", "10"))
PORT = int(os.environ.get("BENCH_PORT", "0"))  # 0: a free port, so a runserver never answers


def free_port() -> int:
    if PORT:
        return PORT
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url(suffix: str) -> str:
    base = os.environ.get("DATABASE_URL", "")
    if base.startswith("postgres"):
        parts = urlsplit(base)
        name = f"{parts.path.lstrip('/') or 'ntm_ict'}_bench_{suffix}"
        _createdb(parts, name)
        return urlunsplit(parts._replace(path=f"/{name}"))
    (ROOT / "var").mkdir(exist_ok=True)
    return f"sqlite:///{ROOT / 'var' / f'bench-{suffix}.sqlite3'}"


def _createdb(parts, name: str) -> None:
    import psycopg2

    connection = psycopg2.connect(
        host=parts.hostname,
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password or None,
        dbname="postgres",
    )
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()


def env_for(url: str) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "DEBUG": "0",
        "SECRET_KEY": "bench-only",
        "ALLOWED_HOSTS": "localhost,127.0.0.1,testserver",
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "SECURE_HSTS_SECONDS": "0",
        "BEHIND_HTTPS_PROXY": "0",
        "CONN_MAX_AGE": "60",
        "LOG_LEVEL": "WARNING",
    }


def python(script: str, *args: str, env: dict) -> dict:
    out = subprocess.run(
        [sys.executable, str(ROOT / script), *args],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def wait_for_port(port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not start")


LOAD_ROUNDS = int(os.environ.get("BENCH_LOAD_ROUNDS", "3"))
TICK = os.sysconf("SC_CLK_TCK")


def _ticks(pid: int) -> int:
    """CPU time (user + system, in clock ticks) a process has used so far; 0 if it has gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _backends(url: str) -> list[int]:
    """The PostgreSQL backends serving the database of `url` (the gunicorn workers keep theirs
    open between requests); none for SQLite."""
    if not url.startswith("postgres"):
        return []
    import psycopg2

    with psycopg2.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        pids = [pid for (pid,) in cursor.fetchall()]
    connection.close()
    return pids


def cpu_snapshot(server_pid: int, backends: list[int]) -> dict:
    """CPU seconds used so far: the whole machine (busy), this process (the load generator's
    threads), the gunicorn workers, and the database backends serving them."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return {
        "machine": (sum(values[:8]) - idle) / TICK,
        "client": sum(os.times()[:2]),
        "server": sum(_ticks(pid) for pid in _children(server_pid)) / TICK,
        "database": {pid: _ticks(pid) / TICK for pid in backends},
    }


def figures(latencies: list[float], cpu: dict) -> dict:
    """Throughput, median and 99th percentile of one timed run, how busy the machine was, and
    the CPU milliseconds each request cost the load generator, the gunicorn workers and the
    database backends."""
    ordered = sorted(latencies)
    n = len(ordered)
    return {
        "rps": n / LOAD_SECONDS,
        "p50_ms": statistics.median(ordered) * 1000,
        "p99_ms": ordered[int(n * 0.99) - 1] * 1000,
        "machine_busy": round(cpu["machine"] / (LOAD_SECONDS * (os.cpu_count() or 1)), 2),
        **{f"{k}_cpu_ms": round(cpu[k] / n * 1000, 2) for k in ("client", "server", "database")},
    }


def median_round(rounds: list[dict]) -> dict:
    """The round whose ratio of saves to minimal durable saves is the median one: a busy moment
    on the shared machine moves one round, and the kinds of one round ran one after the other."""
    ordered = sorted(rounds, key=lambda r: r["save"]["rps"] / r["durable"]["rps"])
    return {**ordered[len(ordered) // 2], "rounds": rounds}


def load_test(env: dict, prepared: dict) -> dict:
    """Three kinds of POST by 8 logged-in clients against 2 gunicorn workers, LOAD_SECONDS each,
    in LOAD_ROUNDS interleaved rounds: the bare POST (writes nothing), the minimal durable save
    (bench.urls.durable_save) and the real form's save of one indicator."""
    port = free_port()
    server = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "bench.wsgi:application",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        env={**env, "CONN_MAX_AGE": "3600"},  # one backend per worker for the whole test
        cwd=ROOT,
    )
    indicator = prepared["indicator"]
    prefix = f"i{indicator}"

    def client(next_post):
        return {"username": "bench-root", "password": prepared["password"], "next_post": next_post}

    def saver(pk: int, version: int):
        state = {"version": version, "n": 0}

        def next_post(_browser):
            state["n"] += 1
            body = {
                f"{prefix}-version": state["version"],
                f"{prefix}-note": f"Lần lưu {state['n']}",
            }
            body.update({f"{prefix}-c_{k}": "yes" for k in range(1, 7)})
            state["version"] += 1
            return f"/danh-gia/{pk}/chi-tieu/{indicator}/", body, 302

        return client(next_post)

    def durable(pk: int):
        count = iter(range(1, 10**9))

        def next_post(_browser):
            return f"/bench/save/{pk}/{indicator}/", {"note": f"Lần lưu {next(count)}"}, 302

        return client(next_post)

    kinds = {
        "bare": [client(lambda _b: ("/bench/post/", {}, 200)) for _ in range(8)],
        "durable": [durable(pk) for pk, _version in prepared["drafts"]],
        "save": [saver(pk, version) for pk, version in prepared["drafts"]],
    }
    rounds: list[dict] = []

    def snapshot_into(target: dict, backends: list[int]):
        def take():
            backends.extend(_backends(env["DATABASE_URL"]))
            target.update(cpu_snapshot(server.pid, backends))

        return take

    try:
        wait_for_port(port)
        for _ in range(LOAD_ROUNDS):
            rounds.append({})
            for kind, clients in kinds.items():
                before, backends = {}, []
                latencies = load.run(
                    port,
                    clients,
                    LOAD_SECONDS,
                    on_start=snapshot_into(before, backends),  # after the logins
                )
                after = cpu_snapshot(server.pid, backends)
                used = {k: after[k] - before[k] for k in ("machine", "client", "server")}
                # a backend that ended during the run (it should not: see CONN_MAX_AGE) is left
                # out rather than counted as a negative time
                used["database"] = sum(
                    max(0.0, after["database"][pid] - ticks)
                    for pid, ticks in before["database"].items()
                )
                rounds[-1][kind] = figures(latencies, used)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return median_round(rounds)


RESULT = {True: "pass", False: "FAIL", None: "—"}


def row(measure, value, baseline, goal, ok, unit=""):
    ratio = value / baseline if baseline else None
    return {
        "measure": measure,
        "value": round(value, 2),
        "baseline": round(baseline, 2) if baseline is not None else None,
        "ratio": round(ratio, 2) if ratio else None,
        "goal": goal,
        "pass": None if ok is None else bool(ok),  # None: shown for information
        "unit": unit,
    }


def operation_rows(operations: dict, logged_in: dict, servers: dict) -> list[dict]:
    """Issue 13's measures: a password hash, logins over HTTP, two servers sharing Redis."""
    argon2, pbkdf2 = logged_in["argon2"], logged_in["pbkdf2"]
    rows = [
        row(
            f"one password hash, Argon2id (PBKDF2 {operations['pbkdf2_iterations']:,} before)",
            operations["hash_ms"],
            operations["pbkdf2_hash_ms"],
            "≤ 150 ms",
            operations["hash_ms"] <= 150,
            "ms",
        ),
        row(
            f"login, POST /dang-nhap/ over HTTP, p50 of {argon2['n']} (PBKDF2 before)",
            argon2["p50_ms"],
            pbkdf2["p50_ms"],
            "≤ 0.5×",
            argon2["p50_ms"] <= 0.5 * pbkdf2["p50_ms"],
            "ms",
        ),
        row(
            "login, POST /dang-nhap/ over HTTP, p99 vs own p50",
            argon2["p99_ms"],
            argon2["p50_ms"],
            "≤ 4×",
            argon2["p99_ms"] <= 4 * argon2["p50_ms"],
            "ms",
        ),
    ]
    if "skipped" in servers:
        return rows
    two, single, proof = servers["two"], servers["single"], servers["proof"]
    return [
        *rows,
        row(
            f"province dashboard, {servers['clients']} clients, p50: 2 servers × 1 worker "
            "sharing Redis vs 1 × 2 workers",
            two["p50_ms"],
            single["p50_ms"],
            "≤ 1.5×",
            two["p50_ms"] <= 1.5 * single["p50_ms"],
            "ms",
        ),
        row(
            "dashboard built on server A, served by B from the cache (A's session)",
            proof["served_by_b_ms"],
            proof["built_on_a_ms"],
            "a hit on B",
            proof["hit_on_b"] and proof["session_from_a_valid_on_b"],
            "ms",
        ),
    ]


def main() -> int:
    started = time.monotonic()
    envs = {size: env_for(database_url(size)) for size in SIZES}
    import_env = env_for(database_url("import"))
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        env=envs["10k"],
        cwd=ROOT,
        check=True,
    )
    prepared = {
        s: python("bench/prepare.py", "country", str(n), env=envs[s]) for s, n in SIZES.items()
    }
    small = python("bench/measure.py", "queries", env=envs["1k"])
    large = python("bench/measure.py", "pages", env=envs["10k"])
    export = python("bench/measure.py", "export", env=envs["10k"])
    python("bench/prepare.py", "import", str(IMPORT_ROWS), env=import_env)
    imported = python("bench/measure.py", "import", env=import_env)
    loaded = load_test(envs["10k"], prepared["10k"])
    operations = python("bench/measure.py", "operations", env=envs["10k"])
    password = prepared["10k"]["password"]
    logged_in = ops.logins(envs["10k"], password)
    servers = ops.two_servers(envs["10k"], password, operations["province_url"], LOAD_SECONDS)

    p, n = large["province_ms"], large["national_ms"]
    rows = [
        row(
            f"province dashboard, median of 30 ({large['province_rows']} rows)",
            p,
            large["province_bare_ms"],
            "≤ 3×",
            p <= 3 * large["province_bare_ms"],
            "ms",
        ),
        row(
            f"national roll-up ({large['national_rows']} rows)",
            n,
            large["national_bare_ms"],
            "≤ 3×",
            n <= 3 * large["national_bare_ms"],
            "ms",
        ),
        row("national / province", n, p, "≤ 5×", n <= 5 * p, "ms"),
        row(
            f"queries, province dashboard, {large['communes']} vs {small['communes']} communes",
            large["province_queries"],
            small["province_queries"],
            "equal",
            large["province_queries"] == small["province_queries"],
            "queries",
        ),
        row(
            f"queries, national roll-up, {large['communes']} vs {small['communes']} communes",
            large["national_queries"],
            small["national_queries"],
            "equal",
            large["national_queries"] == small["national_queries"],
            "queries",
        ),
        row(
            f"Excel detail sheet, {export['export_rows']} xã, time",
            export["export_ms"],
            export["export_raw_ms"],
            "≤ 2×",
            export["export_ms"] <= 2 * export["export_raw_ms"],
            "ms",
        ),
        row(
            "Excel detail sheet, peak memory",
            export["export_mb"],
            export["export_raw_mb"],
            "≤ 1.5×",
            export["export_mb"] <= 1.5 * export["export_raw_mb"],
            "MB",
        ),
        row(
            f"template import, {imported['import_rows']} rows "
            f"({imported['import_entries']} entries)",
            imported["import_ms"],
            imported["bulk_create_ms"],
            "≤ 3×",
            imported["import_ms"] <= 3 * imported["bulk_create_ms"],
            "ms",
        ),
        row(
            "template re-import, unchanged file",
            imported["reimport_ms"],
            imported["import_ms"],
            "≤ 1× the first",
            imported["reimport_ms"] <= imported["import_ms"] and imported["reimport_entries"] == 0,
            "ms",
        ),
        row(
            "saving one indicator over HTTP, throughput vs minimal durable save",
            loaded["save"]["rps"],
            loaded["durable"]["rps"],
            "≥ 0.5×",
            loaded["save"]["rps"] >= 0.5 * loaded["durable"]["rps"],
            "req/s",
        ),
        row(
            "saving one indicator over HTTP, p99 vs own p50",
            loaded["save"]["p99_ms"],
            loaded["save"]["p50_ms"],
            "≤ 4×",
            loaded["save"]["p99_ms"] <= 4 * loaded["save"]["p50_ms"],
            "ms",
        ),
        row(
            "saving one indicator over HTTP, throughput vs bare POST",
            loaded["save"]["rps"],
            loaded["bare"]["rps"],
            "information",
            None,
            "req/s",
        ),
        row(
            "minimal durable save, throughput vs bare POST",
            loaded["durable"]["rps"],
            loaded["bare"]["rps"],
            "information",
            None,
            "req/s",
        ),
    ]
    rows += operation_rows(operations, logged_in, servers)
    database = "PostgreSQL" if envs["10k"]["DATABASE_URL"].startswith("postgres") else "SQLite"
    machine = f"{platform.node()} · {os.cpu_count()} cores · Python {platform.python_version()}"
    width = max(len(r["measure"]) for r in rows)
    print(f"\nntm-ict benchmark on {database} ({machine})\n")
    print(
        f"{'measure':<{width}}  {'value':>10}  {'baseline':>10}  {'ratio':>6}  {'goal':<15} result"
    )
    for r in rows:
        print(
            f"{r['measure']:<{width}}  {r['value']:>10}  {str(r['baseline']):>10}  "
            f"{str(r['ratio']):>6}  {r['goal']:<15} {RESULT[r['pass']]}"
        )
    goals = [r for r in rows if r["pass"] is not None]
    results = {
        "database": database,
        "machine": machine,
        "seconds": round(time.monotonic() - started),
        "rows": rows,
        "raw": {
            "1k": small,
            "10k": large,
            "export": export,
            "import": imported,
            "load": loaded,
            "operations": {**operations, "logins": logged_in, "servers": servers},
        },
    }
    if "skipped" in servers:
        print(f"\ntwo servers sharing Redis: skipped ({servers['skipped']})")
    (ROOT / "bench" / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(
        f"\n{sum(r['pass'] is True for r in goals)}/{len(goals)} measures meet their goal; "
        f"bench/results.json written ({results['seconds']} s)"
    )
    return 0 if all(r["pass"] for r in goals) else 1


if __name__ == "__main__":
    sys.exit(main())
