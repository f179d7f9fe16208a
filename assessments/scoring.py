"""Deciding met / not met from what was entered and the target, and saying why in words.

The decision is a pure function of the indicator (with its conditions and targets), the
commune's region, its villages and the entry, so it is the same wherever it is computed.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from criteria.models import Condition, Indicator, Target

# Decision 318/QĐ-TTg: extremely difficult communes (and safe-zone communes of poor districts)
# use the targets of the Northern Midlands and Mountains region.
DIFFICULT_COMMUNE_REGION = "trung-du-mien-nui-phia-bac"


@dataclass(frozen=True)
class Decision:
    met: bool | None  # None: not enough has been entered to decide
    reason: str


def target_for(indicator: Indicator, region_code: str | None) -> Target | None:
    """The region's target if the set has one, else the general target."""
    targets = list(indicator.targets.all())
    by_region = {t.region.code: t for t in targets if t.region_id}
    general = next((t for t in targets if not t.region_id and not t.commune_group_id), None)
    return by_region.get(region_code or "", general)


def region_for(commune) -> str | None:
    if commune.is_extremely_difficult:
        return DIFFICULT_COMMUNE_REGION
    province = commune.province
    return province.region.code if province.region_id else None


def _number(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _reaches(value: Decimal, threshold: Decimal, comparison: str) -> bool:
    return value <= threshold if comparison == Indicator.Comparison.AT_MOST else value >= threshold


def _fmt(number: Decimal) -> str:
    return f"{number.normalize():f}".replace(".", ",")


def _comparison_sign(comparison: str) -> str:
    return "≤" if comparison == Indicator.Comparison.AT_MOST else "≥"


def condition_holds(condition: Condition, value: Any, comparison: str) -> bool | None:
    """A condition's answer: a tick, or a number against the condition's threshold."""
    if condition.threshold is not None:
        number = _number(value)
        return None if number is None else _reaches(number, condition.threshold, comparison)
    if value is None or value == "":
        return None
    return bool(value)


def _missing_groups(conditions: list[Condition], answers: dict, comparison: str):
    """(unanswered, failed) lists of labels: a condition's text, or its alternatives' group."""
    unanswered, failed = [], []
    groups: dict[str, list[bool | None]] = {}
    for condition in conditions:
        held = condition_holds(condition, answers.get(condition.code), comparison)
        if condition.alternative_group:
            groups.setdefault(condition.alternative_group, []).append(held)
        elif held is None:
            unanswered.append(condition.text)
        elif not held:
            failed.append(condition.text)
    for group, answers_in_group in groups.items():
        if any(answers_in_group):
            continue
        if None in answers_in_group:
            unanswered.append(group)
        else:
            failed.append(group)
    return unanswered, failed


def decide(indicator: Indicator, region_code: str | None, villages: list, inputs: dict) -> Decision:
    target = target_for(indicator, region_code)
    value_type = indicator.value_type
    if value_type == Indicator.ValueType.YES_NO:
        value = inputs.get("value")
        if value is None:
            return Decision(None, _("Not entered yet."))
        return Decision(bool(value), _("Met.") if value else _("Not met."))
    if value_type in (Indicator.ValueType.NUMBER, Indicator.ValueType.PERCENTAGE):
        value = _number(inputs.get("value"))
        if value is None:
            return Decision(None, _("Not entered yet."))
        if target is None or target.threshold is None:
            return Decision(None, _("The set has no threshold for this indicator."))
        unit = "%" if value_type == Indicator.ValueType.PERCENTAGE else f" {indicator.unit}"
        met = _reaches(value, target.threshold, indicator.comparison)
        words = _("%(value)s%(unit)s, target %(sign)s %(threshold)s%(unit)s") % {
            "value": _fmt(value),
            "unit": unit.rstrip(),
            "sign": _comparison_sign(indicator.comparison),
            "threshold": _fmt(target.threshold),
        }
        return Decision(
            met, (_("Met: %(why)s.") if met else _("Not met: %(why)s.")) % {"why": words}
        )
    conditions = list(indicator.conditions.all())
    commune_conditions = [c for c in conditions if c.scope == Condition.Scope.COMMUNE]
    answers = inputs.get("conditions") or {}
    unanswered, failed = _missing_groups(commune_conditions, answers, indicator.comparison)
    if value_type == Indicator.ValueType.CHECKLIST:
        return _checklist_decision(len(conditions), unanswered, failed)
    return _village_decision(indicator, target, villages, inputs, unanswered, failed)


def _checklist_decision(total: int, unanswered: list[str], failed: list[str]) -> Decision:
    if failed:
        return Decision(
            False,
            _("Not met: %(conditions)s.") % {"conditions": "; ".join(failed)},
        )
    if unanswered:
        return Decision(
            None, _("Still to enter: %(conditions)s.") % {"conditions": "; ".join(unanswered)}
        )
    return Decision(True, _("Met: all %(n)s conditions hold.") % {"n": total})


def _village_decision(indicator, target, villages, inputs, unanswered, failed) -> Decision:
    village_conditions = [
        c for c in indicator.conditions.all() if c.scope == Condition.Scope.VILLAGE
    ]
    if not villages:
        return Decision(None, _("The commune has no villages yet: add them on the commune's page."))
    grid = inputs.get("villages") or {}
    lacking: dict[str, list[str]] = {}
    passing, blank = 0, []
    for village in villages:
        answers = grid.get(str(village.pk)) or {}
        v_unanswered, v_failed = _missing_groups(village_conditions, answers, indicator.comparison)
        if v_unanswered and not v_failed and not any(answers.values()):
            blank.append(village.name)
            continue
        for label in v_failed + v_unanswered:
            lacking.setdefault(label, []).append(village.name)
        if not v_failed and not v_unanswered:
            passing += 1
    total = len(villages)
    threshold = target.threshold if target and target.threshold is not None else Decimal(100)
    # shares are compared as percentages with two decimals: 2 of 3 villages is 66.67%
    share = _percent(passing, total)
    shortfalls = [
        _("%(n)s/%(total)s villages lack %(what)s (%(names)s)")
        % {"n": len(names), "total": total, "what": what, "names": ", ".join(names)}
        for what, names in lacking.items()
    ]
    if failed:
        shortfalls.insert(0, "; ".join(failed))
    summary = _(
        "%(passing)s/%(total)s villages meet the conditions (target %(sign)s %(threshold)s%%)"
    ) % {
        "passing": passing,
        "total": total,
        "sign": _comparison_sign(indicator.comparison),
        "threshold": _fmt(threshold),
    }
    if blank:
        shortfalls.append(
            _("no data yet for %(n)s villages (%(names)s)")
            % {"n": len(blank), "names": ", ".join(blank)}
        )
    if failed:
        return Decision(False, _("Not met: %(detail)s.") % {"detail": "; ".join(shortfalls)})
    if _reaches(share, threshold, indicator.comparison) and not unanswered:
        return Decision(True, _("Met: %(summary)s.") % {"summary": summary})
    if not _could_still_reach(passing, len(blank), total, threshold):
        return Decision(
            False,
            _("Not met: %(summary)s; %(detail)s.")
            % {"summary": summary, "detail": "; ".join(shortfalls)},
        )
    if unanswered:
        shortfalls.append(_("still to enter: %(c)s") % {"c": "; ".join(unanswered)})
    return Decision(None, _("Not decided yet: %(detail)s.") % {"detail": "; ".join(shortfalls)})


def _could_still_reach(passing: int, blank: int, total: int, threshold: Decimal) -> bool:
    """Whether villages without data could still lift the share to the threshold."""
    return _percent(passing + blank, total) >= threshold


def _percent(part: int, total: int) -> Decimal:
    return (Decimal(part * 100) / Decimal(total)).quantize(Decimal("0.01"))
