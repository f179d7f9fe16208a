"""Formatting of recorded values for the history table (no queries here)."""

from __future__ import annotations

import json

from django import template
from django.core.exceptions import FieldDoesNotExist
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from assessments.models import Assessment, IndicatorResult, State

register = template.Library()

FIELD_LABELS = {
    "inputs": gettext_noop("Entry"),
    "override_met": gettext_noop("Result set by the officer"),
    "override_reason": gettext_noop("Reason for setting the result"),
    "note": gettext_noop("Note"),
    "no_evidence_explanation": gettext_noop("Why there is no evidence"),
    "is_met": gettext_noop("Result"),
    "evidence": gettext_noop("Evidence"),
    "state": gettext_noop("State"),
    "review_note": gettext_noop("Needs more (reviewer's note)"),
}


@register.filter
def change_field(name: str) -> str:
    """What changed, in words: its label above, else the label of the result's or the
    assessment's field of that name ("computed_reason" → "Lý giải", written when a result is
    decided again), never the name in the code."""
    if name in FIELD_LABELS:
        return _(FIELD_LABELS[name])
    for model in (IndicatorResult, Assessment):
        try:
            return capfirst(str(model._meta.get_field(name).verbose_name))
        except FieldDoesNotExist:
            continue
    return _("Other detail")


@register.filter
def change_value(value, field: str = "") -> str:
    """A recorded old or new value, in words."""
    if value is None or value == "":
        return "—"
    if field in ("is_met", "override_met"):
        return _("Met") if value else _("Not met")
    if field == "state":
        return str(State(value).label) if value in State.values else value
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if field == "inputs" and isinstance(value, dict):
        return _summarise_entry(value)
    if isinstance(value, dict | list):
        text = json.dumps(value, ensure_ascii=False)
        return text if len(text) <= 160 else text[:157] + "…"
    return str(value)


def _tick(answer) -> str:
    if answer is True:
        return "✓"
    if answer is False:
        return "✗"
    return "?" if answer in (None, "") else f"={answer}"


def _summarise_entry(inputs: dict) -> str:
    """An entry in a line: the value, each condition ✓/✗/?/=number, and the village cells
    counted by answer (yes, no, a number, not entered yet)."""
    parts = []
    if "value" in inputs:
        parts.append(change_value(inputs["value"]))
    conditions = inputs.get("conditions") or {}
    if conditions:
        ticks = " ".join(f"{code}{_tick(answer)}" for code, answer in conditions.items())
        parts.append(_("conditions %(ticks)s") % {"ticks": ticks})
    villages = inputs.get("villages") or {}
    if villages:
        parts.append(_summarise_villages(villages))
    return "; ".join(parts) or "—"


def _summarise_villages(villages: dict) -> str:
    """'villages: 7 yes, 1 no, 4 not entered' — only the answers that occur."""
    cells = [answer for answers in villages.values() for answer in (answers or {}).values()]
    yes = sum(1 for answer in cells if answer is True)
    no = sum(1 for answer in cells if answer is False)
    blank = sum(1 for answer in cells if answer is None or answer == "")
    numbers = len(cells) - yes - no - blank
    counts = [
        (yes, _("%(n)s yes")),
        (no, _("%(n)s no")),
        (numbers, _("%(n)s numbers")),
        (blank, _("%(n)s not entered")),
    ]
    answered = ", ".join(words % {"n": n} for n, words in counts if n)
    return _("villages: %(answers)s") % {"answers": answered or _("nothing entered")}
