"""Each person's home page says what waits for them: officers their worklist with counts,
reviewers what waits for their appraisal (oldest first), viewers the province dashboard,
administrators a setup checklist. Their cost does not grow with the number of communes."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from assessments import services
from assessments.models import ReviewAssignment, Role, Transition
from tests.assessments.test_workflow import complete
from tests.conftest import make_commune, make_period, make_user, make_village

pytestmark = pytest.mark.django_db
HOME = reverse("home")


def start(commune, officer, ntm_set, period, *, submit=False, reason=""):
    make_village(commune, "Thôn 1")
    assessment = services.create_assessment(
        user=officer, commune=commune, criteria_set=ntm_set, period=period
    )
    if submit or reason:
        complete(assessment, officer)
        services.submit(user=officer, assessment=assessment)
    if reason:
        reviewer = make_user(
            f"td-{commune.pk}", role=Role.PROVINCE_REVIEWER, province=commune.province
        )
        services.return_assessment(user=reviewer, assessment=assessment, reason=reason)
    return assessment


@pytest.fixture
def work(loc_binh, district_officer, ntm_set, period):
    """Lộc Bình: two xã not started, one in progress, one returned, two submitted."""
    made = {}
    for name in ("Xã Bằng Khánh", "Xã Khuất Xá"):
        make_commune(loc_binh, name)
    made["draft"] = start(make_commune(loc_binh, "Xã Tú Mịch"), district_officer, ntm_set, period)
    made["returned"] = start(
        make_commune(loc_binh, "Xã Xuân Dương"),
        district_officer,
        ntm_set,
        period,
        reason="Bổ sung ảnh chụp cụm loa",
    )
    made["first"] = start(
        make_commune(loc_binh, "Xã Ái Quốc"), district_officer, ntm_set, period, submit=True
    )
    made["second"] = start(
        make_commune(loc_binh, "Xã Hữu Lân"), district_officer, ntm_set, period, submit=True
    )
    return made


def test_a_district_officer_lands_on_their_worklist_with_counts(client, district_officer, work):
    client.force_login(district_officer)

    response = client.get(HOME)

    assert response.status_code == 200
    counts = response.context["counts"]
    assert (counts.not_started, counts.in_progress, counts.returned, counts.at_province) == (
        2,
        1,
        1,
        2,
    )
    page = response.content.decode()
    assert "Việc của bạn" in page
    assert "Bổ sung ảnh chụp cụm loa" in page  # the return, with its reason
    to_do = [row.commune.name for row in response.context["rows"]]
    assert to_do == ["Xã Xuân Dương", "Xã Tú Mịch", "Xã Bằng Khánh", "Xã Khuất Xá"]
    assert "state=returned" in page and "state=not_started" in page
    # the card names the state as the worklist's badge does ("Đã gửi tỉnh")
    card = re.search(r'data-testid="count-submitted">(.*?)</a>', page, re.S).group(1)
    assert "đã gửi tỉnh" in card and "chờ thẩm định" not in card


def test_a_commune_officer_lands_on_their_own_commune_only(
    client, commune_officer, commune, other_commune, ntm_set, period
):
    client.force_login(commune_officer)

    response = client.get(HOME)

    assert [row.commune for row in response.context["rows"]] == [commune]
    assert response.context["counts"].not_started == 1


def test_a_reviewer_sees_what_waits_for_their_appraisal_oldest_first(client, user, work):
    first, second = work["first"], work["second"]
    Transition.objects.filter(assessment=second).update(
        at=timezone.now() - timezone.timedelta(days=3)
    )
    client.force_login(user)

    response = client.get(HOME)

    assert "Đang chờ bạn thẩm định: 2" in response.content.decode()
    assert response.context["waiting"] == [second, first]


def test_a_reviewer_sees_only_the_assessments_they_may_approve(
    client, province, work, district_officer
):
    reviewer = make_user(
        "td-mot-xa", role=Role.PROVINCE_REVIEWER, province=province, reviews_whole_province=False
    )
    ReviewAssignment.objects.create(
        reviewer=reviewer, province=province, commune=work["second"].commune
    )
    client.force_login(reviewer)

    response = client.get(HOME)

    assert response.context["waiting"] == [work["second"]]
    assert "Đang chờ bạn thẩm định: 1" in response.content.decode()


def test_a_viewer_lands_on_the_province_dashboard(client, viewer):
    client.force_login(viewer)

    assert client.get(HOME)["Location"] == reverse("reports:province")


def test_the_national_operator_lands_on_the_units(client, province):
    operator = make_user("quoc-gia", is_superuser=True, is_staff=True)
    client.force_login(operator)

    assert client.get(HOME)["Location"] == reverse("assessments:province")


def test_an_administrator_sees_what_is_missing_from_the_setup(
    client, manager, province, loc_binh, ntm_set
):
    client.force_login(manager)
    lonely = make_user("td-chua-giao", role=Role.PROVINCE_REVIEWER, province=province)
    ReviewAssignment.objects.filter(reviewer=lonely).delete()
    make_commune(loc_binh, "Xã Không Thôn")

    before = {s.title: s for s in client.get(HOME).context["steps"]}
    make_period(province, [ntm_set])
    after = {s.title: s for s in client.get(HOME).context["steps"]}

    assert before["Có bộ tiêu chí đang áp dụng"].done
    assert not before["Có kỳ đánh giá đang mở, kèm bộ tiêu chí"].done
    assert after["Có kỳ đánh giá đang mở, kèm bộ tiêu chí"].done
    assert not after["Có tài khoản cho cán bộ thẩm định và cán bộ nhập liệu"].done  # no officer
    reviewers = after["Mọi xã đều có cán bộ thẩm định"]
    assert not reviewers.done and "td-chua-giao" in reviewers.detail
    villages = next(s for title, s in after.items() if "mọi xã đều đã có danh sách thôn" in title)
    assert not villages.done and villages.names == ["Xã Không Thôn (Huyện Lộc Bình)"]
    assert "Danh mục thiết lập" in client.get(HOME).content.decode()


def test_an_administrator_sees_communes_without_a_group_for_a_grouped_set(
    client, manager, province, grouped_set
):
    import datetime

    from assessments.models import Commune, CommuneGroupAssignment

    make_period(
        province,
        [grouped_set],
        name="Năm 2026",
        year=2026,
        reference_date=datetime.date(2026, 3, 1),
    )
    grouped, _ = (
        Commune.objects.create(
            province=province, code=code, name=name, kind="xa", valid_from=datetime.date(2025, 7, 1)
        )
        for code, name in (("06529", "Xã Lộc Bình"), ("06541", "Xã Yên Khoái"))
    )
    CommuneGroupAssignment.objects.create(
        commune=grouped, set_code=grouped_set.code, group_code="nhom-1"
    )
    client.force_login(manager)

    steps = client.get(HOME).context["steps"]

    groups = next(s for s in steps if "mọi xã đều đã xếp nhóm" in s.title)
    assert not groups.done and groups.names == ["Xã Yên Khoái"]


# ---------------------------------------------------------------- query budgets


def queries(client) -> int:
    client.get(HOME)  # the session's first request may write it once
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(HOME)
    assert response.status_code == 200
    return len(ctx)


def more_work(loc_binh, officer, ntm_set, period, n: int) -> None:
    for i in range(n):
        commune = make_commune(loc_binh, f"Xã Thêm {loc_binh.pk}-{i}")
        if i % 3 == 1:
            start(commune, officer, ntm_set, period)
        elif i % 3 == 2:
            start(commune, officer, ntm_set, period, submit=True)


def test_an_officers_home_does_not_grow_with_communes(
    client, district_officer, work, loc_binh, ntm_set, period
):
    client.force_login(district_officer)
    few = queries(client)
    more_work(loc_binh, district_officer, ntm_set, period, 30)

    # session, user, periods, their sets, counts by state, the rows to do, the set's indicators,
    # their assessments, unexplained results, return reasons, the user's district
    assert queries(client) == few <= 11


def test_a_reviewers_home_does_not_grow_with_communes(
    client, user, work, loc_binh, district_officer, ntm_set, period
):
    client.force_login(user)
    few = queries(client)
    more_work(loc_binh, district_officer, ntm_set, period, 30)

    # session, user, the reviewer's communes, the submitted assessments
    assert queries(client) == few <= 5


def test_an_administrators_home_does_not_grow_with_communes(
    client, manager, loc_binh, ntm_set, period
):
    client.force_login(manager)
    few = queries(client)
    for i in range(30):
        make_commune(loc_binh, f"Xã Thêm {i}")

    # session, user, province, open periods and their sets, active sets, accounts by role,
    # reviewers, assignments (two), uncovered communes, per-village indicators, communes
    # without villages (and their count when there are many)
    assert queries(client) == few <= 15
