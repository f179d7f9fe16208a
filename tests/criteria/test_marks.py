"""The "cần xác nhận" marks as the scoring form, the scorecard and the workbook read them."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from criteria.marks import footnotes, number_of, to_confirm_marks
from criteria.models import CriteriaSet, Indicator, Target

pytestmark = pytest.mark.django_db


@pytest.fixture
def english():
    """Labels in the English source strings, whatever the catalogue says."""
    with translation.override("en"):
        yield


def test_marks_come_in_the_sets_order_and_share_a_number_when_their_note_is_the_same(
    ntm_set, english
):
    marks = to_confirm_marks(ntm_set)

    labels = [m.label for m in marks]
    numbers = [m.number for m in marks]
    assert labels.index("Indicator 8.2, condition 1") < labels.index("Indicator 8.3, condition 1")
    first_seen = list(dict.fromkeys(numbers))
    assert first_seen == list(range(1, len(first_seen) + 1))  # numbered as first met
    regional = [m for m in marks if m.label.startswith("Indicator 8.1, target for")]
    assert len(regional) == 7 and len({m.number for m in regional}) == 1
    later = next(m for m in marks if m.label.startswith("Indicator 8.4, target for"))
    assert later.number == regional[0].number  # the same note again, the same footnote
    assert {f.number for f in footnotes(marks)} == set(numbers)


def test_the_whole_set_and_a_criterion_are_marked_first(shipped_sets, english):
    marks = to_confirm_marks(shipped_sets["xa-ntm-2026-2030"])

    assert [(m.number, m.item._meta.model_name) for m in marks] == [
        (1, "criteriaset"),
        (2, "criterion"),
    ]
    assert marks[1].label == "Criterion 7. Khoa học công nghệ và chuyển đổi số"


def test_a_set_read_for_its_page_is_not_read_again(ntm_set, django_assert_num_queries):
    cs = CriteriaSet.objects.for_detail_page().get(pk=ntm_set.pk)

    with django_assert_num_queries(0):
        to_confirm_marks(cs)


def test_any_instance_of_a_marked_row_finds_its_number(ntm_set):
    marks = to_confirm_marks(ntm_set)
    share = Target.objects.get(
        indicator__criterion__criteria_set=ntm_set, indicator__code="8.3", region=None
    )
    postal = Indicator.objects.get(criterion__criteria_set=ntm_set, code="8.1")

    assert number_of(marks, share) == next(m.number for m in marks if m.item == share)
    assert number_of(marks, postal) is None


def test_the_partial_shows_the_badge_and_the_footnote_number_or_the_note(ntm_set):
    marks = to_confirm_marks(ntm_set)
    share = Target.objects.get(
        indicator__criterion__criteria_set=ntm_set, indicator__code="8.3", region=None
    )
    postal = Indicator.objects.get(criterion__criteria_set=ntm_set, code="8.1")
    number = number_of(marks, share)

    looked_up = render_to_string("criteria/_to_confirm.html", {"item": share, "marks": marks})
    given = render_to_string("criteria/_to_confirm.html", {"item": share, "number": 7})
    alone = render_to_string("criteria/_to_confirm.html", {"item": share})

    assert "cần xác nhận" in looked_up and f'href="#to-confirm-note-{number}"' in looked_up
    assert 'href="#to-confirm-note-7"' in given
    assert "2/3" in alone and "#to-confirm-note" not in alone
    assert render_to_string("criteria/_to_confirm.html", {"item": postal}).strip() == ""
