from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_another_districts_dashboard_scorecard_and_export_are_404(
    client, other_district_officer, hand_built
):
    client.force_login(other_district_officer)
    loc_binh = hand_built["x1"].district
    x1 = hand_built["x1"].assessments.first()

    for url in (
        reverse("reports:district", args=[loc_binh.pk]),
        reverse("reports:district_export", args=[loc_binh.pk]),
        reverse("reports:scorecard", args=[x1.pk]),
    ):
        assert client.get(url).status_code == 404, url


def test_district_officers_are_sent_to_their_district_and_cannot_export_the_province(
    client, district_officer, hand_built
):
    client.force_login(district_officer)

    response = client.get(reverse("reports:province"))

    assert response["Location"] == reverse("reports:district", args=[district_officer.district_id])
    assert client.get(reverse("reports:province_export")).status_code == 403


def test_anonymous_users_go_to_login(client, hand_built):
    for url in (reverse("reports:province"), reverse("reports:province_export")):
        response = client.get(url)
        assert response["Location"].startswith(reverse("login"))


def test_scorecard_shows_results_reasons_evidence_and_timeline(client, viewer, hand_built):
    client.force_login(viewer)
    x2 = hand_built["x2"].assessments.get(period=hand_built["p2025"])

    page = client.get(reverse("reports:scorecard", args=[x2.pk])).content.decode()

    assert "1/2 thôn chưa có Internet (Thôn A)" in page
    assert "Đã kiểm tra" in page  # the written explanation standing in for evidence
    assert "Đã duyệt" in page and "Năm 2024" in page
