"""Permissions that follow from a user's role, so no one has to tick them by hand."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend

from .models import Role

ROLE_PERMISSIONS = {
    Role.PROVINCE_ADMIN: {"criteria.change_criteriaset"},
}


class RoleBackend(ModelBackend):
    """Django's model backend, plus the permissions of the user's role."""

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        return super().get_all_permissions(user_obj) | ROLE_PERMISSIONS.get(user_obj.role, set())
