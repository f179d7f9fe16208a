"""Django admin for the catalogue. Only draft sets can be changed here, as everywhere, and only
by who may change the set (criteria.permissions; the admin site is for superusers only)."""

from __future__ import annotations

from django.contrib import admin

from .models import (
    CommuneGroup,
    Condition,
    CriteriaSet,
    Criterion,
    CriterionGroup,
    Indicator,
    Region,
    Target,
)
from .permissions import may_change_set
from .signals import SetAction, client_address, set_changed


class DraftOnlyMixin:
    """Objects of an active or retired set are read-only, and so are those of a set the user may
    not change; `set_of` finds an object's set. Every change is told to the audit log."""

    @staticmethod
    def set_of(obj) -> CriteriaSet:
        raise NotImplementedError

    def _may_change(self, request, obj) -> bool:
        criteria_set = self.set_of(obj)
        return criteria_set.is_editable and may_change_set(request.user, criteria_set)

    def has_change_permission(self, request, obj=None):
        if obj is not None and not self._may_change(request, obj):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and not self._may_change(request, obj):
            return False
        return super().has_delete_permission(request, obj)

    def _tell(self, request, obj, what: str, fields=()) -> None:
        set_changed.send(
            sender=CriteriaSet,
            criteria_set=self.set_of(obj),
            user=request.user,
            action=SetAction.ADMIN_CHANGE,
            details={"what": what, "object": str(obj)[:200], "fields": list(fields)},
            ip=client_address(request),
        )

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        self._tell(request, obj, "change" if change else "add", form.changed_data)

    def delete_model(self, request, obj):
        self._tell(request, obj, "delete")
        super().delete_model(request, obj)

    def get_actions(self, request):
        # "Delete selected" asks no object-level question: it could delete rows of a set in use.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "order"]
    search_fields = ["name", "code"]


class CriterionGroupInline(admin.TabularInline):
    model = CriterionGroup
    extra = 0


class CommuneGroupInline(admin.TabularInline):
    model = CommuneGroup
    extra = 0


@admin.register(CriteriaSet)
class CriteriaSetAdmin(DraftOnlyMixin, admin.ModelAdmin):
    list_display = [
        "name",
        "code",
        "version",
        "kind",
        "year_from",
        "year_to",
        "status",
        "to_confirm",
    ]
    list_filter = ["status", "kind", "target_basis", "to_confirm"]
    search_fields = ["name", "code", "legal_number", "legal_title"]
    inlines = [CriterionGroupInline, CommuneGroupInline]
    readonly_fields = ["status", "previous_version", "updated_at"]

    @staticmethod
    def set_of(obj):
        return obj


@admin.register(CriterionGroup)
class CriterionGroupAdmin(DraftOnlyMixin, admin.ModelAdmin):
    list_display = ["number", "name", "criteria_set"]
    list_filter = ["criteria_set"]
    search_fields = ["name"]

    @staticmethod
    def set_of(obj):
        return obj.criteria_set


@admin.register(CommuneGroup)
class CommuneGroupAdmin(CriterionGroupAdmin):
    list_display = ["code", "name", "definition", "criteria_set"]


@admin.register(Criterion)
class CriterionAdmin(DraftOnlyMixin, admin.ModelAdmin):
    list_display = ["number", "name", "group", "to_confirm", "criteria_set"]
    list_filter = ["criteria_set", "to_confirm", "group__name"]
    search_fields = ["name"]
    list_select_related = ["group", "criteria_set"]

    @staticmethod
    def set_of(obj):
        return obj.criteria_set


class ConditionInline(admin.TabularInline):
    model = Condition
    extra = 0


class TargetInline(admin.TabularInline):
    model = Target
    extra = 0


@admin.register(Indicator)
class IndicatorAdmin(DraftOnlyMixin, admin.ModelAdmin):
    list_display = ["code", "content", "value_type", "source", "to_confirm", "criterion"]
    list_filter = ["value_type", "to_confirm", "criterion__criteria_set"]
    search_fields = ["code", "content", "guidance"]
    list_select_related = ["criterion__criteria_set"]
    inlines = [ConditionInline, TargetInline]

    @staticmethod
    def set_of(obj):
        return obj.criterion.criteria_set


@admin.register(Condition)
class ConditionAdmin(DraftOnlyMixin, admin.ModelAdmin):
    list_display = ["code", "text", "scope", "threshold", "source", "to_confirm", "indicator"]
    list_filter = ["scope", "to_confirm", "indicator__criterion__criteria_set"]
    search_fields = ["text", "indicator__code"]
    list_select_related = ["indicator"]

    @staticmethod
    def set_of(obj):
        return obj.indicator.criterion.criteria_set


@admin.register(Target)
class TargetAdmin(DraftOnlyMixin, admin.ModelAdmin):
    list_display = ["indicator", "region", "commune_group", "threshold", "text", "to_confirm"]
    list_filter = ["region", "to_confirm", "indicator__criterion__criteria_set"]
    search_fields = ["indicator__code", "text"]
    list_select_related = ["indicator", "region", "commune_group"]

    @staticmethod
    def set_of(obj):
        return obj.indicator.criterion.criteria_set
