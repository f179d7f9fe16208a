"""Offline entry against what was saved since the download (issue 11, items 10–12): the version
in each row, rows of locked assessments that change nothing, and the checked files kept between
the preview and the apply."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from assessments import excel_entry, services
from assessments.models import IndicatorResult, State
from tests.assessments.test_excel_entry import column, edit, errors, template, upload
from tests.assessments.test_workflow import complete
from tests.conftest import POSTAL_ALL, indicator, make_commune, make_village

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def scored(assessment, district_officer):
    services.save_entry(
        user=district_officer,
        assessment=assessment,
        indicator=indicator(assessment.criteria_set, "8.1"),
        entry=services.Entry(inputs=POSTAL_ALL, note="Bưu điện văn hóa xã"),
        seen_version=None,
    )
    assessment.refresh_from_db()
    return assessment


@pytest.fixture
def neighbour(scored, district_officer):
    """A second xã of the district, scored too."""
    commune = make_commune(scored.commune.district, "Xã Tú Mịch", code="06290")
    make_village(commune, "Bản Roọc")
    neighbour = services.create_assessment(
        user=district_officer,
        commune=commune,
        criteria_set=scored.criteria_set,
        period=scored.period,
    )
    services.save_entry(
        user=district_officer,
        assessment=neighbour,
        indicator=indicator(neighbour.criteria_set, "8.1"),
        entry=services.Entry(inputs=POSTAL_ALL),
        seen_version=None,
    )
    neighbour.refresh_from_db()
    return neighbour


def row_of(ws, code: str) -> int:
    return next(r[0].row for r in ws.iter_rows(min_row=2) if r[0].value == code)


def set_cell(sheet: str, code: str, key: str, value):
    def change(wb):
        ws = wb[sheet]
        ws.cell(row_of(ws, code), column(ws, key)).value = value

    return change


def both(*changes):
    def change(wb):
        for one in changes:
            one(wb)

    return change


def apply(client, assessment, **kwargs):
    return client.post(
        reverse("assessments:excel_apply", args=[assessment.commune.district_id]), **kwargs
    )


def saved_note(assessment, code="8.1") -> str:
    return IndicatorResult.objects.get(assessment=assessment, indicator__code=code).note


def save_online(assessment, user, note: str) -> None:
    services.save_entry(
        user=user,
        assessment=assessment,
        indicator=indicator(assessment.criteria_set, "8.1"),
        entry=services.Entry(inputs=POSTAL_ALL, note=note),
        seen_version=None,
    )


# ---------------------------------------------------------------- item 10: a stale template


def test_template_holds_each_assessments_version_in_every_row(
    client, district_officer, scored, villages
):
    client.force_login(district_officer)

    wb = load_workbook(io.BytesIO(template(client, scored)))

    for sheet in ("Xã", "Thôn"):
        ws = wb[sheet]
        last = ws.max_column
        assert ws.cell(1, last).value == "Phiên bản hồ sơ"
        assert {ws.cell(r, last).value for r in range(2, ws.max_row + 1)} == {str(scored.version)}


def test_rows_of_assessments_saved_after_the_download_are_refused_row_by_row(
    client, district_officer, scored, neighbour
):
    client.force_login(district_officer)
    downloaded = template(client, scored)
    save_online(scored, district_officer, "Sửa trên web sau khi tải")
    scored.refresh_from_db()
    filled = edit(
        downloaded,
        both(
            set_cell("Xã", scored.commune.code, "8.4/1", 90),
            set_cell("Xã", neighbour.commune.code, "8.4/1", 80),
        ),
    )

    response = upload(client, scored, filled)

    ws = load_workbook(io.BytesIO(downloaded))["Xã"]
    stale_row = row_of(ws, scored.commune.code)
    version_letter = ws.cell(1, ws.max_column).column_letter
    refused = list(response.context["form"].errors["workbook"])
    assert len(refused) == 1  # the neighbour's row is current
    assert refused[0].startswith(f"Trang tính «Xã», dòng {stale_row}, cột {version_letter}:")
    assert (
        f"hồ sơ của {scored.commune.name} đã được lưu lại sau khi tải tệp này (tệp ghi phiên bản "
        f"{scored.version - 1}, hiện nay là phiên bản {scored.version})"
    ) in refused[0]
    assert response.context["plan"] is None
    assert saved_note(scored) == "Sửa trên web sau khi tải"
    assert not IndicatorResult.objects.filter(indicator__code="8.4").exists()


def test_an_untouched_row_of_an_assessment_saved_since_is_skipped(
    client, district_officer, scored, neighbour
):
    client.force_login(district_officer)
    downloaded = template(client, neighbour)
    services.save_entry(  # saved online after the download, in what the file does not hold
        user=district_officer,
        assessment=scored,
        indicator=indicator(scored.criteria_set, "8.1"),
        entry=services.Entry(
            inputs=POSTAL_ALL,
            note="Bưu điện văn hóa xã",
            override_met=True,
            override_reason="Đã kiểm tra",
        ),
        seen_version=None,
    )

    preview = upload(
        client, neighbour, edit(downloaded, set_cell("Xã", neighbour.commune.code, "8.4/1", 80))
    )
    apply(client, neighbour)

    assert {c.commune for c in preview.context["plan"].changes} == {neighbour.commune}
    result = IndicatorResult.objects.get(assessment=neighbour, indicator__code="8.4")
    assert result.inputs["conditions"]["1"] == "80"


def test_preview_shows_each_overwritten_cell_old_and_new(
    client, district_officer, scored, villages
):
    client.force_login(district_officer)
    first = villages[0]

    def change(wb):
        set_cell("Xã", scored.commune.code, "8.1/4", "Không")(wb)
        set_cell("Xã", scored.commune.code, "8.1/ghi chú", "Ghi chú mới")(wb)
        thon = wb["Thôn"]
        row = next(r[0].row for r in thon.iter_rows(min_row=2) if str(r[2].value) == str(first.pk))
        thon.cell(row, column(thon, "8.2/1")).value = "Có"

    response = upload(client, scored, edit(template(client, scored), change))

    cells = {
        (c.sheet, c.village.name if c.village else "", c.column.key): (c.old, c.new)
        for c in response.context["plan"].cells
    }
    assert cells == {
        ("Xã", "", "8.1/4"): ("Có", "Không"),
        ("Xã", "", "8.1/ghi chú"): ("Bưu điện văn hóa xã", "Ghi chú mới"),
        ("Thôn", first.name, "8.2/1"): ("", "Có"),
    }
    page = response.content.decode()
    assert page.count('data-testid="cell-change"') == 3
    assert '<td data-testid="old">Có</td>' in page
    assert '<td data-testid="new">Không</td>' in page


def test_a_template_without_versions_is_refused(client, district_officer, scored):
    client.force_login(district_officer)

    def drop_versions(wb):
        for ws in (wb["Xã"], wb["Thôn"]):
            ws.delete_cols(ws.max_column)

    response = upload(client, scored, edit(template(client, scored), drop_versions))

    assert "«Phiên bản hồ sơ»" in errors(response)
    assert response.context["plan"] is None


def test_a_version_changed_by_hand_is_refused(client, district_officer, scored):
    client.force_login(district_officer)

    def change(wb):
        xa = wb["Xã"]
        xa.cell(2, column(xa, "8.1/4")).value = "Không"
        xa.cell(2, xa.max_column).value = "mới nhất"

    response = upload(client, scored, edit(template(client, scored), change))

    assert "«mới nhất»" in errors(response)
    assert IndicatorResult.objects.get(assessment=scored, indicator__code="8.1").is_met is True


# ---------------------------------------------------------------- item 11: locked rows


def test_untouched_template_with_an_approved_and_a_waiting_row_is_accepted(
    client, district_officer, user, scored, neighbour
):
    complete(scored, district_officer)
    services.submit(user=district_officer, assessment=scored)
    services.approve(user=user, assessment=scored)
    complete(neighbour, district_officer)
    services.submit(user=district_officer, assessment=neighbour)
    client.force_login(district_officer)

    response = upload(client, scored, template(client, scored))

    assert "workbook" not in response.context["form"].errors
    assert 'data-testid="no-changes"' in response.content.decode()


def test_a_locked_untouched_row_is_skipped_and_the_other_rows_apply(
    client, district_officer, user, scored, neighbour
):
    complete(scored, district_officer)
    services.submit(user=district_officer, assessment=scored)
    services.approve(user=user, assessment=scored)
    client.force_login(district_officer)
    filled = edit(
        template(client, scored), set_cell("Xã", neighbour.commune.code, "8.1/ghi chú", "Mới")
    )

    preview = upload(client, scored, filled)
    response = apply(client, scored, follow=True)

    assert [c.commune for c in preview.context["plan"].changes] == [neighbour.commune]
    assert "Đã lưu 1 kết quả chỉ tiêu từ tệp" in response.content.decode()
    assert saved_note(neighbour) == "Mới"
    scored.refresh_from_db()
    assert scored.state == State.APPROVED


def test_a_changed_row_of_a_waiting_assessment_is_refused(
    client, district_officer, scored, neighbour
):
    complete(neighbour, district_officer)
    services.submit(user=district_officer, assessment=neighbour)
    client.force_login(district_officer)
    filled = edit(
        template(client, scored), set_cell("Xã", neighbour.commune.code, "8.1/ghi chú", "Mới")
    )

    response = upload(client, scored, filled)

    assert neighbour.commune.name in errors(response)
    assert "đang chờ thẩm định" in errors(response)
    assert response.context["plan"] is None


# ---------------------------------------------------------------- item 12: checked files


def preview_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT) / "imports"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def changed_template(client, scored, note="Ghi chú mới") -> bytes:
    return edit(template(client, scored), set_cell("Xã", scored.commune.code, "8.1/ghi chú", note))


def age(path: Path, hours: float) -> None:
    then = time.time() - hours * 3600
    os.utime(path, (then, then))


def test_the_next_upload_removes_the_previous_checked_file(
    client, district_officer, scored, settings
):
    client.force_login(district_officer)
    filled = changed_template(client, scored)

    upload(client, scored, filled)
    first = preview_files(settings)
    upload(client, scored, b"not a workbook")  # refused, and the previous file goes anyway
    after_bad = preview_files(settings)
    upload(client, scored, filled)

    assert len(first) == 1
    assert after_bad == []
    assert len(preview_files(settings)) == 1 and preview_files(settings) != first


def test_checked_files_are_capped_per_user(district_officer, scored, settings):
    filled = None
    for _ in range(excel_entry.PREVIEWS_PER_USER + 2):
        browser = Client()  # each browser has its own session, so nothing is dropped there
        browser.force_login(district_officer)
        filled = filled or changed_template(browser, scored)
        upload(browser, scored, filled)

    assert len(preview_files(settings)) == excel_entry.PREVIEWS_PER_USER


def test_expire_previews_removes_files_older_than_asked(client, district_officer, scored, settings):
    client.force_login(district_officer)
    upload(client, scored, changed_template(client, scored))
    old = preview_files(settings)[0]
    age(old, 25)
    other = Client()
    other.force_login(district_officer)
    upload(other, scored, changed_template(other, scored, "Khác"))
    (fresh,) = set(preview_files(settings)) - {old}

    removed = excel_entry.expire_previews(older_than=excel_entry.PREVIEW_LIFETIME)

    assert removed == 1
    assert preview_files(settings) == [fresh]


def test_expire_previews_command_reports_what_it_removed(
    client, district_officer, scored, settings
):
    client.force_login(district_officer)
    upload(client, scored, changed_template(client, scored))
    age(preview_files(settings)[0], 3)
    out = io.StringIO()

    call_command("expire_previews", "--hours", "2", stdout=out)

    assert out.getvalue().startswith("1 ")
    assert preview_files(settings) == []


def test_an_expired_checked_file_is_not_applied(client, district_officer, scored, settings):
    client.force_login(district_officer)
    upload(client, scored, changed_template(client, scored))
    age(preview_files(settings)[0], 25)

    response = apply(client, scored, follow=True)

    assert "Chưa lưu gì" in response.content.decode()
    assert saved_note(scored) == "Bưu điện văn hóa xã"
    assert preview_files(settings) == []


def test_an_applied_file_is_removed(client, district_officer, scored, settings):
    client.force_login(district_officer)
    upload(client, scored, changed_template(client, scored))

    apply(client, scored)

    assert saved_note(scored) == "Ghi chú mới"
    assert preview_files(settings) == []


# ---------------------------------------------------------------- query budgets


def grow(scored, district_officer, size: int) -> None:
    """`size` more scored xã in the district, each with two villages."""
    for n in range(size):
        commune = make_commune(scored.commune.district)
        make_village(commune, f"Thôn {n}a")
        make_village(commune, f"Thôn {n}b")
        other = services.create_assessment(
            user=district_officer,
            commune=commune,
            criteria_set=scored.criteria_set,
            period=scored.period,
        )
        save_online(other, district_officer, "Đã nhập")


def every_note_changed(content: bytes, tag: str) -> bytes:
    def change(wb):
        xa = wb["Xã"]
        for row in range(2, xa.max_row + 1):
            xa.cell(row, column(xa, "8.1/ghi chú")).value = f"Sửa dòng {row} ({tag})"
            xa.cell(row, column(xa, "8.4/1")).value = 70

    return edit(content, change)


def upload_and_apply_queries(client, scored, tag: str) -> tuple[int, int]:
    """Queries of the upload and of the apply of a template with every xã's row changed."""
    filled = every_note_changed(template(client, scored), tag)
    with CaptureQueriesContext(connection) as upload_queries:
        response = upload(client, scored, filled)
    assert response.context["plan"].changes
    with CaptureQueriesContext(connection) as apply_queries:
        assert apply(client, scored).status_code == 302
    return len(upload_queries), len(apply_queries)


def test_upload_and_apply_do_not_grow_with_rows(client, district_officer, scored, villages):
    client.force_login(district_officer)
    grow(scored, district_officer, 2)
    small = upload_and_apply_queries(client, scored, "lần 1")
    grow(scored, district_officer, 10)

    large = upload_and_apply_queries(client, scored, "lần 2")

    assert small == large
    # upload: session, user, district, period, set, the set's indicators (3), the xã, their
    # assessments, results and villages, then saving the session; apply: the same reading again,
    # then save_entries' fixed set of locks, bulk writes and history rows
    assert small[0] <= 16 and small[1] <= 33


def test_upload_and_apply_creating_assessments_do_not_grow_with_rows(
    client, district_officer, scored, villages
):
    client.force_login(district_officer)
    grow(scored, district_officer, 1)  # two saved results to update: save_entries' bulk path
    for n in range(2):
        make_commune(scored.commune.district, f"Xã mới {n}")
    small = upload_and_apply_queries(client, scored, "lần 1")
    for n in range(10):
        make_commune(scored.commune.district, f"Xã mới thêm {n}")

    large = upload_and_apply_queries(client, scored, "lần 2")

    assert small == large
