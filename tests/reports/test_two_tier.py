"""Reports across the reform of 01/07/2025: units in force on the reference date, rows by
district or by commune group, before and after, and changes that compare like with like.

The province is built in conftest.two_tier; the figures below are worked out by hand from it.
"""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from assessments.models import Commune
from reports.exports import TITLE_ROWS, summary_values

pytestmark = pytest.mark.django_db


def said(text: str) -> str:
    """A source string as the pages show it (Vietnamese once the lead has translated it)."""
    with translation.override("vi"):
        return translation.gettext(text)


def dashboard(client, period, **params):
    response = client.get(reverse("reports:province"), {"period": period.pk, **params})
    assert response.status_code == 200
    return response


def figures(rows):
    return [(r.label, r.in_scope, r.approved, r.criterion_met) for r in rows]


def test_a_period_with_districts_is_grouped_by_district(client, user, two_tier):
    client.force_login(user)

    report = dashboard(client, two_tier["p2025_03"]).context["report"]

    assert figures(report.rows) == [("Huyện Cao Lộc", 2, 1, 1), ("Huyện Lộc Bình", 4, 3, 2)]
    assert [r.district.name for r in report.rows] == ["Huyện Cao Lộc", "Huyện Lộc Bình"]
    assert (report.total.in_scope, report.total.criterion_share) == (6, Decimal("50.0"))


def test_a_period_without_districts_is_grouped_by_commune_group_with_the_ungrouped_last(
    client, user, two_tier
):
    client.force_login(user)

    response = dashboard(client, two_tier["p2026"])

    report = response.context["report"]
    assert figures(report.rows) == [
        ("Nhóm 1", 1, 1, 1),
        ("Nhóm 2", 1, 1, 0),
        (said("Not grouped yet"), 1, 0, 0),
    ]
    assert all(row.district is None for row in report.rows)
    assert (report.total.label, report.total.in_scope, report.total.criterion_met) == (
        said("Province total"),
        3,
        1,
    )
    assert report.total.criterion_share == Decimal("33.3")
    page = response.content.decode()
    assert f">{said('Commune group')}</th>" in page
    assert f">{said('District')}</th>" not in page
    assert 'name="district"' not in page  # no district filter where there are no districts
    assert "district" not in response.context["form"].fields


def test_shares_count_only_the_units_in_force_on_the_reference_date(client, user, two_tier):
    client.force_login(user)

    before = dashboard(client, two_tier["p2025_03"]).context["report"]
    after = dashboard(client, two_tier["p2026"]).context["report"]

    counted_before = {line.commune.name for line in before.lines}
    counted_after = {line.commune.name for line in after.lines}
    assert counted_before == {f"Xã Cũ {n}" for n in range(1, 7)}  # not E, ended in 2024
    assert counted_after == {"Xã Mới Một", "Xã Mới Hai", "Xã Mới Ba"}  # not the ward
    # E's leftover 2025 assessment counts nowhere: 3 of the 6 xã in force met
    assert (before.total.criterion_met, before.total.criterion_share) == (3, Decimal("50.0"))
    assert (after.total.in_scope, after.total.criterion_share) == (3, Decimal("33.3"))


def test_no_commune_is_counted_twice_in_any_period(client, user, two_tier, province):
    client.force_login(user)
    periods = ["p2024", "p2025_03", "p2025_12", "p2026"]

    for name in periods:
        period = two_tier[name]
        report = dashboard(client, period, submitted="on").context["report"]

        in_force = set(
            Commune.objects.current(period.reference_date)
            .rural()
            .filter(province=province)
            .values_list("pk", flat=True)
        )
        lines = [line.commune.pk for line in report.lines]
        assert len(lines) == len(set(lines)) and set(lines) == in_force, name
        assert sum(r.in_scope for r in report.rows) == report.total.in_scope == len(in_force)
        assert sum(r.criterion_met for r in report.rows) == report.total.criterion_met
        assert sum(sum(r.states.values()) for r in report.rows) <= len(in_force)
        for row in report.rows:
            assert sum(row.states.values()) <= row.in_scope, (name, row.label)


