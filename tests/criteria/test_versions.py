from __future__ import annotations

import pytest
from django.urls import reverse

from assessments.models import User
from criteria.models import CriteriaSet, Indicator
from criteria.specs import spec_from_set

pytestmark = pytest.mark.django_db


def test_copy_as_new_version_makes_an_editable_draft_with_the_same_content(
    client, operator, ntm_set
):
    client.force_login(operator)

    response = client.post(reverse("criteria:set_copy", args=[ntm_set.pk]))

    copy = CriteriaSet.objects.get(code=ntm_set.code, version=2)
    assert response.status_code == 302
    assert response["Location"] == reverse("criteria:set_detail", args=[copy.pk])
    assert copy.status == CriteriaSet.Status.DRAFT
    assert copy.previous_version == ntm_set
    original, copied = spec_from_set(ntm_set), spec_from_set(copy)
    for spec in (original, copied):
        spec.pop("status"), spec.pop("version")
    assert copied == original


def test_activating_a_draft_retires_the_previous_active_version(client, operator, ntm_set):
    client.force_login(operator)
    client.post(reverse("criteria:set_copy", args=[ntm_set.pk]))
    copy = CriteriaSet.objects.get(code=ntm_set.code, version=2)

    client.post(reverse("criteria:set_activate", args=[copy.pk]))

    copy.refresh_from_db()
    ntm_set.refresh_from_db()
    assert copy.status == CriteriaSet.Status.ACTIVE
    assert ntm_set.status == CriteriaSet.Status.RETIRED


def test_an_active_set_cannot_be_activated_again(client, operator, ntm_set):
    client.force_login(operator)

    response = client.post(reverse("criteria:set_activate", args=[ntm_set.pk]), follow=True)

    assert "Chỉ bản nháp mới có thể được áp dụng" in response.content.decode()


@pytest.mark.parametrize("name", ["criteria:set_copy", "criteria:set_activate"])
def test_users_without_the_permission_get_403_and_nothing_changes(client, user, ntm_set, name):
    client.force_login(user)

    response = client.post(reverse(name, args=[ntm_set.pk]))

    assert response.status_code == 403
    assert CriteriaSet.objects.filter(code=ntm_set.code).count() == 1


def test_import_page_is_forbidden_without_the_permission(client, user):
    client.force_login(user)

    assert client.get(reverse("criteria:set_import")).status_code == 403


def test_state_changes_refuse_get(client, operator, ntm_set):
    client.force_login(operator)

    assert client.get(reverse("criteria:set_copy", args=[ntm_set.pk])).status_code == 405


def test_admin_cannot_change_an_active_sets_indicator_but_can_change_a_drafts(client, ntm_set):
    admin = User.objects.create_superuser("root", password="pw-for-tests-1")
    client.force_login(admin)
    indicator = Indicator.objects.get(criterion__criteria_set=ntm_set, code="8.1")
    url = reverse("admin:criteria_indicator_change", args=[indicator.pk])

    page = client.get(url).content.decode()
    assert 'name="content"' not in page  # read-only view

    CriteriaSet.objects.filter(pk=ntm_set.pk).update(status=CriteriaSet.Status.DRAFT)
    assert 'name="content"' in client.get(url).content.decode()


@pytest.mark.parametrize(
    ("model", "column"),
    [
        ("criteriaset", "to_confirm"),
        ("criterion", "to_confirm"),
        ("communegroup", "definition"),
        ("indicator", "source"),
        ("condition", "source"),
        ("target", "to_confirm"),
    ],
)
def test_admin_lists_of_the_catalogue_show_sources_and_marks(client, shipped_sets, model, column):
    client.force_login(User.objects.create_superuser("root", password="pw-for-tests-1"))

    response = client.get(reverse(f"admin:criteria_{model}_changelist"))

    assert response.status_code == 200
    assert f"column-{column}" in response.content.decode()
