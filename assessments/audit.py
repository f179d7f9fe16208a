"""The audit log: who changed an account, a role, a period, a criteria set, a reviewer's communes,
commune groups or flags — what, when, and from where.

One function writes it, `record`, called by the services and views that make those changes (and,
for criteria sets, by the receiver of criteria.signals.set_changed: the criteria app cannot
import this one). Each entry belongs to a province — the account's, the period's, the commune's,
the set's owner — and that province's administrators read it (`entries_for`); a superuser reads
every entry, including those of national sets.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django import forms
from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.http import HttpRequest
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from criteria.models import CriteriaSet
from criteria.signals import SetAction, client_address

from .models import AuditEntry, Province, User
from .workflow import may_read_audit


class Action:
    """What an entry records. The part before the dot is its kind (the page filters by it)."""

    ACCOUNT_CREATE = "account.create"
    ACCOUNT_CHANGE = "account.change"
    ACCOUNT_ROLE = "account.role"
    ACCOUNT_PASSWORD = "account.password"  # noqa: S105 - the name of an action
    ACCOUNT_ADMIN = "account.admin_change"
    PERIOD_CREATE = "period.create"
    PERIOD_OPEN = "period.open"
    PERIOD_CLOSE = "period.close"
    PERIOD_ADMIN = "period.admin_change"
    REVIEWERS_ASSIGN = "reviewers.assign"
    REVIEWERS_ADMIN = "reviewers.admin_change"
    COMMUNE_GROUP = "commune.group"
    COMMUNE_GROUPS_IMPORT = "commune.groups_import"
    COMMUNE_FLAGS = "commune.flags"
    COMMUNE_FLAGS_IMPORT = "commune.flags_import"
    COMMUNE_ADMIN = "commune.admin_change"


LABELS = {
    Action.ACCOUNT_CREATE: _("Account created"),
    Action.ACCOUNT_CHANGE: _("Account changed"),
    Action.ACCOUNT_ROLE: _("Role or unit changed"),
    Action.ACCOUNT_PASSWORD: _("New password set by an administrator"),
    Action.ACCOUNT_ADMIN: _("Account changed in Administration"),
    Action.PERIOD_CREATE: _("Period created"),
    Action.PERIOD_OPEN: _("Period opened for entry"),
    Action.PERIOD_CLOSE: _("Period closed"),
    Action.PERIOD_ADMIN: _("Period changed in Administration"),
    Action.REVIEWERS_ASSIGN: _("Reviewer's communes assigned"),
    Action.REVIEWERS_ADMIN: _("Reviewer assignment changed in Administration"),
    Action.COMMUNE_GROUP: _("Commune's group changed"),
    Action.COMMUNE_GROUPS_IMPORT: _("Commune groups imported from a list"),
    Action.COMMUNE_FLAGS: _("Commune's flags changed"),
    Action.COMMUNE_FLAGS_IMPORT: _("Commune flags imported from a list"),
    Action.COMMUNE_ADMIN: _("Commune group changed in Administration"),
    SetAction.COPY: _("Criteria set copied as a new version"),
    SetAction.COPY_TO_PROVINCE: _("National set copied as the province's own"),
    SetAction.ACTIVATE: _("Criteria set activated"),
    SetAction.IMPORT: _("Criteria set imported from Excel"),
    SetAction.INDICATOR_ADD: _("Indicator added"),
    SetAction.INDICATOR_CHANGE: _("Indicator changed"),
    SetAction.INDICATOR_DELETE: _("Indicator deleted"),
    SetAction.ADMIN_CHANGE: _("Criteria set changed in Administration"),
}

KINDS = {
    "account": _("Accounts and roles"),
    "period": _("Periods"),
    "reviewers": _("Reviewer assignments"),
    "commune": _("Commune groups and flags"),
    "set": _("Criteria sets"),
}

# The names under which `details` keeps its facts, as the page shows them.
DETAIL_LABELS = {
    "changes": _("changes"),
    "copied_from": _("copied from"),
    "from_code": _("code of the national set"),
    "retired_versions": _("versions retired"),
    "outcome": _("outcome"),
    "indicator": _("indicator"),
    "communes": _("communes"),
    "whole_province": _("the whole province"),
    "set": _("criteria set"),
    "group": _("group"),
    "flag": _("flag"),
    "document": _("deciding document"),
    "changed": _("communes changed"),
    "name": _("name"),
    "year": _("year"),
    "sets": _("criteria sets"),
    "reference_date": _("reference date"),
    "role": _("role"),
    "unit": _("unit"),
    "what": _("change"),
    "object": _("object"),
    "fields": _("fields"),
}


def record(
    request_or_user: HttpRequest | User | None,
    action: str,
    obj: models.Model,
    *,
    details: dict | None = None,
    ip: str | None = None,
    province: Province | None = None,
) -> AuditEntry:
    """Write one entry: the actor (the request's user, or the user given), the action, the
    object, and the client's address (read from the request, or `ip`). The entry's province is
    `province`, else the object's (see `_province_of`), else the actor's."""
    if isinstance(request_or_user, HttpRequest):
        actor = request_or_user.user if request_or_user.user.is_authenticated else None
        ip = ip or client_address(request_or_user)
    else:
        actor = request_or_user
    return AuditEntry.objects.create(
        actor=actor,
        province=province or _province_of(obj, actor),
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk or "")[:40],
        object_repr=str(obj)[:300],
        details=plain(details or {}),
        ip_address=ip,
    )


def _province_of(obj: models.Model, actor: User | None) -> Province | None:
    if isinstance(obj, Province):
        return obj
    if isinstance(obj, CriteriaSet):  # a national set belongs to no province
        code = obj.owner_province_code
        return Province.objects.filter(code=code).first() if code else None
    province_id = getattr(obj, "province_id", None)
    if province_id is not None:
        return Province(pk=province_id)
    if actor is not None and actor.province_id is not None:
        return Province(pk=actor.province_id)
    return None


def plain(value: Any) -> Any:
    """The value as JSON can hold it: objects by their names, dates as text."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    if isinstance(value, datetime.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, Decimal | Promise | models.Model):
        return str(value)
    return str(value)


def changes(form, names: list[str] | None = None) -> dict[str, list]:
    """What a model form changed, field by field: [before, after] as the form shows them."""
    before, after = {}, {}
    for name in names if names is not None else form.changed_data:
        if name not in form.changed_data:
            continue
        field = form.fields[name]
        before[name] = _shown(field, form.initial.get(name))
        after[name] = _shown(field, form.cleaned_data.get(name))
    return {name: [before[name], after[name]] for name in before}


def _shown(field: forms.Field, value) -> str:
    if value in (None, ""):
        return ""
    if isinstance(field, forms.ModelChoiceField):
        if not isinstance(value, models.Model):  # the initial value is the key
            value = field.queryset.model._default_manager.filter(pk=value).first() or value
        return str(getattr(value, "label", value))
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if isinstance(field, forms.ChoiceField):
        return str(dict(field.choices).get(value, value))
    return str(plain(value))


# ---------------------------------------------------------------- reading


def entries_for(user: User, kind: str = "") -> models.QuerySet[AuditEntry]:
    """The entries the user may read, newest first, of one kind (all kinds by default)."""
    entries = AuditEntry.objects.select_related("actor", "province")
    if not user.is_superuser:
        readable = may_read_audit(user) and user.province_id is not None
        entries = entries.filter(province_id=user.province_id) if readable else entries.none()
    if kind in KINDS:
        entries = entries.filter(action__startswith=f"{kind}.")
    return entries.order_by("-at", "-pk")


def label(action: str) -> str:
    return str(LABELS.get(action, action))


def detail_lines(entry: AuditEntry) -> list[str]:
    """The entry's details as short lines of text."""
    lines = []
    for key, value in (entry.details or {}).items():
        if key == "changes" and isinstance(value, dict):
            for name, pair in value.items():
                old, new = (pair + ["", ""])[:2] if isinstance(pair, list) else ("", pair)
                lines.append(f"{_field_label(entry, name)}: {old or '—'} → {new or '—'}")
            continue
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value) or "—"
        elif isinstance(value, bool):
            value = _("yes") if value else _("no")
        lines.append(f"{DETAIL_LABELS.get(key, key)}: {value}")
    return lines


def _field_label(entry: AuditEntry, name: str) -> str:
    """A changed field by its label on the entry's model (the account, the commune …)."""
    try:
        return str(apps.get_model(entry.object_type)._meta.get_field(name).verbose_name)
    except (LookupError, ValueError, FieldDoesNotExist):
        return str(DETAIL_LABELS.get(name, name))


# ---------------------------------------------------------------- criteria sets


def record_set_change(
    sender,
    *,
    criteria_set: CriteriaSet,
    user=None,
    action: str,
    details: dict | None = None,
    ip: str | None = None,
    **kwargs,
) -> None:
    """criteria.signals.set_changed: a criteria set changed; the log keeps it."""
    record(user, action, criteria_set, details=details, ip=ip)