def test_the_national_roll_up_counts_each_province_once_on_its_latest_reference_date(
    client, two_tier
):
    from tests.conftest import make_user

    client.force_login(make_user("quoc-gia", is_superuser=True))
    ntm_set = two_tier["p2026"].criteria_sets.get()

    response = client.get(reverse("reports:national"), {"year": 2025, "set": ntm_set.pk})

    assert response.status_code == 200
    report = response.context["report"]
    # two periods of 2025: the later one (12/2025, three new xã), not both (nine xã)
    [lang_son] = report["rows"]
    assert (lang_son.label, lang_son.in_scope, lang_son.approved) == ("Tỉnh Lạng Sơn", 3, 3)
    assert report["total"].in_scope == 3
    # its previous period is the one of 03/2025, before the reform
    assert lang_son.not_comparable.note == said("different basis")
    assert said("different basis") in response.content.decode()


def test_before_and_after_counts_the_former_xa_that_met_the_criterion(client, user, two_tier):
    client.force_login(user)

    response = dashboard(client, two_tier["p2026"])

    reorganisation = response.context["reorganisation"]
    assert reorganisation.before == two_tier["p2025_03"]
    # in the order of the summary rows: by commune group
    assert [(m.commune.name, m.met_before, len(m.predecessors)) for m in reorganisation.merged] == [
        ("Xã Mới Một", 2, 3),  # O3 was approved, not met
        ("Xã Mới Hai", 1, 2),  # O4 was only submitted: it does not count
        ("Xã Mới Ba", 0, 1),  # O6 was not assessed
    ]
    assert (reorganisation.met_before, reorganisation.former) == (3, 6)
    page = response.content.decode()
    with translation.override("vi"):
        two_of_three = translation.gettext("%(met)s/%(count)s former xã met") % {
            "met": 2,
            "count": 3,
        }
    assert two_of_three in page


def test_a_period_with_districts_has_no_before_and_after(client, user, two_tier):
    client.force_login(user)

    assert dashboard(client, two_tier["p2025_03"]).context["reorganisation"] is None


def test_change_across_the_reform_says_different_basis(client, user, two_tier):
    client.force_login(user)

    response = dashboard(client, two_tier["p2025_12"])

    report = response.context["report"]
    for row in [*report.rows, report.total]:
        assert row.change is None
        assert row.not_comparable.note == said("different basis")
    assert "Kỳ 03/2025" in report.total.not_comparable.reason
    page = response.content.decode()
    assert page.count('data-testid="change-note"') == len(report.rows) + 1


def test_change_against_an_open_period_says_so(client, user, two_tier):
    two_tier["p2025_12"].is_open = True
    two_tier["p2025_12"].save()
    client.force_login(user)

    report = dashboard(client, two_tier["p2026"]).context["report"]

    assert report.total.change is None
    assert report.total.not_comparable.note == said("previous period not closed")
    assert report.total.previous_share == Decimal("66.7")


def test_change_on_the_same_basis_is_a_number(client, user, two_tier):
    client.force_login(user)

    report = dashboard(client, two_tier["p2026"]).context["report"]

    assert [(r.label, r.change) for r in report.rows] == [
        ("Nhóm 1", Decimal("0.0")),
        ("Nhóm 2", Decimal("-100.0")),
        (said("Not grouped yet"), Decimal("0.0")),
    ]
    assert report.total.change == Decimal("-33.4")  # 33.3 now, 66.7 in 12/2025
    assert report.notes == []


def test_change_where_units_ended_in_between_says_different_basis_for_that_row_only(
    client, user, two_tier
):
    client.force_login(user)

    report = dashboard(client, two_tier["p2025_03"]).context["report"]

    cao_loc, loc_binh = report.rows
    assert cao_loc.change == Decimal("50.0")  # 1 of 2 now, 0 of 2 in 2024
    assert loc_binh.change is None and loc_binh.not_comparable.note == said("different basis")
    assert report.total.change is None  # E was in force in 2024 and is not now
    assert len(report.notes) == 1


