"""The Django admin: the national operator's tool, for superusers only (`may_use_admin`).

Province administrators manage their accounts, periods, reviewers, groups and flags in the
app's own pages, which keep to their province and write the audit log; changes made here are
written to the audit log too. Assessments, results and evidence are read-only here.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from . import audit, workflow
from .models import (
    Assessment,
    AssessmentPeriod,
    Commune,
    CommuneFlagRecord,
    CommuneGroupAssignment,
    District,
    Evidence,
    IndicatorResult,
    Province,
    ReviewAssignment,
    User,
    Village,
)


def _superusers_only(request) -> bool:
    return workflow.may_use_admin(request.user)


# Everyone else is sent to the admin's login page, which says the account may not enter.
admin.site.has_permission = _superusers_only


class AuditedMixin:
    """Changes made in the admin go to the audit log, under `audit_action`."""

    audit_action = ""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        changed = [name for name in form.changed_data if "password" not in name]
        details = {"what": "change" if change else "add", "fields": changed}
        audit.record(request, self.audit_action, obj, details=details)

    def delete_model(self, request, obj):
        audit.record(request, self.audit_action, obj, details={"what": "delete"})
        super().delete_model(request, obj)

    def get_actions(self, request):
        # "Delete selected" would bypass delete_model, and so the log.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


@admin.register(Province)
class ProvinceAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "region"]
    search_fields = ["code", "name"]


@admin.register(District)
class DistrictAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "province", "valid_from", "valid_to"]
    list_filter = ["province", "kind"]
    search_fields = ["code", "name"]
    list_select_related = ["province"]


class VillageInline(admin.TabularInline):
    model = Village
    extra = 0
    can_delete = False


@admin.register(Commune)
class CommuneAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "kind",
        "district",
        "is_extremely_difficult",
        "is_border",
        "pilot_ntm_year",
        "pilot_advanced_year",
        "valid_to",
    ]
    list_filter = ["province", "district", "kind", "is_extremely_difficult", "is_border"]
    search_fields = ["code", "name"]
    list_select_related = ["district"]
    raw_id_fields = ["successor"]
    inlines = [VillageInline]


@admin.register(Village)
class VillageAdmin(admin.ModelAdmin):
    list_display = ["name", "commune", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "commune__name", "commune__code"]
    list_select_related = ["commune"]

    def has_delete_permission(self, request, obj=None):
        return False  # villages are marked inactive, never deleted


@admin.register(User)
class UserAdmin(AuditedMixin, BaseUserAdmin):
    audit_action = audit.Action.ACCOUNT_ADMIN
    list_display = [
        "username",
        "first_name",
        "role",
        "province",
        "district",
        "commune",
        "is_active",
    ]
    list_filter = ["role", "is_active", "province", "district"]
    list_select_related = ["province", "district", "commune"]
    fieldsets = [
        *BaseUserAdmin.fieldsets,
        (_("Role and unit"), {"fields": ["role", "province", "district", "commune"]}),
    ]
    raw_id_fields = ["commune"]
    OWN_FIELDS = ["role", "province", "district", "commune", "is_staff", "is_superuser"]

    def get_readonly_fields(self, request, obj=None):
        """Nobody changes their own role, unit or powers, here either."""
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and not workflow.may_change_role_and_unit(request.user, obj):
            fields += [*self.OWN_FIELDS, "groups", "user_permissions"]
        return fields


class ReadOnlyEntryMixin:
    """Assessments, results and evidence are read here, never changed: every change goes through
    the services, which ask assessments.workflow who may act, keep the history and versions,
    and lock approved work. So the admin cannot disagree with the workflow."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # nothing entered is ever deleted


@admin.register(AssessmentPeriod)
class AssessmentPeriodAdmin(AuditedMixin, admin.ModelAdmin):
    audit_action = audit.Action.PERIOD_ADMIN
    list_display = [
        "name",
        "province",
        "year",
        "reference_date",
        "opens_on",
        "closes_on",
        "is_open",
    ]
    list_filter = ["province", "is_open"]


@admin.register(Assessment)
class AssessmentAdmin(ReadOnlyEntryMixin, admin.ModelAdmin):
    list_display = ["commune", "criteria_set", "period", "state", "all_met", "version"]
    list_filter = ["state", "period", "criteria_set"]
    search_fields = ["commune__name", "commune__code"]
    list_select_related = ["commune", "criteria_set", "period"]
    readonly_fields = ["version", "all_met", "state", "created_by"]
    raw_id_fields = ["commune"]


@admin.register(IndicatorResult)
class IndicatorResultAdmin(ReadOnlyEntryMixin, admin.ModelAdmin):
    list_display = ["assessment", "indicator", "is_met", "override_met"]
    list_filter = ["is_met"]
    list_select_related = ["assessment__commune", "indicator"]
    raw_id_fields = ["assessment"]
    readonly_fields = ["computed_met", "computed_reason", "is_met"]


@admin.register(Evidence)
class EvidenceAdmin(ReadOnlyEntryMixin, admin.ModelAdmin):
    list_display = ["__str__", "result", "is_removed", "added_at"]
    list_select_related = ["result__assessment", "result__indicator"]
    raw_id_fields = ["result"]


@admin.register(ReviewAssignment)
class ReviewAssignmentAdmin(AuditedMixin, admin.ModelAdmin):
    audit_action = audit.Action.REVIEWERS_ADMIN
    list_display = ["reviewer", "province", "commune", "assigned_by", "assigned_at"]
    list_select_related = ["reviewer", "province", "commune", "assigned_by"]
    raw_id_fields = ["commune"]


@admin.register(CommuneGroupAssignment)
class CommuneGroupAssignmentAdmin(AuditedMixin, admin.ModelAdmin):
    audit_action = audit.Action.COMMUNE_ADMIN
    list_display = ["commune", "set_code", "group_code", "document", "updated_at"]
    list_filter = ["set_code", "group_code"]
    search_fields = ["commune__name", "commune__code"]
    list_select_related = ["commune"]
    raw_id_fields = ["commune"]


@admin.register(CommuneFlagRecord)
class CommuneFlagRecordAdmin(ReadOnlyEntryMixin, admin.ModelAdmin):
    list_display = ["commune", "flag", "value", "document", "valid_from", "valid_to"]
    list_filter = ["flag"]
    list_select_related = ["commune"]
