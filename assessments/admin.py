from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

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
class UserAdmin(BaseUserAdmin):
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
class AssessmentPeriodAdmin(admin.ModelAdmin):
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
class ReviewAssignmentAdmin(admin.ModelAdmin):
    list_display = ["reviewer", "province", "commune", "assigned_by", "assigned_at"]
    list_select_related = ["reviewer", "province", "commune", "assigned_by"]
    raw_id_fields = ["commune"]


@admin.register(CommuneGroupAssignment)
class CommuneGroupAssignmentAdmin(admin.ModelAdmin):
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