def test_the_workbook_agrees_with_the_dashboard_for_a_period_without_districts(
    client, user, two_tier
):
    client.force_login(user)
    params = {"period": two_tier["p2026"].pk}
    report = dashboard(client, two_tier["p2026"]).context["report"]

    response = client.get(reverse("reports:province_export"), params)

    assert response.status_code == 200
    wb = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    summary, detail, gaps = wb.worksheets

    def plain(value):
        return float(value) if isinstance(value, Decimal) else value

    header, *rows = summary.iter_rows(min_row=TITLE_ROWS + 1, values_only=True)
    expected = [summary_values(r) for r in [*report.rows, report.total]]
    assert [list(r) for r in rows[: len(expected)]] == [[plain(v) for v in e] for e in expected]
    assert header[0] == said("Commune group")
    assert said("Summary by commune group") in [c.value for c in summary["A"]]
    detail_header, *lines = detail.iter_rows(min_row=TITLE_ROWS + 1, values_only=True)
    assert said("District") not in detail_header and detail_header[2] == said("Commune group")
    assert [(line[1], line[2]) for line in lines] == [
        ("Xã Mới Một", "Nhóm 1"),
        ("Xã Mới Hai", "Nhóm 2"),
        ("Xã Mới Ba", said("Not grouped yet")),
    ]
    gap_header = next(gaps.iter_rows(min_row=TITLE_ROWS + 1, max_row=TITLE_ROWS + 1))
    assert said("District") not in [c.value for c in gap_header]


def test_the_district_dashboard_of_a_period_without_districts_goes_to_the_province(
    client, user, district_officer, two_tier, loc_binh
):
    url = reverse("reports:district", args=[loc_binh.pk])
    params = {"period": two_tier["p2026"].pk}
    client.force_login(user)

    response = client.get(url, params, follow=True)

    assert response.redirect_chain[-1][0].startswith(reverse("reports:province"))
    assert response.context["report"].rows[0].label == "Nhóm 1"
    assert "Năm 2026" in [str(m) for m in response.context["messages"]][0]
    client.force_login(district_officer)
    assert client.get(url, params).status_code == 404
    assert (
        client.get(reverse("reports:district_export", args=[loc_binh.pk]), params).status_code
        == 404
    )


def test_the_district_dashboard_offers_only_periods_with_districts(
    client, district_officer, two_tier, loc_binh
):
    client.force_login(district_officer)

    response = client.get(reverse("reports:district", args=[loc_binh.pk]))

    assert response.status_code == 200
    offered = {p.name for p in response.context["form"].periods}
    assert offered == {"Năm 2024", "Kỳ 03/2025"}


def test_last_results_of_gives_each_commune_its_last_period_only(two_tier):
    from assessments.models import Assessment

    old = two_tier["old"]

    results = Assessment.objects.last_results_of([old[1].pk, old[4].pk, old[6].pk])

    assert [(a.commune.name, a.period.name, a.state, a.all_met) for a in results] == [
        ("Xã Cũ 1", "Kỳ 03/2025", "approved", True),  # not its 2024 result as well
        ("Xã Cũ 4", "Kỳ 03/2025", "submitted", True),
    ]  # O6 was never assessed


def test_a_new_communes_page_shows_its_predecessors_last_results(client, user, two_tier):
    client.force_login(user)

    response = client.get(reverse("assessments:commune", args=[two_tier["n1"].pk]))

    assert response.status_code == 200
    shown = [
        (a.commune.name, a.period.name, a.all_met) for a in response.context["predecessor_results"]
    ]
    assert shown == [
        ("Xã Cũ 1", "Kỳ 03/2025", True),
        ("Xã Cũ 2", "Kỳ 03/2025", True),
        ("Xã Cũ 3", "Kỳ 03/2025", False),
    ]
    page = response.content.decode()
    assert 'data-testid="predecessor-results"' in page and page.count("Kỳ 03/2025") == 3
