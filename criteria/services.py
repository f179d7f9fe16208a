"""Changes to criteria sets that span several rows: new versions, activation, loading files."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Max

from .models import CriteriaSet
from .specs import save_spec, spec_from_set


@transaction.atomic
def copy_as_new_version(*, criteria_set: CriteriaSet) -> CriteriaSet:
    """A draft copy of the set with the next free version number, ready to be edited."""
    spec = spec_from_set(criteria_set)
    latest = CriteriaSet.objects.filter(code=criteria_set.code).aggregate(v=Max("version"))["v"]
    spec["version"] = latest + 1
    copy, _ = save_spec(spec, status=CriteriaSet.Status.DRAFT)
    copy.previous_version = criteria_set
    copy.save(update_fields=["previous_version"])
    return copy


@transaction.atomic
def activate(*, criteria_set: CriteriaSet) -> CriteriaSet:
    """Make a draft the active version of its set; the version active until now retires."""
    locked = CriteriaSet.objects.select_for_update().get(pk=criteria_set.pk)
    if locked.status != CriteriaSet.Status.DRAFT:
        raise ValueError("only a draft can be activated")
    CriteriaSet.objects.filter(code=locked.code, status=CriteriaSet.Status.ACTIVE).update(
        status=CriteriaSet.Status.RETIRED
    )
    locked.status = CriteriaSet.Status.ACTIVE
    locked.save(update_fields=["status", "updated_at"])
    return locked
