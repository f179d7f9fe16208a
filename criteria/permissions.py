"""Who may see and change which criteria set, declared once.

A set belongs to the nation (`owner_province_code` empty: the shipped sets, and any set the
national operator makes) or to one province (its code). Only the national operator, a
superuser, changes national sets: copies them as a new version, activates them, imports over
them, edits their indicators. A province administrator changes their own province's sets, and
may copy a national set into one (its code becomes `<code>-<province code>`, so activating it
never retires the national set other provinces use). Everyone sees the national sets and their
own province's; nobody outside the province sees a province's own set.

Views, services, templates (through the views' context) and the admin all read these functions.
The criteria app imports no other app, so the user is read by attribute only: `is_superuser`,
`role` and `province.code`.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from .models import CriteriaSet

NATIONAL = ""
# The value of assessments.Role.PROVINCE_ADMIN, which this app cannot import.
PROVINCE_ADMIN = "province_admin"
# CriteriaSet.code is a SlugField of 60 characters; the suffix is "-" and a province code.
_CODE_LENGTH = 60


def _is_operator(user) -> bool:
    """The national operator: an active superuser."""
    return bool(user.is_authenticated and user.is_active and user.is_superuser)


def _province_code(user) -> str | None:
    province = getattr(user, "province", None) if user.is_authenticated else None
    return province.code if province is not None else None


def _is_province_admin(user) -> bool:
    return bool(
        user.is_authenticated
        and user.is_active
        and getattr(user, "role", "") == PROVINCE_ADMIN
        and _province_code(user)
    )


def visible_sets(user, sets: QuerySet[CriteriaSet] | None = None) -> QuerySet[CriteriaSet]:
    """Of `sets` (all sets by default), those the user sees: the national sets and their own
    province's; a superuser sees every set."""
    sets = CriteriaSet.objects.all() if sets is None else sets
    if _is_operator(user):
        return sets
    return sets_of_province(_province_code(user), sets)


def may_see_set(user, criteria_set: CriteriaSet) -> bool:
    """The same rule as `visible_sets`, for a set already fetched."""
    if _is_operator(user):
        return True
    return criteria_set.owner_province_code in (NATIONAL, _province_code(user))


def sets_of_province(
    province_code: str | None, sets: QuerySet[CriteriaSet] | None = None
) -> QuerySet[CriteriaSet]:
    """The sets a province may use (in its periods, for its commune groups): the national sets
    and its own."""
    sets = CriteriaSet.objects.all() if sets is None else sets
    owners = Q(owner_province_code=NATIONAL)
    if province_code:
        owners |= Q(owner_province_code=province_code)
    return sets.filter(owners)


def may_change_set(user, criteria_set: CriteriaSet) -> bool:
    """Copy as a new version, activate, import over, edit indicators: the national operator for
    a national set, the province's administrator (or the operator) for a province's own set."""
    if _is_operator(user):
        return True
    owner = criteria_set.owner_province_code
    return owner != NATIONAL and _is_province_admin(user) and owner == _province_code(user)


def may_copy_into_province(user, criteria_set: CriteriaSet) -> bool:
    """A province administrator may copy a national set into their province's own set."""
    return criteria_set.owner_province_code == NATIONAL and _is_province_admin(user)


def may_import_sets(user) -> bool:
    """May upload a workbook at all (which set it may write is `may_import_as`)."""
    return _is_operator(user) or _is_province_admin(user)


def may_import_as(user, code: str) -> bool:
    """May a workbook with this set code be imported: a new code (it becomes the importer's),
    or the code of a set the user may change."""
    existing = CriteriaSet.objects.filter(code=code).order_by("-version").first()
    if existing is None:
        return may_import_sets(user)
    return may_change_set(user, existing)


def owner_of_new_set(user) -> str:
    """Whose a set the user creates from a workbook is: the nation's for the operator, else
    the administrator's province's."""
    return NATIONAL if _is_operator(user) else (_province_code(user) or NATIONAL)


def province_copy_code(criteria_set: CriteriaSet, province_code: str) -> str:
    """The code of a province's own copy of a national set: `<code>-<province code>`."""
    suffix = f"-{province_code}"
    return criteria_set.code[: _CODE_LENGTH - len(suffix)] + suffix
