"""Looking up an item's footnote number in a list of marks (criteria.marks); no query."""

from __future__ import annotations

from django import template

from criteria.marks import Mark, number_of

register = template.Library()


@register.filter
def mark_number(marks: list[Mark] | None, item) -> int | None:
    """{{ marks|mark_number:indicator }}: the item's footnote number, or None."""
    return number_of(marks, item) if marks and item is not None else None
