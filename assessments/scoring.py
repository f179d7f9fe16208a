"""Deciding met / not met from what was entered and the target, and saying why in words.

The decision is a pure function of the indicator (with its conditions and targets), the
commune's region, its villages and the entry, so it is the same wherever it is computed.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from criteria.models import Condition, Indicator, Target


@dataclass(frozen=True)
class Decision:
    met: bool | None  # None: not enough has been entered to decide
    reason: str


@dataclass(frozen=True)
class TargetKey:
    """Which of an indicator's targets applies to a commune: its region's (or the special
    region's, see CriteriaSet.special_region), or its commune group's for sets whose targets go
    by group. `by_group` with no `group_code`: the commune has not been put in a group yet."""

    region_code: str | None = None
    by_group: bool = False
    group_code: str | None = None

    @property
    def ungrouped(self) -> bool:
        return self.by_group and not self.group_code


def region_for(commune, criteria_set) -> str | None:
    """The commune's region for the set's targets; the set's special rule (data, with its legal
    basis) sends flagged communes to another region's targets."""
    special = criteria_set.special_region if criteria_set.special_region_id else None
    if special and any(getattr(commune, f, False) for f in criteria_set.special_region_flags):
        return special.code
    province = commune.province
    return province.region.code if province.region_id else None


def target_key(commune, criteria_set, group_code: str | None = None) -> TargetKey:
    if criteria_set.target_basis == criteria_set.TargetBasis.COMMUNE_GROUP:
        return TargetKey(by_group=True, group_code=group_code or None)
    return TargetKey(region_code=region_for(commune, criteria_set))


def target_for(indicator: Indicator, key: TargetKey | str | None) -> Target | None:
    """The commune group's or the region's target if the set has one, else the general one.
    A plain string is a region code."""
    key = TargetKey(region_code=key) if isinstance(key, str) else key or TargetKey()
    targets = list(indicator.targets.all())
    general = next((t for t in targets if not t.region_id and not t.commune_group_id), None)
    if key.by_group:
        by_group = {t.commune_group.code: t for t in targets if t.commune_group_id}
        return by_group.get(key.group_code or "", None if by_group else general)
    by_region = {t.region.code: t for t in targets if t.region_id}
    return by_region.get(key.region_code or "", general)


def ungrouped_decision() -> Decision:
    return Decision(
        None,
        _(
            "The commune has no commune group for this set yet (chưa xếp nhóm): the province "
            "administrator sets it on the commune's page."
        ),
    )


def _number(value: Any) -> Decimal | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _reaches(value: Decimal, threshold: Decimal, comparison: str) -> bool:
    return value <= threshold if comparison == Indicator.Comparison.AT_MOST else value >= threshold


def _fmt(number: Decimal) -> str:
    return f"{number.normalize():f}".replace(".", ",")


def _comparison_sign(comparison: str) -> str:
    return "≤" if comparison == Indicator.Comparison.AT_MOST else "≥"


def is_share(indicator: Indicator, condition: Condition | None = None) -> bool:
    """Whether a number entered for the indicator, or for one of its conditions, is a share (%).

    A condition has no unit of its own: the sets mark a share condition with "%" in its text
    ("Tỷ lệ hồ sơ công việc được xử lý trên môi trường mạng (%)").
    """
    if condition is None:
        return indicator.value_type == Indicator.ValueType.PERCENTAGE
    return indicator.value_type == Indicator.ValueType.PERCENTAGE or "%" in condition.text


def impossible_number(number: Decimal, *, share: bool) -> str | None:
    """Why a number cannot be an answer (a share outside 0–100, a negative count), or None.

    The form, the Excel import and the decision share this rule.
    """
    if share and not 0 <= number <= 100:
        return _("%(value)s%% is not possible: a share is between 0 and 100%%.") % {
            "value": _fmt(number)
        }
    if number < 0:
        return _("%(value)s is not possible: a count cannot be below 0.") % {"value": _fmt(number)}
    return None


def condition_holds(condition: Condition, value: Any, comparison: str) -> bool | None:
    """A condition's answer: yes (True), no (False), or not entered yet (None).

    A condition with a threshold is answered by a number compared with the threshold; any
    other condition by True or False. A missing key, None or "" is "not entered yet", never no.
    """
    if condition.threshold is not None:
        number = _number(value)
        return None if number is None else _reaches(number, condition.threshold, comparison)
    if value is None or value == "":
        return None
    return bool(value)


def _missing_groups(conditions: list[Condition], answers: dict, comparison: str):
    """(unanswered, failed) lists of labels: a condition's text, or its alternatives' group.

    A group of alternatives fails only when every alternative is answered no; while one of
    them is not entered yet and none is yes, the group is unanswered.
    """
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


