from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssessmentsConfig(AppConfig):
    name = "assessments"
    verbose_name = _("Communes and assessments")

    def ready(self):
        from criteria.signals import draft_changed, set_changed

        from .audit import record_set_change
        from .logins import connect_login_signals
        from .services import decide_again_after_draft_change
        from .unit_lists import keep_groups_in_province_copy

        draft_changed.connect(decide_again_after_draft_change, dispatch_uid="decide-again")
        set_changed.connect(record_set_change, dispatch_uid="audit-set-change")
        set_changed.connect(keep_groups_in_province_copy, dispatch_uid="province-copy-groups")
        connect_login_signals()
