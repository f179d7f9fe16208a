from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User
from django.core.management import call_command

from criteria.models import CriteriaSet


@pytest.fixture(autouse=True)
def _plain_static_files(settings):
    """Templates resolve {% static %} without a collectstatic run."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def make_user(username: str = "officer", *, perms: tuple[str, ...] = ()) -> User:
    user = User.objects.create_user(username=username, password="pw-for-tests-1")
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return user


@pytest.fixture
def user(db) -> User:
    return make_user("officer")


@pytest.fixture
def manager(db) -> User:
    return make_user("manager", perms=("criteria.change_criteriaset",))


@pytest.fixture
def shipped_sets(db) -> dict[str, CriteriaSet]:
    call_command("load_criteria", verbosity=0)
    return {cs.code: cs for cs in CriteriaSet.objects.all()}


@pytest.fixture
def ntm_set(shipped_sets) -> CriteriaSet:
    return shipped_sets["xa-ntm-2021-2025"]
