"""In-process measurements on one benchmark database; prints one JSON object.

Run by bench/run.py with DATABASE_URL pointing at the database to measure.
"""

from __future__ import annotations

import io
import json
import os
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from openpyxl import Workbook  # noqa: E402

settings.ROOT_URLCONF = "bench.urls"

from assessments.models import AssessmentPeriod, Commune, IndicatorResult, User  # noqa: E402
from reports.exports import Report, SheetWriter, detail_cells, detail_labels  # noqa: E402
from reports.rollups import Filters, Selection, indicators_of, selection_lines  # noqa: E402

RUNS = 30


def median_ms(client: Client, url: str, runs: int = RUNS) -> tuple[float, bytes]:
    for _ in range(3):
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000, response.content


def queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        client.get(url)
    return len(ctx)


def pages(only_queries: bool) -> dict:
    reviewer = User.objects.get(username="tinh-01")
    root = User.objects.get(username="bench-root")
    period = AssessmentPeriod.objects.filter(province=reviewer.province).order_by("-year").first()
    province_url = f"/bao-cao/?period={period.pk}"
    national_url = f"/bao-cao/toan-quoc/?year={period.year}"
    province, national = Client(), Client()
    province.force_login(reviewer)
    national.force_login(root)
    out = {
        "province_queries": queries(province, province_url),
        "national_queries": queries(national, national_url),
        "communes": Commune.objects.count(),
    }
    if only_queries:
        return out
    ms, html = median_ms(province, province_url)
    rows = html.count(b"<tr")
    bare_ms, _ = median_ms(province, f"/bench/table/?rows={rows}")
    out.update(province_ms=ms, province_rows=rows, province_bare_ms=bare_ms)
    ms, html = median_ms(national, national_url)
    rows = html.count(b"<tr")
    bare_ms, _ = median_ms(national, f"/bench/table/?rows={rows}")
    out.update(national_ms=ms, national_rows=rows, national_bare_ms=bare_ms)
    return out


def export() -> dict:
    """The detail sheet of every xã in the country against raw write-only openpyxl."""
    year = AssessmentPeriod.objects.order_by("-year").values_list("year", flat=True).first()
    criteria_set = AssessmentPeriod.objects.filter(year=year).first().criteria_sets.first()
    indicators = indicators_of(criteria_set)
    lines = selection_lines(
        Commune.objects.all(),
        Selection.for_year(year, criteria_set),
        Filters(include_submitted=True),
        indicators,
    )
    report = Report("t", "p", "y", criteria_set.name, "b", indicators, [], None, lines, [])

    def ours():
        wb = Workbook(write_only=True)
        writer = SheetWriter(wb, "Chi tiết", [10] * (8 + len(indicators)))
        writer.header(detail_labels(indicators))
        for line in report.lines:
            writer.append(detail_cells(writer, line, indicators))
        wb.save(io.BytesIO())

    plain_rows = []
    wb = Workbook(write_only=True)
    probe = SheetWriter(wb, "probe", [10])
    for line in lines:
        plain_rows.append([c.value for c in detail_cells(probe, line, indicators)])

    def raw():
        wb = Workbook(write_only=True)
        ws = wb.create_sheet("Chi tiết")
        ws.append(detail_labels(indicators))
        for row in plain_rows:
            ws.append(row)
        wb.save(io.BytesIO())

    def timed(fn):
        times = []
        for _ in range(3):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        return min(times) * 1000

    def peak(fn):
        tracemalloc.start()
        fn()
        _current, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top / (1024 * 1024)

    return {
        "export_rows": len(lines),
        "export_ms": timed(ours),
        "export_raw_ms": timed(raw),
        "export_mb": peak(ours),
        "export_raw_mb": peak(raw),
    }


