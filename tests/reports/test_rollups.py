"""Dashboard figures against a hand-computed fixture (see conftest.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def dashboard(client, period, **params):
    query = {"period": period.pk, **params}
    response = client.get(reverse("reports:province"), query)
    assert response.status_code == 200
    return response.context


def test_province_figures_count_approved_results_only(client, user, hand_built):
    client.force_login(user)

    ctx = dashboard(client, hand_built["p2025"])

    b, a = ctx["report"].rows  # Vietnamese order: Cao Lộc, Lộc Bình
    assert (a.label, a.in_scope, a.not_started, a.draft, a.submitted, a.returned, a.approved) == (
        "Huyện Lộc Bình",
        4,
        0,
        0,
        0,
        1,
        3,
    )
    assert a.approved_share == Decimal("75.0")
    assert a.indicator_met == [2, 2, 3, 3]  # X3's 8.1 is overridden to not met; X2 fails 8.2
    assert (a.criterion_met, a.criterion_share) == (1, Decimal("25.0"))
    assert (b.in_scope, b.not_started, b.submitted, b.criterion_met) == (2, 1, 1, 0)
    total = ctx["report"].total
    assert (total.in_scope, total.approved, total.criterion_met) == (6, 3, 1)
    assert total.criterion_share == Decimal("16.7")
    assert "chỉ kết quả đã duyệt" in ctx["basis"]


def test_the_switch_adds_submitted_results_and_says_so(client, user, hand_built):
    client.force_login(user)

    ctx = dashboard(client, hand_built["p2025"], submitted="on")

    b, a = ctx["report"].rows
    assert b.criterion_met == 1 and b.criterion_share == Decimal("50.0")
    assert ctx["report"].total.criterion_share == Decimal("33.3")
    assert "đã gửi" in ctx["basis"]


def test_change_since_the_previous_period_is_given_only_on_the_same_basis(client, user, hand_built):
    hand_built["p2024"].is_open = False
    hand_built["p2024"].save()
    client.force_login(user)

    b, a = dashboard(client, hand_built["p2025"], submitted="on")["report"].rows

    # Cao Lộc: the same two xã on both reference dates; none met in 2024, Y1 (submitted) now
    assert (b.previous_share, b.change) == (Decimal("0.0"), Decimal("50.0"))
    # Lộc Bình: the xã that ended on 30/11/2024 was in force on 01/01/2024 and is not now:
    # 3 of 5 met then (60.0), but that is not set against 1 of 4 now
    assert a.previous_share == Decimal("60.0")
    assert a.change is None
    assert "1" in a.not_comparable.reason


def test_change_against_a_period_still_open_is_not_given(client, user, hand_built):
    from django.utils import translation

    client.force_login(user)

    b, _a = dashboard(client, hand_built["p2025"], submitted="on")["report"].rows

    assert b.change is None
    with translation.override("vi"):
        assert b.not_comparable.note == translation.gettext("previous period not closed")


def test_gap_and_regression_lists(client, user, hand_built):
    client.force_login(user)

    ctx = dashboard(client, hand_built["p2025"])

    gaps = {gap.commune.name: [i.code for i, _r in gap.failing] for gap in ctx["report"].gaps}
    assert gaps == {"Xã Hai": ["8.2"], "Xã Ba": ["8.1"]}
    assert [commune.name for commune, _p in ctx["regressions"]] == ["Xã Hai"]
    page = client.get(reverse("reports:province"), {"period": hand_built["p2025"].pk}).content
    assert "1/2 thôn chưa có Internet (Thôn A)" in page.decode()


def test_filters_narrow_the_scope(client, user, hand_built):
    from assessments.models import Commune

    Commune.objects.filter(pk=hand_built["x1"].pk).update(is_border=True)
    client.force_login(user)

    ctx = dashboard(client, hand_built["p2025"], border="on")

    assert [(r.label, r.in_scope, r.criterion_met) for r in ctx["report"].rows] == [
        ("Huyện Lộc Bình", 1, 1)
    ]


def test_an_approval_shows_on_the_next_page_load(client, user, hand_built):
    from assessments import services

    client.force_login(user)
    before = dashboard(client, hand_built["p2025"], submitted="")["report"].total.approved
    y1 = hand_built["y1"].assessments.get()
    services.approve(user=user, assessment=y1)

    after = dashboard(client, hand_built["p2025"])["report"].total.approved

    assert after == before + 1


def test_district_dashboard_shows_the_matrix_with_overrides(client, district_officer, hand_built):
    client.force_login(district_officer)
    district = hand_built["x1"].district

    response = client.get(
        reverse("reports:district", args=[district.pk]), {"period": hand_built["p2025"].pk}
    )

    lines = {line.commune.name: line for line in response.context["report"].lines}
    assert set(lines) == {"Xã Một", "Xã Hai", "Xã Ba", "Xã Bốn"}
    assert lines["Xã Ba"].results[0].override_met is False
    assert "cán bộ xác định" in response.content.decode()
