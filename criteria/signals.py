"""What the criteria app tells the apps that use it, without importing them (data flows one way:
criteria → assessments → reports)."""

from __future__ import annotations

from django.dispatch import Signal
from django.http import HttpRequest

#: A draft set's indicators, conditions or targets changed. Keyword arguments: `criteria_set`,
#: `user`. Sent inside the change's transaction, so that a receiver's writes (assessments
#: deciding their verdicts again) land with the change or not at all.
draft_changed = Signal()

#: Someone changed a criteria set: copied it (as a new version, or into a province's own set),
#: activated it, imported a workbook over it, or added, changed or deleted an indicator.
#: Keyword arguments: `criteria_set` (the set as it is now: for a copy, the copy), `user` (None
#: for a command), `action` (one of SetAction), `details` (a JSON-ready dict) and `ip` (the
#: client's address, or None). Sent inside the change's transaction: the audit log records it.
set_changed = Signal()


class SetAction:
    """The changes `set_changed` names; assessments.audit keeps them under these names."""

    COPY = "set.copy"
    COPY_TO_PROVINCE = "set.copy_to_province"
    ACTIVATE = "set.activate"
    IMPORT = "set.import"
    INDICATOR_ADD = "set.indicator_add"
    INDICATOR_CHANGE = "set.indicator_change"
    INDICATOR_DELETE = "set.indicator_delete"
    ADMIN_CHANGE = "set.admin_change"


def client_address(request: HttpRequest | None) -> str | None:
    """The address a change came from, as the audit log records it.

    The one place that reads it: REMOTE_ADDR, which the deployment's proxy settings make the
    client's own behind nginx (see config/settings.py). It lives here, at the bottom of the
    import graph, so that criteria's views and assessments.audit read it the same way.
    """
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None
