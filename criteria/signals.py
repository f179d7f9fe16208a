"""What the criteria app tells the apps that use it, without importing them (data flows one way:
criteria → assessments → reports)."""

from django.dispatch import Signal

#: A draft set's indicators, conditions or targets changed. Keyword arguments: `criteria_set`,
#: `user`. Sent inside the change's transaction, so that a receiver's writes (assessments
#: deciding their verdicts again) land with the change or not at all.
draft_changed = Signal()
