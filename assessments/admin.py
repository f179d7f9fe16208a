from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import Commune, District, Province, User, Village


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
