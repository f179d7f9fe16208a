"""What was entered for an indicator, for reading (the reviewer's page, the scorecard)."""

from __future__ import annotations

from django import template

from assessments.scoring import Entered, entered

register = template.Library()


@register.simple_tag
def entered_answers(indicator, target, villages, result) -> Entered:
    """The answers of `result` (an IndicatorResult, or None) as scoring.entered() reads them;
    the indicator's conditions and the villages are those the page has already read."""
    return entered(indicator, target, villages or [], result.inputs if result else {})
