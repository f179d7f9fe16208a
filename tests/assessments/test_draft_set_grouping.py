"""Grouping communes when a draft set and an active set share a name (as the national 2026–2030
draft and its demo copy do): the sets in use come first, a draft says it is one, and the
checklist's link chooses the set its step is about. Found in a UX walkthrough."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import translation

from assessments.checklist import setup_checklist
from assessments.forms import GroupListForm
from criteria.models import CommuneGroup, CriteriaSet
from tests.conftest import make_period

pytestmark = pytest.mark.django_db
NAME = "Bộ tiêu chí quốc gia về xã nông thôn mới giai đoạn 2026–2030"
DRAFT = "xa-ntm-2026-2030"
ACTIVE = "xa-ntm-2026-2030-minh-hoa"


def grouped(code: str, name: str, status: str) -> CriteriaSet:
    criteria_set = CriteriaSet.objects.create(
        code=code,
        name=name,
        kind="commune_ntm",
        year_from=2026,
        year_to=2030,
        target_basis="commune_group",
        status=status,
    )
    for n in (1, 2, 3):
        CommuneGroup.objects.create(
            criteria_set=criteria_set, code=f"nhom-{n}", name=f"Nhóm {n}", order=n
        )
    return criteria_set


@pytest.fixture
def draft(db) -> CriteriaSet:
    return grouped(DRAFT, NAME, "draft")


@pytest.fixture
def active(db) -> CriteriaSet:
    return grouped(ACTIVE, f"{NAME} (minh họa — không phải văn bản chính thức)", "active")


@pytest.fixture
def vi():
    with translation.override("vi"):
        yield


def test_the_list_form_puts_the_set_in_use_first_and_labels_the_draft(draft, active, manager, vi):
    choices = GroupListForm(user=manager).fields["set_code"].choices

    assert [code for code, _label in choices] == [ACTIVE, DRAFT]
    assert dict(choices)[DRAFT] == f"{NAME} (bản nháp)"
    assert "bản nháp" not in dict(choices)[ACTIVE]


def test_the_list_form_chooses_the_set_named_in_the_query_string(draft, active, manager):
    chosen = GroupListForm(user=manager, query={"set": DRAFT})
    unknown = GroupListForm(user=manager, query={"set": "no-such-set"})

    assert chosen["set_code"].value() == DRAFT
    assert unknown["set_code"].value() in (None, "")


def test_the_checklist_link_opens_the_list_page_with_its_set_chosen(
    client, draft, active, manager, province, commune, vi
):
    make_period(province, [active], name="Năm 2026", year=2026)
    step = next(
        s
        for s in setup_checklist(province)
        if s.url.startswith(reverse("assessments:group_import"))
    )
    client.force_login(manager)

    page = client.get(step.url).content.decode()

    assert f"?set={ACTIVE}" in step.url
    assert re.search(rf'<option value="{ACTIVE}"[^>]*selected', page)
    assert not re.search(rf'<option value="{DRAFT}"[^>]*selected', page)


def test_the_commune_page_shows_the_set_in_use_first_and_the_draft_without_a_warning(
    client, draft, active, manager, commune, vi
):
    client.force_login(manager)

    page = client.get(reverse("assessments:commune", args=[commune.pk])).content.decode()

    boxes = page.split('data-testid="commune-group')[1:]
    assert len(boxes) == 2
    assert "minh họa" in boxes[0] and "chưa xếp nhóm" in boxes[0]
    assert "(bản nháp)" in boxes[1] and "chưa xếp nhóm" not in boxes[1].split("<form")[0]
