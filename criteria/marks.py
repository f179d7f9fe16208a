"""What of a criteria set is not confirmed yet ("cần xác nhận"), as numbered footnotes.

Every page and workbook that shows a set's content shows its marks the same way: a badge and a
footnote number on each marked line (`templates/criteria/_to_confirm.html`) and the numbered
notes below (`templates/criteria/_to_confirm_notes.html`). Marks with the same note share one
number, so the seven regional targets marked for one reason make one footnote.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import models
from django.utils.translation import gettext as _

from .models import CriteriaSet, Target


@dataclass(frozen=True)
class Mark:
    """One marked item of a set: the set itself, a criterion, indicator, condition or target."""

    number: int  # the footnote's number, shared by every mark with the same note
    label: str  # which line, in words: "Chỉ tiêu 8.3, điều kiện 2"
    note: str  # what is to confirm
    item: models.Model


@dataclass(frozen=True)
class Footnote:
    number: int
    note: str
    labels: list[str] = field(default_factory=list)


def default_note() -> str:
    return _("Not yet checked against the legal text.")


def to_confirm_marks(criteria_set: CriteriaSet) -> list[Mark]:
    """Every marked item of the set, in the set's order, each with its footnote number.

    Reads the set through `CriteriaSet.objects.for_detail_page()`; a set fetched that way is
    used as it is (no further query).
    """
    cs = criteria_set
    if "groups" not in getattr(cs, "_prefetched_objects_cache", {}):
        cs = CriteriaSet.objects.for_detail_page().get(pk=criteria_set.pk)
    criteria = [c for group in cs.groups.all() for c in group.criteria.all()]
    return _numbered(_set_items(cs, criteria, [i for c in criteria for i in c.indicators.all()]))


def marks_of_indicators(criteria_set: CriteriaSet, indicators: list) -> list[Mark]:
    """The marks of the set itself and of these indicators (with their criterion, conditions and
    targets already loaded, as a scoring page has them): no query."""
    criteria = list({i.criterion_id: i.criterion for i in indicators}.values())
    return _numbered(_set_items(criteria_set, criteria, indicators))


def _set_items(cs: CriteriaSet, criteria: list, indicators: list) -> list[tuple[str, models.Model]]:
    items: list[tuple[str, models.Model]] = []
    if cs.to_confirm:
        items.append((_("The set as a whole"), cs))
    for criterion in criteria:
        if criterion.to_confirm:
            items.append(
                (
                    _("Criterion %(number)s. %(name)s")
                    % {"number": criterion.number, "name": criterion.name},
                    criterion,
                )
            )
        for indicator in indicators:
            if indicator.criterion_id == criterion.pk:
                items += _indicator_items(indicator)
    return items


def _numbered(items: list[tuple[str, models.Model]]) -> list[Mark]:
    numbers: dict[str, int] = {}
    marks = []
    for label, item in items:
        note = item.to_confirm_note or default_note()
        number = numbers.setdefault(note, len(numbers) + 1)
        marks.append(Mark(number=number, label=label, note=note, item=item))
    return marks


def _indicator_items(indicator) -> list[tuple[str, models.Model]]:
    code = indicator.code
    items = []
    if indicator.to_confirm:
        items.append((_("Indicator %(code)s") % {"code": code}, indicator))
    for condition in indicator.conditions.all():
        if condition.to_confirm:
            label = _("Indicator %(code)s, condition %(condition)s") % {
                "code": code,
                "condition": condition.code,
            }
            items.append((label, condition))
    for target in sorted(indicator.targets.all(), key=_target_order):
        if target.to_confirm:
            items.append((target_label(target, code), target))
    return items


def _target_order(target: Target) -> tuple:
    if target.region_id:
        return (1, target.region.order, target.region.code)
    if target.commune_group_id:
        return (2, target.commune_group.order, target.commune_group.code)
    return (0, 0, "")


def target_label(target: Target, code: str) -> str:
    column = target.region or target.commune_group
    if column is None:
        return _("Indicator %(code)s, general target") % {"code": code}
    return _("Indicator %(code)s, target for %(column)s") % {"code": code, "column": column.name}


def footnotes(marks: list[Mark]) -> list[Footnote]:
    """The numbered notes, each once, with the lines it applies to."""
    notes: dict[int, Footnote] = {}
    for mark in marks:
        notes.setdefault(mark.number, Footnote(mark.number, mark.note)).labels.append(mark.label)
    return list(notes.values())


def number_of(marks: list[Mark], item: models.Model) -> int | None:
    """The footnote number of an item (any instance of the same row), or None if unmarked."""
    return next((mark.number for mark in marks if mark.item == item), None)
