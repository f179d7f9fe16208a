from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from criteria.marks import footnotes, to_confirm_marks
from criteria.models import Condition, CriteriaSet, Criterion, CriterionGroup, Indicator, Target

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", ["criteria:set_list", "criteria:set_import"])
def test_pages_send_anonymous_users_to_login(client, name):
    response = client.get(reverse(name))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_set_page_sends_anonymous_users_to_login(client, ntm_set):
    response = client.get(reverse("criteria:set_detail", args=[ntm_set.pk]))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_login_page_is_in_vietnamese(client, db):
    response = client.get(reverse("login"))

    assert response.status_code == 200
    assert "Đăng nhập" in response.content.decode()


def test_list_shows_both_shipped_sets(client, user, shipped_sets):
    client.force_login(user)

    response = client.get(reverse("criteria:set_list"))

    page = response.content.decode()
    assert "Bộ tiêu chí quốc gia về xã nông thôn mới giai đoạn 2021–2025" in page
    assert "Bộ tiêu chí quốc gia về xã nông thôn mới nâng cao giai đoạn 2021–2025" in page
    assert "Đang áp dụng" in page


def test_set_page_shows_criterion_8_with_its_indicators_and_conditions(client, user, ntm_set):
    client.force_login(user)

    response = client.get(reverse("criteria:set_detail", args=[ntm_set.pk]))

    page = response.content.decode()
    assert "Tiêu chí 8. Thông tin và Truyền thông" in page
    for text in [
        "Chỉ tiêu 8.1. Xã có điểm phục vụ bưu chính",
        "Chỉ tiêu 8.2. Xã có dịch vụ viễn thông, internet",
        "Chỉ tiêu 8.3. Xã có đài truyền thanh và hệ thống loa đến các thôn",
        "Chỉ tiêu 8.4. Xã có ứng dụng công nghệ thông tin",
        "Thời gian mở cửa tối thiểu 4 giờ/ngày làm việc",
        "Internet băng rộng di động mặt đất",
        "318/QĐ-TTg",
        "Trung du và miền núi phía Bắc",
        "Hồ sơ minh chứng cần có:",
    ]:
        assert text in page, text


def test_advanced_set_page_marks_what_is_unconfirmed(client, user, shipped_sets):
    client.force_login(user)
    advanced = shipped_sets["xa-ntm-nang-cao-2021-2025"]

    response = client.get(reverse("criteria:set_detail", args=[advanced.pk]))

    page = response.content.decode()
    assert 'data-testid="unconfirmed-banner"' in page
    assert page.count("cần xác nhận") >= 4


def build_set(indicator_count: int) -> CriteriaSet:
    """A set with one criterion of `indicator_count` checklist indicators, each fully dressed."""
    cs = CriteriaSet.objects.create(
        code=f"size-{indicator_count}", name="Size", kind="province", year_from=2025, year_to=2025
    )
    group = CriterionGroup.objects.create(criteria_set=cs, number="I", name="Nhóm")
    criterion = Criterion.objects.create(criteria_set=cs, group=group, number=1, name="TC")
    for n in range(indicator_count):
        indicator = Indicator.objects.create(
            criterion=criterion, code=f"1.{n}", content=f"Chỉ tiêu {n}", value_type="checklist"
        )
        Condition.objects.create(indicator=indicator, code="1", text="Điều kiện", scope="commune")
        Target.objects.create(indicator=indicator, text="Đạt")
    return cs


def test_set_page_query_count_does_not_grow_with_the_set(client, user, shipped_sets):
    client.force_login(user)
    small, large = build_set(4), build_set(60)

    def queries_for(cs):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(reverse("criteria:set_detail", args=[cs.pk]))
        assert response.status_code == 200
        assert (
            response.content.decode().count('id="indicator-')
            == cs.criteria.get().indicators.count()
        )
        return len(ctx)

    # session, user, set, commune groups, criterion groups, criteria, indicators, conditions,
    # targets, regions (the target columns), the user's and the user's groups' permissions,
    # the user's unit (header)
    assert queries_for(small) == queries_for(large) <= 13


def test_list_query_count_does_not_grow_with_the_sets(client, user, shipped_sets):
    client.force_login(user)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("criteria:set_list"))
    for n in range(5):
        build_set(n + 1)
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("criteria:set_list"))

    # session, user, two permission look-ups (the import button), the user's unit (header),
    # sets with their counts
    assert len(few) == len(many) <= 6


# ---------------------------------------------------------------- marks


def footnote_numbers(page: str) -> list[str]:
    return re.findall(r'<a href="#to-confirm-note-(\d+)">', page)


def test_each_mark_is_a_numbered_footnote_on_its_line(client, user, ntm_set):
    client.force_login(user)

    page = client.get(reverse("criteria:set_detail", args=[ntm_set.pk])).content.decode()

    marks = to_confirm_marks(ntm_set)
    notes = footnotes(marks)
    assert len(footnote_numbers(page)) == len(marks)  # one reference on each marked line
    assert 'data-testid="to-confirm-notes"' in page
    for footnote in notes:
        assert f'<li id="to-confirm-note-{footnote.number}" value="{footnote.number}">' in page
        assert escape(footnote.note) in page
    # the 2/3 share of 8.3, in its target cells: one note for the general and seven regions
    radio = page[page.index('id="indicator-8.3"') : page.index('id="indicator-8.4"')]
    share = next(f for f in notes if "2/3" in f.note)
    assert radio.count(f'href="#to-confirm-note-{share.number}"') == 8
    assert "QĐ 1127/QĐ-BTTTT (2022)" in page  # the 8.1 conditions' source


def test_the_set_page_shows_the_special_target_rule(client, user, ntm_set):
    client.force_login(user)

    page = client.get(reverse("criteria:set_detail", args=[ntm_set.pk])).content.decode()

    rule = page[page.index('data-testid="special-rule"') :]
    rule = rule[: rule.index("</dd>")]
    assert "Trung du và miền núi phía Bắc" in rule
    assert escape(ntm_set.special_region_basis) in rule


def test_the_2026_set_page_shows_its_groups_and_every_mark(client, user, shipped_sets):
    client.force_login(user)
    cs = shipped_sets["xa-ntm-2026-2030"]

    page = client.get(reverse("criteria:set_detail", args=[cs.pk])).content.decode()

    assert "51/2025/QĐ-TTg" in page
    groups = page[page.index('data-testid="commune-groups"') :]
    assert "xã không thuộc nhóm 1 và nhóm 3" in groups[: groups.index("</ul>")]
    criterion_7 = page[page.index('id="criterion-7"') : page.index('id="criterion-8"')]
    assert 'href="#to-confirm-note-' in criterion_7
    assert footnote_numbers(page) == ["1", "2"]  # the criterion list, criterion 7
    assert escape(cs.to_confirm_note) in page
    assert escape(cs.criteria.get(number=7).to_confirm_note) in page
    assert 'data-testid="unconfirmed-banner"' in page


def test_the_list_shows_the_2026_draft_and_its_mark(client, user, shipped_sets):
    client.force_login(user)

    page = client.get(reverse("criteria:set_list")).content.decode()

    row = page[page.index("Bộ tiêu chí quốc gia về xã nông thôn mới giai đoạn 2026–2030") :]
    row = row[: row.index("</tr>")]
    assert 'data-testid="set-marks"' in row
    assert "Bản nháp" in row