def _impossible_answers(indicator: Indicator, conditions: list[Condition], inputs: dict):
    """Labelled reasons why numbers in the entry cannot be right (stored before the checks)."""
    problems = []
    if indicator.value_type in (Indicator.ValueType.NUMBER, Indicator.ValueType.PERCENTAGE):
        number = _number(inputs.get("value"))
        problem = number is not None and impossible_number(number, share=is_share(indicator))
        return [problem] if problem else []
    answers = inputs.get("conditions") or {}
    rows = [answers, *(inputs.get("villages") or {}).values()]
    for condition in conditions:
        if condition.threshold is None:
            continue
        for row in rows:
            number = _number((row or {}).get(condition.code))
            problem = number is not None and impossible_number(
                number, share=is_share(indicator, condition)
            )
            if problem:
                problems.append(f"{condition.text}: {problem}")
                break
    return problems


def decide(
    indicator: Indicator, key: TargetKey | str | None, villages: list, inputs: dict
) -> Decision:
    if isinstance(key, TargetKey) and key.ungrouped:
        return ungrouped_decision()
    target = target_for(indicator, key)
    value_type = indicator.value_type
    conditions = list(indicator.conditions.all())
    if value_type != Indicator.ValueType.YES_NO:
        impossible = _impossible_answers(indicator, conditions, inputs)
        if impossible:
            return Decision(
                None, _("Not decided: %(problems)s") % {"problems": " ".join(impossible)}
            )
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
    commune_conditions = [c for c in conditions if c.scope == Condition.Scope.COMMUNE]
    answers = inputs.get("conditions") or {}
    unanswered, failed = _missing_groups(commune_conditions, answers, indicator.comparison)
    if value_type == Indicator.ValueType.CHECKLIST:
        return _checklist_decision(len(conditions), unanswered, failed)
    return _village_decision(indicator, target, villages, inputs, unanswered, failed)


def _checklist_decision(total: int, unanswered: list[str], failed: list[str]) -> Decision:
    """All conditions must hold: one answered no decides "not met"; a gap leaves it undecided."""
    if failed:
        reason = _("Not met: %(conditions)s.") % {"conditions": "; ".join(failed)}
        if unanswered:
            reason += " " + _("Still to enter: %(conditions)s.") % {
                "conditions": "; ".join(unanswered)
            }
        return Decision(False, reason)
    if unanswered:
        return Decision(
            None, _("Still to enter: %(conditions)s.") % {"conditions": "; ".join(unanswered)}
        )
    return Decision(True, _("Met: all %(n)s conditions hold.") % {"n": total})


def _village_decision(indicator, target, villages, inputs, unanswered, failed) -> Decision:
    """The share of villages meeting their conditions against the target share.

    Each village passes (every condition or group holds), fails (one is answered no) or is
    undecided (nothing answered no, something not entered yet). Undecided villages are named
    as such; the indicator is decided only when it comes out the same whichever way they go.
    """
    village_conditions = [
        c for c in indicator.conditions.all() if c.scope == Condition.Scope.VILLAGE
    ]
    if not villages:
        return Decision(None, _("The commune has no villages yet: add them on the commune's page."))
    grid = inputs.get("villages") or {}
    lacking: dict[str, list[str]] = {}
    passing, undecided = 0, []
    for village in villages:
        answers = grid.get(str(village.pk)) or {}
        v_unanswered, v_failed = _missing_groups(village_conditions, answers, indicator.comparison)
        if v_failed:
            for label in v_failed:
                lacking.setdefault(label, []).append(village.name)
        elif v_unanswered:
            undecided.append(village.name)
        else:
            passing += 1
    total = len(villages)
    threshold = target.threshold if target and target.threshold is not None else Decimal(100)
    # shares are compared as percentages with two decimals: 2 of 3 villages is 66.67%
    if_none_pass = _reaches(_percent(passing, total), threshold, indicator.comparison)
    if_all_pass = _reaches(
        _percent(passing + len(undecided), total), threshold, indicator.comparison
    )
    shortfalls = [
        _("%(n)s/%(total)s villages lack %(what)s (%(names)s)")
        % {"n": len(names), "total": total, "what": what, "names": ", ".join(names)}
        for what, names in lacking.items()
    ]
    if undecided:
        shortfalls.append(
            ngettext(
                "not fully entered for %(n)s village (%(names)s)",
                "not fully entered for %(n)s villages (%(names)s)",
                len(undecided),
            )
            % {"n": len(undecided), "names": ", ".join(undecided)}
        )
    summary = _(
        "%(passing)s/%(total)s villages meet the conditions (target %(sign)s %(threshold)s%%)"
    ) % {
        "passing": passing,
        "total": total,
        "sign": _comparison_sign(indicator.comparison),
        "threshold": _fmt(threshold),
    }
    if failed:
        return Decision(
            False, _("Not met: %(detail)s.") % {"detail": "; ".join([*failed, *shortfalls])}
        )
    if if_none_pass and if_all_pass and not unanswered:
        # the undecided villages cannot change the result, but the officer should see them
        detail = [summary, *shortfalls[len(lacking) :]]
        return Decision(True, _("Met: %(summary)s.") % {"summary": "; ".join(detail)})
    if not if_none_pass and not if_all_pass:
        return Decision(
            False, _("Not met: %(detail)s.") % {"detail": "; ".join([summary, *shortfalls])}
        )
    if unanswered:
        shortfalls.append(_("still to enter: %(c)s") % {"c": "; ".join(unanswered)})
    return Decision(None, _("Not decided yet: %(detail)s.") % {"detail": "; ".join(shortfalls)})


