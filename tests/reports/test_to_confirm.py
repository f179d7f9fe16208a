"""Every "cần xác nhận" mark of the set in use shows on the scorecard and in the meeting workbook,
as a footnote number on its line with the numbered notes below."""

from __future__ import annotations

import html
import io
import re

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from assessments.models import State
from criteria.marks import footnotes, to_confirm_marks
from reports.exports import TITLE_ROWS
from tests.conftest import make_commune, make_period

from .conftest import decided

pytestmark = pytest.mark.django_db


@pytest.fixture
def advanced(shipped_sets):
    """The shipped advanced set: its criterion list, 8.1, 8.2, 8.4 and many targets are marked."""
    return shipped_sets["xa-ntm-nang-cao-2021-2025"]


@pytest.fixture
def advanced_assessment(advanced, province, loc_binh, user):
    period = make_period(province, [advanced], name="Năm 2025 (nâng cao)")
    return decided(make_commune(loc_binh, "Xã Nâng Cao"), period, advanced, user, State.DRAFT, None)


def test_the_scorecard_numbers_every_mark_of_its_set_once(
    client, user, advanced, advanced_assessment
):
    marks = to_confirm_marks(advanced)
    assert len(marks) > 20
    client.force_login(user)

    page = client.get(reverse("reports:scorecard", args=[advanced_assessment.pk])).content.decode()

    references = re.findall(r'<a href="#to-confirm-note-(\d+)">', page)
    assert sorted(map(int, references)) == sorted(mark.number for mark in marks)
    for footnote in footnotes(marks):
        assert f'id="to-confirm-note-{footnote.number}"' in page
        assert html.escape(footnote.note) in page


def test_the_scorecard_marks_the_lines_it_shows(client, user, advanced, advanced_assessment):
    client.force_login(user)

    response = client.get(reverse("reports:scorecard", args=[advanced_assessment.pk]))

    sections = {s["indicator"].code: s for s in response.context["sections"]}
    assert [m.item.code for m in sections["8.1"]["condition_marks"]] == ["1", "2", "3", "4"]
    assert sections["8.2"]["condition_marks"] == []  # a share: no conditions
    # the commune's own (regional) target is on its line; the other regions' are listed apart
    others = {m.label for m in response.context["other_marks"]}
    assert any("8.1" in label for label in others)
    assert sections["8.1"]["target"].region.code == "trung-du-mien-nui-phia-bac"
    assert sections["8.1"]["target"] not in [m.item for m in response.context["other_marks"]]


def test_the_workbook_carries_every_mark_as_a_footnote(client, user, advanced, advanced_assessment):
    marks = to_confirm_marks(advanced)
    client.force_login(user)

    response = client.get(
        reverse("reports:province_export"),
        {"period": advanced_assessment.period_id, "set": advanced.pk},
    )

    wb = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    summary, detail = wb.worksheets[0], wb.worksheets[1]
    texts = [c.value for c in summary["A"] if isinstance(c.value, str)]
    # a long note is broken into rows as wide as the table: read them back as one text
    notes = " ".join(texts)
    for footnote in footnotes(marks):
        line = " ".join(f"[{footnote.number}] {footnote.note}".split())
        assert line in notes
        after = notes[notes.index(line) :]
        assert all(" ".join(label.split()) in after for label in footnote.labels)
    set_number = next(m.number for m in marks if m.item == advanced)
    assert any(t.endswith(f"[{set_number}] · Năm 2025 (nâng cao)") for t in texts)  # set line
    on_81 = sorted(
        {
            m.number
            for m in marks
            if m.item == indicator_81(advanced)
            or getattr(m.item, "indicator_id", None) == indicator_81(advanced).pk
        }
    )
    suffix = f"8.1 [{', '.join(map(str, on_81))}]"
    summary_header = [c.value for c in summary[TITLE_ROWS + 1]]
    detail_header = [c.value for c in detail[TITLE_ROWS + 1]]
    assert any(str(label).endswith(suffix) for label in summary_header), summary_header
    assert suffix in detail_header


def indicator_81(criteria_set):
    from tests.conftest import indicator

    return indicator(criteria_set, "8.1")
