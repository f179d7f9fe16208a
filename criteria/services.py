"""Changes to criteria sets that span several rows: new versions, activation, loading files,
and a draft's indicators edited in pages."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Max, ProtectedError
from django.utils.translation import gettext as _

from .models import CommuneGroup, Condition, CriteriaSet, Indicator, Region, Target
from .signals import draft_changed
from .specs import save_spec, spec_from_set


class SetNotReady(Exception):
    """The draft cannot be activated yet; `problems` says why, in words."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


class SetNotEditable(Exception):
    """Only a draft's indicators may change."""


@transaction.atomic
def copy_as_new_version(*, criteria_set: CriteriaSet) -> CriteriaSet:
    """A draft copy of the set with the next free version number, ready to be edited."""
    spec = spec_from_set(criteria_set)
    latest = CriteriaSet.objects.filter(code=criteria_set.code).aggregate(v=Max("version"))["v"]
    spec["version"] = latest + 1
    copy, _outcome = save_spec(spec, status=CriteriaSet.Status.DRAFT)
    copy.previous_version = criteria_set
    copy.save(update_fields=["previous_version"])
    return copy


def activation_problems(criteria_set: CriteriaSet) -> list[str]:
    """Why the draft cannot be used for scoring yet: empty when it can."""
    indicators = Indicator.objects.filter(criterion__criteria_set=criteria_set)
    if not indicators.exists():
        return [_("The set has no indicator yet: add the indicators before activating it.")]
    if criteria_set.target_basis != CriteriaSet.TargetBasis.COMMUNE_GROUP:
        return []
    groups = list(criteria_set.commune_groups.all())
    if not groups:
        return [_("Targets go by commune group, but the set has no commune group.")]
    indicators = indicators.prefetch_related("targets")
    problems = []
    for indicator in indicators.order_by("criterion__order", "order"):
        have = {t.commune_group_id for t in indicator.targets.all()}
        missing = [g.name for g in groups if g.pk not in have]
        if missing:
            problems.append(
                _("Indicator %(code)s has no target for: %(groups)s.")
                % {"code": indicator.code, "groups": ", ".join(missing)}
            )
    return problems


@transaction.atomic
def activate(*, criteria_set: CriteriaSet) -> CriteriaSet:
    """Make a draft the active version of its set; the version active until now retires.

    Raises SetNotReady while an indicator of a set whose targets go by commune group lacks the
    target of some group: a commune of that group could not be scored.
    """
    locked = CriteriaSet.objects.select_for_update().get(pk=criteria_set.pk)
    if locked.status != CriteriaSet.Status.DRAFT:
        raise ValueError("only a draft can be activated")
    problems = activation_problems(locked)
    if problems:
        raise SetNotReady(problems)
    CriteriaSet.objects.filter(code=locked.code, status=CriteriaSet.Status.ACTIVE).update(
        status=CriteriaSet.Status.RETIRED
    )
    locked.status = CriteriaSet.Status.ACTIVE
    locked.save(update_fields=["status", "updated_at"])
    return locked


@transaction.atomic
def retire_replaced_versions(
    *, criteria_set: CriteriaSet, versions: list[int]
) -> list[CriteriaSet]:
    """Retire the listed active versions of the set's code; returns those it retired.

    A shipped file names the versions it withdraws (the advanced set's version 1 claimed more
    than its sources say). Nothing is deleted: assessments and periods that use a retired
    version keep it; it can no longer be chosen for a new period.
    """
    retired = list(
        CriteriaSet.objects.select_for_update().filter(
            code=criteria_set.code, version__in=versions, status=CriteriaSet.Status.ACTIVE
        )
    )
    for old in retired:
        old.status = CriteriaSet.Status.RETIRED
        old.save(update_fields=["status", "updated_at"])
    if retired and criteria_set.previous_version_id is None:
        criteria_set.previous_version = max(retired, key=lambda s: s.version)
        criteria_set.save(update_fields=["previous_version"])
    return retired


# ---------------------------------------------------------------- a draft's indicators


@dataclass(frozen=True)
class TargetValues:
    """One target as entered: for the whole set (no region, no group), a region or a group."""

    region: Region | None
    commune_group: CommuneGroup | None
    threshold: Decimal | None
    text: str
    source: str = ""
    to_confirm: bool = False
    to_confirm_note: str = ""


def _lock_draft(criteria_set: CriteriaSet) -> CriteriaSet:
    locked = CriteriaSet.objects.select_for_update().get(pk=criteria_set.pk)
    if not locked.is_editable:
        raise SetNotEditable(_("Only a draft can be changed. Copy the set as a new version."))
    return locked


@transaction.atomic
def save_indicator(
    *,
    indicator: Indicator,
    conditions: list[Condition],
    targets: list[TargetValues],
    user=None,
) -> Indicator:
    """Save a draft's indicator (new or changed) with its whole list of conditions and targets.

    The conditions and targets replace the indicator's old ones: nothing refers to a draft's
    rows yet.
    """
    locked = _lock_draft(indicator.criterion.criteria_set)
    locked.save(update_fields=["updated_at"])
    if indicator.pk is None:
        _make_room(indicator)
    indicator.save()
    indicator.conditions.all().delete()
    indicator.targets.all().delete()
    for order, condition in enumerate(conditions, start=1):
        condition.pk, condition.indicator, condition.order = None, indicator, order
    Condition.objects.bulk_create(conditions)
    Target.objects.bulk_create(
        Target(
            indicator=indicator,
            region=t.region,
            commune_group=t.commune_group,
            threshold=t.threshold,
            text=t.text,
            source=t.source,
            to_confirm=t.to_confirm,
            to_confirm_note=t.to_confirm_note if t.to_confirm else "",
        )
        for t in targets
    )
    draft_changed.send(sender=CriteriaSet, criteria_set=locked, user=user)
    return indicator


def _code_key(code: str) -> tuple:
    """ "7.10" after "7.9": numbers compare as numbers."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in code.split("."))


def _make_room(indicator: Indicator) -> None:
    """Place a new indicator among its criterion's by its code (7.3 between 7.2 and 7.4)."""
    siblings = list(Indicator.objects.filter(criterion=indicator.criterion).order_by("order"))
    later = [i for i in siblings if _code_key(i.code) > _code_key(indicator.code)]
    if not later:
        indicator.order = (siblings[-1].order if siblings else 0) + 1
        return
    indicator.order = later[0].order
    for sibling in siblings[siblings.index(later[0]) :]:
        sibling.order += 1
    Indicator.objects.bulk_update(siblings, ["order"])


@transaction.atomic
def delete_indicator(*, indicator: Indicator, user=None) -> None:
    """Delete a draft's indicator with its conditions and targets; refused (SetNotEditable)
    when results were already entered for it."""
    locked = _lock_draft(indicator.criterion.criteria_set)
    locked.save(update_fields=["updated_at"])
    try:
        with transaction.atomic():
            indicator.delete()
    except ProtectedError:
        raise SetNotEditable(
            _("Results were already entered for indicator %(code)s: it cannot be deleted.")
            % {"code": indicator.code}
        ) from None
    draft_changed.send(sender=CriteriaSet, criteria_set=locked, user=user)