def _percent(part: int, total: int) -> Decimal:
    return (Decimal(part * 100) / Decimal(total)).quantize(Decimal("0.01"))


# ---------------------------------------------------------------- what was entered, read-only
# The reviewer and the scorecard see the answers the decision was made from, in the words and
# with the targets the decision uses (condition_holds, _missing_groups), never re-decided.


@dataclass(frozen=True)
class Answer:
    """One entered answer as shown: its label, the answer in words ("Có", "Không", "Chưa nhập",
    or the number with its unit), whether it holds (None: not entered, or no target) and the
    target it is compared with ("" where there is none)."""

    label: str
    shown: str
    holds: bool | None = None
    target: str = ""


@dataclass(frozen=True)
class VillageAnswers:
    name: str
    answers: list[Answer]
    met: bool | None  # the village meets its conditions; None: something not entered yet
    lacking: list[str]  # what it lacks (a condition's text, or its alternatives' group)


@dataclass(frozen=True)
class Entered:
    answers: list[Answer]  # the indicator's own value, or its commune conditions
    village_conditions: list[Condition]
    villages: list[VillageAnswers]
    village_target: str = ""  # the share of villages that must meet them

    @property
    def passing(self) -> int:
        return sum(1 for v in self.villages if v.met)

    @property
    def not_met(self) -> list[VillageAnswers]:
        return [v for v in self.villages if v.met is False]

    @property
    def undecided(self) -> list[VillageAnswers]:
        return [v for v in self.villages if v.met is None]


def _yes_no(value) -> str:
    if value is None or value == "":
        return _("Not entered")
    return _("Yes") if value else _("No")


def _with_unit(number: Decimal, unit: str) -> str:
    return f"{_fmt(number)}{unit}" if unit == "%" else f"{_fmt(number)} {unit}".rstrip()


def _condition_answer(indicator: Indicator, condition: Condition, value) -> Answer:
    held = condition_holds(condition, value, indicator.comparison)
    if condition.threshold is None:
        return Answer(condition.text, _yes_no(value), held)
    unit = "%" if is_share(indicator, condition) else ""
    number = _number(value)
    return Answer(
        condition.text,
        _with_unit(number, unit) if number is not None else _("Not entered"),
        held,
        f"{_comparison_sign(indicator.comparison)} {_with_unit(condition.threshold, unit)}",
    )


def entered(indicator: Indicator, target: Target | None, villages: list, inputs: dict) -> Entered:
    """What was entered for the indicator, answer by answer, for reading (see decide())."""
    inputs = inputs or {}
    value_type = indicator.value_type
    if value_type == Indicator.ValueType.YES_NO:
        value = inputs.get("value")
        held = None if value is None else bool(value)
        return Entered([Answer(_("Answer"), _yes_no(value), held)], [], [])
    if value_type in (Indicator.ValueType.NUMBER, Indicator.ValueType.PERCENTAGE):
        unit = "%" if value_type == Indicator.ValueType.PERCENTAGE else indicator.unit
        number = _number(inputs.get("value"))
        threshold = target.threshold if target is not None else None
        held = None
        if number is not None and threshold is not None:
            held = _reaches(number, threshold, indicator.comparison)
        wanted = ""
        if threshold is not None:
            wanted = f"{_comparison_sign(indicator.comparison)} {_with_unit(threshold, unit)}"
        shown = _with_unit(number, unit) if number is not None else _("Not entered")
        return Entered([Answer(indicator.content, shown, held, wanted)], [], [])
    conditions = list(indicator.conditions.all())
    answers = inputs.get("conditions") or {}
    commune = [
        _condition_answer(indicator, c, answers.get(c.code))
        for c in conditions
        if c.scope == Condition.Scope.COMMUNE
    ]
    in_villages = [c for c in conditions if c.scope == Condition.Scope.VILLAGE]
    if not in_villages:
        return Entered(commune, [], [])
    grid = inputs.get("villages") or {}
    rows = []
    for village in villages:
        row = grid.get(str(village.pk)) or {}
        unanswered, failed = _missing_groups(in_villages, row, indicator.comparison)
        rows.append(
            VillageAnswers(
                village.name,
                [_condition_answer(indicator, c, row.get(c.code)) for c in in_villages],
                False if failed else None if unanswered else True,
                failed,
            )
        )
    threshold = target.threshold if target and target.threshold is not None else Decimal(100)
    share = f"{_comparison_sign(indicator.comparison)} {_with_unit(threshold, '%')}"
    return Entered(commune, in_villages, rows, share)
