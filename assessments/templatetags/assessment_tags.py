"""Formatting of recorded values for the history table (no queries here)."""

from __future__ import annotations

import json

from django import template
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from assessments.models import State

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
}


@register.filter
def change_field(name: str) -> str:
    return _(FIELD_LABELS.get(name, name))


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
    if isinstance(value, dict | list):
        text = json.dumps(value, ensure_ascii=False)
        return text if len(text) <= 160 else text[:157] + "…"
    return str(value)