def excel_import() -> dict:
    """A 10,000-row entry template read and applied, against bulk_create of the same rows."""
    from assessments import excel_entry
    from assessments.models import Assessment, District

    user = User.objects.get(username="bench-root")
    district = District.objects.get(code="999")
    period = AssessmentPeriod.objects.get(name="Năm 2026 (thử tải)")
    criteria_set = period.criteria_sets.first()
    communes = list(Commune.objects.filter(district=district).order_by("code"))
    content = excel_entry.build_template(
        district=district, period=period, criteria_set=criteria_set, communes=communes
    )
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(content))
    xa = wb["Xã"]
    for row in xa.iter_rows(min_row=2):
        for cell in row[2:]:
            header = xa.cell(1, cell.column).value
            if header == excel_entry.VERSION:
                continue  # the assessment's version, kept as downloaded
            if header.endswith(NOTE_SUFFIX):
                cell.value = "Đã kiểm tra"
            elif "/1:" in header and header.startswith("8.4"):
                cell.value = 90
            elif "/5:" in header and header.startswith("8.4"):
                cell.value = 65
            else:
                cell.value = "Có"
    out = io.BytesIO()
    wb.save(out)
    filled = out.getvalue()

    def run_import():
        plan = excel_entry.read_upload(
            io.BytesIO(filled),
            user=user,
            district=district,
            period=period,
            criteria_set=criteria_set,
        )
        return excel_entry.apply_plan(
            plan, user=user, period=period, criteria_set=criteria_set, source="bench"
        )

    start = time.perf_counter()
    applied = run_import()
    first_ms = (time.perf_counter() - start) * 1000
    start = time.perf_counter()
    again = run_import()
    second_ms = (time.perf_counter() - start) * 1000
    assessments = list(Assessment.objects.filter(period=period))
    indicators = indicators_of(criteria_set)
    count = applied

    # The baseline writes as many result rows and commits them, as the import does; the rows the
    # import wrote are removed first, outside the timing.
    IndicatorResult.objects.filter(assessment__period=period).delete()
    start = time.perf_counter()
    with transaction.atomic():
        IndicatorResult.objects.bulk_create(
            (
                IndicatorResult(
                    assessment=assessments[n % len(assessments)],
                    indicator=indicators[n // len(assessments)],
                    inputs={"conditions": {"1": True}},
                    note="Đã kiểm tra",
                )
                for n in range(count)
            ),
            batch_size=1000,
        )
    bulk_ms = (time.perf_counter() - start) * 1000
    return {
        "import_rows": len(communes),
        "import_entries": applied,
        "import_ms": first_ms,
        "reimport_entries": again,
        "reimport_ms": second_ms,
        "bulk_create_ms": bulk_ms,
    }


NOTE_SUFFIX = "/ghi chú"


def operations() -> dict:
    """One password hash with the project's first hasher against PBKDF2 (the hasher before), and
    the province dashboard's address for the several-servers measure (bench/ops.py)."""
    from django.contrib.auth.hashers import PBKDF2PasswordHasher, get_hasher

    def median_ms(hasher, runs: int) -> float:
        times = []
        for _ in range(runs):
            salt = hasher.salt()
            start = time.perf_counter()
            hasher.encode("a-benchmark-password", salt)
            times.append(time.perf_counter() - start)
        return statistics.median(times) * 1000

    ours, pbkdf2 = get_hasher("default"), PBKDF2PasswordHasher()
    reviewer = User.objects.get(username="tinh-01")
    period = AssessmentPeriod.objects.filter(province=reviewer.province).order_by("-year").first()
    return {
        "hasher": f"{type(ours).__name__} (time_cost={ours.time_cost}, "
        f"memory_cost={ours.memory_cost} KiB, parallelism={ours.parallelism})",
        "hash_ms": median_ms(ours, 15),
        "pbkdf2_iterations": pbkdf2.iterations,
        "pbkdf2_hash_ms": median_ms(pbkdf2, 3),
        "province_url": f"/bao-cao/?period={period.pk}",
    }


if __name__ == "__main__":
    what = sys.argv[1]
    result = {
        "pages": lambda: pages(only_queries=False),
        "queries": lambda: pages(only_queries=True),
        "export": export,
        "import": excel_import,
        "operations": operations,
    }[what]()
    print(json.dumps(result))
