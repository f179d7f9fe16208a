"""Changes to criteria sets that span several rows: new versions, activation, loading files,
and a draft's indicators edited in pages."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Max, ProtectedError
from django.utils.translation import gettext as _

from . import permissions
from .models import CommuneGroup, Condition, CriteriaSet, Indicator, Region, Target
from .signals import SetAction, draft_changed, set_changed
from .specs import save_spec, spec_from_set


class SetNotReady(Exception):
    """The draft cannot be activated yet; `problems` says why, in words."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


class SetNotEditable(Exception):
    """Only a draft's indicators may change."""


def _require(allowed: bool) -> None:
    """Services refuse what criteria.permissions refuses, whoever calls them."""
    if not allowed:
        raise PermissionDenied(_("Only the national operator changes a national criteria set."))


def _changed(criteria_set: CriteriaSet, user, action: str, ip: str | None, **details) -> None:
    set_changed.send(
        sender=CriteriaSet,
        criteria_set=criteria_set,
        user=user,
        action=action,
        details=details,
        ip=ip,
    )


@transaction.atomic
def copy_as_new_version(
    *, criteria_set: CriteriaSet, user=None, ip: str | None = None
) -> CriteriaSet:
    """A draft copy of the set with the next free version number, ready to be edited.

    With a user, only one who may change the set (criteria.permissions) may copy it: the copy
    is the same set's next version, and activating it retires the one in use."""
    if user is not None:
        _require(permissions.may_change_set(user, criteria_set))
    copy = _copy(criteria_set, code=criteria_set.code, owner=criteria_set.owner_province_code)
    _changed(copy, user, SetAction.COPY, ip, copied_from=_label(criteria_set))
    return copy


@transaction.atomic
def copy_into_province(*, criteria_set: CriteriaSet, user, ip: str | None = None) -> CriteriaSet:
    """A draft copy of a national set as the administrator's province's own set.

    The copy's code is `<code>-<province code>`: a set of its own, so activating it retires
    nothing another province uses. Copying again gives the province's set a next version. The
    province's communes keep their commune groups: the assessments app copies them from the
    national code to the new one when it hears of the copy (`set_changed`).
    """
    _require(permissions.may_copy_into_province(user, criteria_set))
    province_code = user.province.code
    code = permissions.province_copy_code(criteria_set, province_code)
    copy = _copy(criteria_set, code=code, owner=province_code)
    _changed(
        copy,
        user,
        SetAction.COPY_TO_PROVINCE,
        ip,
        copied_from=_label(criteria_set),
        from_code=criteria_set.code,
    )
    return copy


def _copy(criteria_set: CriteriaSet, *, code: str, owner: str) -> CriteriaSet:
    spec = spec_from_set(criteria_set)
    latest = CriteriaSet.objects.filter(code=code).aggregate(v=Max("version"))["v"]
    spec["code"], spec["version"] = code, (latest or 0) + 1
    copy, _outcome = save_spec(spec, status=CriteriaSet.Status.DRAFT)
    copy.previous_version = criteria_set
    copy.owner_province_code = owner
    copy.save(update_fields=["previous_version", "owner_province_code"])
    return copy


def _label(criteria_set: CriteriaSet) -> str:
    return f"{criteria_set.code} v{criteria_set.version}"


@transaction.atomic
def import_spec(*, spec: dict, user, ip: str | None = None) -> tuple[CriteriaSet, str]:
    """Write an uploaded workbook's spec as a draft (see specs.save_spec for the outcomes).

    Only a user who may change the set of that code imports over it; a new code becomes the
    importer's set (national for the operator, else their province's own)."""
    _require(permissions.may_import_as(user, spec["code"]))
    criteria_set, outcome = save_spec(spec, status=CriteriaSet.Status.DRAFT)
    if outcome == "created":
        owner = CriteriaSet.objects.filter(code=spec["code"]).exclude(pk=criteria_set.pk).first()
        criteria_set.owner_province_code = (
            owner.owner_province_code if owner else permissions.owner_of_new_set(user)
        )
        criteria_set.save(update_fields=["owner_province_code"])
    if outcome != "unchanged":
        _changed(criteria_set, user, SetAction.IMPORT, ip, outcome=outcome)
    return criteria_set, outcome


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
def activate(*, criteria_set: CriteriaSet, user=None, ip: str | None = None) -> CriteriaSet:
    """Make a draft the active version of its set; the version active until now retires.

    Raises SetNotReady while an indicator of a set whose targets go by commune group lacks the
    target of some group: a commune of that group could not be scored. With a user, only one
    who may change the set activates it.
    """
    if user is not None:
        _require(permissions.may_change_set(user, criteria_set))
    locked = CriteriaSet.objects.select_for_update().get(pk=criteria_set.pk)
    if locked.status != CriteriaSet.Status.DRAFT:
        raise ValueError("only a draft can be activated")
    problems = activation_problems(locked)
    if problems:
        raise SetNotReady(problems)
    retired = CriteriaSet.objects.filter(code=locked.code, status=CriteriaSet.Status.ACTIVE)
    retired_versions = sorted(retired.values_list("version", flat=True))
    retired.update(status=CriteriaSet.Status.RETIRED)
    locked.status = CriteriaSet.Status.ACTIVE
    locked.save(update_fields=["status", "updated_at"])
    _changed(locked, user, SetAction.ACTIVATE, ip, retired_versions=retired_versions)
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
    ip: str | None = None,
) -> Indicator:
    """Save a draft's indicator (new or changed) with its whole list of conditions and targets.

    The conditions and targets replace the indicator's old ones: nothing refers to a draft's
    rows yet. With a user, only one who may change the set saves.
    """
    if user is not None:
        _require(permissions.may_change_set(user, indicator.criterion.criteria_set))
    locked = _lock_draft(indicator.criterion.criteria_set)
    locked.save(update_fields=["updated_at"])
    action = SetAction.INDICATOR_CHANGE if indicator.pk else SetAction.INDICATOR_ADD
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
    _changed(locked, user, action, ip, indicator=indicator.code)
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
def delete_indicator(*, indicator: Indicator, user=None, ip: str | None = None) -> None:
    """Delete a draft's indicator with its conditions and targets; refused (SetNotEditable)
    when results were already entered for it."""
    if user is not None:
        _require(permissions.may_change_set(user, indicator.criterion.criteria_set))
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
    _changed(locked, user, SetAction.INDICATOR_DELETE, ip, indicator=indicator.code)
