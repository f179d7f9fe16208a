"""The worklist: filters, search, sorting and pages in the query string; a value that is not
understood is named on the page, never a 500; the way back from an assessment keeps the filters
and never leads off the site; bulk approval from ticked rows."""

from __future__ import annotations

import datetime
import re

import pytest
from django.urls import reverse
from django.utils.http import urlencode

from assessments import services
from assessments.models import Assessment, CommuneGroupAssignment, Role, State
from tests.assessments.test_assessment_budgets import count
from tests.assessments.test_workflow import complete
from tests.conftest import make_commune, make_period, make_user, make_village

pytestmark = pytest.mark.django_db
WORKLIST = reverse("assessments:worklist")


def names(response) -> list[str]:
    assert response.status_code == 200
    return [row.commune.name for row in response.context["rows"]]


@pytest.fixture
def district(loc_binh, district_officer, ntm_set, period):
    """Four xã of Lộc Bình: not started, in progress, returned, submitted."""
    communes = {
        state: make_commune(loc_binh, name)
        for state, name in (
            ("not_started", "Xã Bằng Khánh"),
            (State.DRAFT, "Xã Tú Mịch"),
            (State.RETURNED, "Xã Xuân Dương"),
            (State.SUBMITTED, "Xã Ái Quốc"),
        )
    }
    communes[State.SUBMITTED].is_border = True
    communes[State.SUBMITTED].save()
    reviewer = make_user("tham-dinh", role=Role.PROVINCE_REVIEWER, province=loc_binh.province)
    for state, commune in communes.items():
        make_village(commune, "Thôn 1")
        if state == "not_started":
            continue
        assessment = services.create_assessment(
            user=district_officer, commune=commune, criteria_set=ntm_set, period=period
        )
        if state in (State.RETURNED, State.SUBMITTED):
            complete(assessment, district_officer)
            services.submit(user=district_officer, assessment=assessment)
        if state == State.RETURNED:
            services.return_assessment(
                user=reviewer, assessment=assessment, reason="Thiếu ảnh biển tên bưu điện"
            )
    return communes


def test_the_worklist_filters_by_state(client, district_officer, district, period, ntm_set):
    client.force_login(district_officer)
    params = {"period": period.pk, "set": ntm_set.pk}

    assert names(client.get(WORKLIST, {**params, "state": "not_started"})) == ["Xã Bằng Khánh"]
    assert names(client.get(WORKLIST, {**params, "state": "returned"})) == ["Xã Xuân Dương"]
    assert names(client.get(WORKLIST, {**params, "state": "waiting"})) == ["Xã Ái Quốc"]
    returned = client.get(WORKLIST, {**params, "state": "returned"}).content.decode()
    assert "Thiếu ảnh biển tên bưu điện" in returned


def test_the_worklist_searches_by_name_or_code_and_filters_by_flag(
    client, district_officer, district
):
    client.force_login(district_officer)
    code = district[State.DRAFT].code

    assert names(client.get(WORKLIST, {"q": "xuân"})) == ["Xã Xuân Dương"]
    assert names(client.get(WORKLIST, {"q": code})) == ["Xã Tú Mịch"]
    assert names(client.get(WORKLIST, {"q": code.lstrip("0")})) == ["Xã Tú Mịch"]
    assert names(client.get(WORKLIST, {"border": "1"})) == ["Xã Ái Quốc"]


def test_the_worklist_sorts_by_any_column_both_ways(client, district_officer, district):
    client.force_login(district_officer)

    by_state = names(client.get(WORKLIST, {"sort": "state"}))
    by_name = names(client.get(WORKLIST, {"sort": "commune"}))
    by_name_descending = names(client.get(WORKLIST, {"sort": "-commune"}))

    # what needs work first: returned, in progress, not started, then waiting for review
    assert by_state == ["Xã Xuân Dương", "Xã Tú Mịch", "Xã Bằng Khánh", "Xã Ái Quốc"]
    assert by_name[0] == "Xã Ái Quốc" and by_name_descending == by_name[::-1]
    for column in ("district", "result", "missing", "updated"):
        for way in ("", "-"):
            assert len(names(client.get(WORKLIST, {"sort": f"{way}{column}"}))) == 4


def test_the_worklist_comes_in_pages_of_fifty(client, manager, loc_binh, ntm_set, period):
    for n in range(120):
        make_commune(loc_binh, f"Xã Số {n:03d}")
    client.force_login(manager)

    first = client.get(WORKLIST)
    last = client.get(WORKLIST, {"page": 3})
    beyond = client.get(WORKLIST, {"page": 40})

    assert len(names(first)) == 50 and names(first)[0] == "Xã Số 000"
    assert len(names(last)) == 20 and names(last)[-1] == "Xã Số 119"
    assert names(beyond) == names(last)  # past the end: the last page
    assert "Xã 101–120 trong 120" in last.content.decode()


def test_a_province_worklist_filters_by_district_in_a_period_with_districts(
    client, user, commune, other_commune, ntm_set, period
):
    client.force_login(user)

    assert names(client.get(WORKLIST, {"district": commune.district_id})) == [commune.name]
    assert set(names(client.get(WORKLIST))) == {commune.name, other_commune.name}


def test_a_worklist_without_districts_filters_by_commune_group(
    client, manager, province, grouped_set
):
    period = make_period(
        province,
        [grouped_set],
        name="Năm 2026",
        year=2026,
        reference_date=datetime.date(2026, 3, 1),
    )
    grouped, ungrouped = (
        province.communes.create(
            code=code, name=name, kind="xa", valid_from=datetime.date(2025, 7, 1)
        )
        for code, name in (("06529", "Xã Lộc Bình"), ("06541", "Xã Yên Khoái"))
    )
    CommuneGroupAssignment.objects.create(
        commune=grouped, set_code=grouped_set.code, group_code="nhom-3"
    )
    client.force_login(manager)
    params = {"period": period.pk, "set": grouped_set.pk}

    assert names(client.get(WORKLIST, {**params, "group": "nhom-3"})) == ["Xã Lộc Bình"]
    assert names(client.get(WORKLIST, {**params, "group": "none"})) == ["Xã Yên Khoái"]
    assert "district" not in client.get(WORKLIST, params).context["form"].fields


@pytest.mark.parametrize(
    "query",
    [
        {"period": "abc"},
        {"period": "99999999999999999999"},
        {"set": "-1"},
        {"state": "<script>alert(1)</script>"},
        {"district": "1 OR 1=1"},
        {"group": "nhom-9"},
        {"sort": "password"},
        {"sort": "-"},
        {"page": "0"},
        {"page": "abc"},
        {"page": "9" * 30},
        {"q": "x" * 500},
        {"q": "Tú\x00Mịch"},
        {"difficult": "\x00"},
    ],
)
def test_a_value_that_is_not_understood_is_named_and_left_out(
    client, district_officer, district, query
):
    client.force_login(district_officer)

    response = client.get(WORKLIST, query)

    if response.status_code == 400:  # a number no column holds: refused before any page
        return
    assert response.status_code == 200
    assert len(response.context["rows"]) in (0, 1, 4)  # only the valid filters applied
    if set(query) & set(response.context["form"].errors):
        assert "không hợp lệ nên đã được bỏ qua" in response.content.decode()


def test_the_assessment_page_leads_back_to_the_worklist_as_it_was_filtered(
    client, district_officer, district, period, ntm_set
):
    client.force_login(district_officer)
    filters = {"period": period.pk, "set": ntm_set.pk, "state": "returned", "sort": "-commune"}
    worklist = client.get(WORKLIST, filters)
    row = worklist.context["rows"][0]
    link = f"{reverse('assessments:assessment', args=[row.assessment.pk])}?next="
    assert link in worklist.content.decode()

    page = client.get(
        reverse("assessments:assessment", args=[row.assessment.pk]),
        {"next": f"{WORKLIST}?{urlencode(filters)}"},
    )

    back = page.context["worklist_url"]
    assert back == f"{WORKLIST}?{urlencode(filters)}"
    assert names(client.get(back)) == ["Xã Xuân Dương"]


@pytest.mark.parametrize(
    "hostile",
    [
        "https://evil.example/danh-gia/",
        "//evil.example/danh-gia/",
        "/\\evil.example/danh-gia/",
        "javascript:alert(1)",
        "/dang-xuat/",
        "/danh-gia/1/",
        "/danh-gia/?period=1\r\nSet-Cookie: x=1",
        "",
    ],
)
def test_the_way_back_never_leads_off_the_worklist(client, district_officer, assessment, hostile):
    client.force_login(district_officer)

    page = client.get(reverse("assessments:assessment", args=[assessment.pk]), {"next": hostile})

    assert page.status_code == 200
    default = f"{WORKLIST}?period={assessment.period_id}&set={assessment.criteria_set_id}"
    assert page.context["worklist_url"] == default
    assert page.context["next_query"] == ""


def test_saving_an_indicator_keeps_the_way_back(client, district_officer, assessment):
    client.force_login(district_officer)
    back = f"{WORKLIST}?state=draft"
    indicator = assessment.criteria_set.criteria.get(number=8).indicators.get(code="8.4")
    save = reverse("assessments:indicator_save", args=[assessment.pk, indicator.pk])

    response = client.post(
        f"{save}?{urlencode({'next': back})}",
        {f"i{indicator.pk}-version": assessment.version, f"i{indicator.pk}-note": "Ghi chú"},
    )

    assert response.status_code == 302
    assert response["Location"].startswith(
        f"{reverse('assessments:assessment', args=[assessment.pk])}?{urlencode({'next': back})}"
    )


# ---------------------------------------------------------------- bulk approval


def submitted(loc_binh, district_officer, ntm_set, period, names_):
    assessments = []
    for name in names_:
        commune = make_commune(loc_binh, name)
        make_village(commune, "Thôn 1")
        assessment = services.create_assessment(
            user=district_officer, commune=commune, criteria_set=ntm_set, period=period
        )
        complete(assessment, district_officer)
        services.submit(user=district_officer, assessment=assessment)
        assessments.append(assessment)
    return assessments


def test_a_reviewer_ticks_rows_confirms_and_approves_them(
    client, user, district_officer, loc_binh, ntm_set, period
):
    first, second, third = submitted(
        loc_binh, district_officer, ntm_set, period, ["Xã A", "Xã B", "Xã C"]
    )
    client.force_login(user)
    back = f"{WORKLIST}?state=submitted"
    worklist = client.get(back)
    assert [r.approvable for r in worklist.context["rows"]] == [True, True, True]
    assert 'form="bulk-approve"' in worklist.content.decode()

    confirm = client.get(
        reverse("assessments:approve_selected"),
        {"assessment": [first.pk, third.pk], "next": back},
    )
    assert confirm.context["assessments"] == [first, third]
    response = client.post(
        reverse("assessments:approve_selected"),
        {"assessment": [first.pk, third.pk], "next": back},
    )

    assert response.status_code == 302 and response["Location"] == back
    states = dict(Assessment.objects.values_list("pk", "state"))
    assert states == {
        first.pk: State.APPROVED,
        second.pk: State.SUBMITTED,
        third.pk: State.APPROVED,
    }
    assert first.transitions.filter(to_state=State.APPROVED, actor=user).exists()


def test_bulk_approval_approves_nothing_when_one_ticked_row_is_not_approvable(
    client, user, district_officer, loc_binh, ntm_set, period
):
    first, second = submitted(loc_binh, district_officer, ntm_set, period, ["Xã A", "Xã B"])
    services.approve(user=user, assessment=second)
    client.force_login(user)

    response = client.post(
        reverse("assessments:approve_selected"), {"assessment": [first.pk, second.pk]}
    )

    assert response.status_code == 200
    assert response.context["form"].errors
    first.refresh_from_db()
    assert first.state == State.SUBMITTED


def test_a_reviewer_approves_only_the_communes_assigned_to_them(
    client, district_officer, loc_binh, ntm_set, period, province
):
    mine, theirs = submitted(loc_binh, district_officer, ntm_set, period, ["Xã A", "Xã B"])
    reviewer = make_user(
        "tham-dinh-a", role=Role.PROVINCE_REVIEWER, province=province, reviews_whole_province=False
    )
    services.assign_reviewer(user=reviewer, reviewer=reviewer, communes=[mine.commune])
    client.force_login(reviewer)

    rows = client.get(WORKLIST).context["rows"]
    client.post(reverse("assessments:approve_selected"), {"assessment": [mine.pk, theirs.pk]})

    assert {r.commune.name: r.approvable for r in rows} == {"Xã A": True, "Xã B": False}
    assert set(Assessment.objects.values_list("state", flat=True)) == {State.SUBMITTED}


def test_officers_and_viewers_cannot_approve_in_bulk(
    client, district_officer, viewer, loc_binh, ntm_set, period
):
    (first,) = submitted(loc_binh, district_officer, ntm_set, period, ["Xã A"])
    for person in (district_officer, viewer):
        client.force_login(person)
        url = reverse("assessments:approve_selected")
        assert client.post(url, {"assessment": [first.pk]}).status_code == 403
        assert 'form="bulk-approve"' not in client.get(WORKLIST).content.decode()
    first.refresh_from_db()
    assert first.state == State.SUBMITTED


def test_a_bulk_approval_with_a_hostile_way_back_returns_to_the_worklist(
    client, user, district_officer, loc_binh, ntm_set, period
):
    (first,) = submitted(loc_binh, district_officer, ntm_set, period, ["Xã A"])
    client.force_login(user)

    response = client.post(
        reverse("assessments:approve_selected"),
        {"assessment": [first.pk], "next": "https://evil.example/"},
    )

    assert response["Location"] == WORKLIST
    for bad in ("abc", "-1", "99999999999999999999999"):
        page = client.get(reverse("assessments:approve_selected"), {"assessment": bad})
        # refused with the reason on the page, or (a number no column holds) before any page
        assert page.status_code == 400 or page.context["form"].errors


def test_the_district_approval_ticks_every_submitted_assessment_of_the_district(
    client, user, district_officer, loc_binh, ntm_set, period
):
    first, second = submitted(loc_binh, district_officer, ntm_set, period, ["Xã A", "Xã B"])
    url = reverse("assessments:approve_district", args=[loc_binh.pk])
    client.force_login(user)

    confirm = client.get(url, {"period": period.pk, "set": ntm_set.pk})
    response = client.post(url, {"assessment": [first.pk, second.pk]})

    assert confirm.context["assessments"] == [first, second]
    assert "checked" in confirm.content.decode()
    assert response["Location"].startswith(f"{WORKLIST}?period={period.pk}")
    assert f"district={loc_binh.pk}" in response["Location"]
    assert set(Assessment.objects.values_list("state", flat=True)) == {State.APPROVED}


def test_a_reviewers_filtered_worklist_does_not_grow_with_communes(
    client, user, district_officer, district, loc_binh, ntm_set, period
):
    client.force_login(user)
    query = {"period": period.pk, "set": ntm_set.pk, "district": loc_binh.pk, "sort": "-state"}
    few = count(client, WORKLIST, query)
    more = submitted(loc_binh, district_officer, ntm_set, period, [f"Xã {n}" for n in range(60)])
    for assessment in more[::2]:
        services.return_assessment(user=user, assessment=assessment, reason="Bổ sung")

    # session, user, periods, their sets, districts of the filter, the number of rows, the
    # page's communes, the set's indicators, the page's assessments, their unexplained results,
    # return reasons, the reviewer's communes, the user's province (the menu)
    assert count(client, WORKLIST, query) == few <= 13
    assert count(client, WORKLIST, {**query, "page": 2}) == few


def test_every_form_on_the_assessment_page_carries_the_way_back(
    client, district_officer, assessment
):
    client.force_login(district_officer)
    back = f"{WORKLIST}?state=draft&sort=-commune"
    complete(assessment, district_officer)

    page = client.get(reverse("assessments:assessment", args=[assessment.pk]), {"next": back})

    actions = re.findall(r'<form method="post"[^>]* action="([^"]+)"', page.content.decode())
    own = [a for a in actions if a.startswith("/danh-gia/")]
    assert len(own) >= 6  # submit, copy, four indicator saves
    carried = urlencode({"next": back}).replace("&", "&amp;")
    assert [a for a in own if carried not in a] == []


def test_each_workflow_step_returns_to_the_page_with_the_way_back(
    client, district_officer, user, assessment
):
    back = f"{WORKLIST}?state=submitted"
    page = reverse("assessments:assessment", args=[assessment.pk])
    expected = f"{page}?{urlencode({'next': back})}"

    def step(who, name, **data):
        client.force_login(who)
        url = reverse(f"assessments:{name}", args=[assessment.pk])
        response = client.post(f"{url}?{urlencode({'next': back})}", data)
        assert response.status_code == 302, name
        assert response["Location"] == expected, name

    step(district_officer, "copy_previous")  # nothing to copy: a message, and back
    complete(assessment, district_officer)
    step(district_officer, "submit")
    step(user, "return", reason="Bổ sung biên bản")
    step(district_officer, "submit")
    step(user, "approve")
    step(user, "reopen", reason="Sửa số liệu 8.4")
    step(user, "reopen", reason="")  # refused (no reason): still back with the way back
    assessment.refresh_from_db()
    assert assessment.state == State.RETURNED  # the steps were taken, not only redirected


def test_a_hostile_way_back_on_a_workflow_step_is_dropped(client, district_officer, assessment):
    client.force_login(district_officer)
    url = reverse("assessments:submit", args=[assessment.pk])

    response = client.post(f"{url}?{urlencode({'next': 'https://evil.example/'})}")

    assert response["Location"] == reverse("assessments:assessment", args=[assessment.pk])


# ---------------------------------------------------------------- the period shown is the one used


@pytest.fixture
def period_2026(province, grouped_set):
    return make_period(
        province,
        [grouped_set],
        name="Năm 2026",
        year=2026,
        reference_date=datetime.date(2026, 3, 1),
    )


def selected(response, name) -> str:
    """The value the page's select `name` shows as chosen."""
    html = response.content.decode()
    select = re.search(rf'<select name="{name}"[^>]*>.*?</select>', html, re.S).group(0)
    chosen = re.search(r'<option value="([^"]*)"[^>]*selected', select)
    return chosen.group(1) if chosen else ""  # none marked: the browser shows the first


def test_a_district_officer_is_offered_only_periods_with_districts_and_sees_the_one_used(
    client, district_officer, district, period, period_2026
):
    client.force_login(district_officer)

    page = client.get(WORKLIST)

    assert page.context["form"].period == period
    assert selected(page, "period") == str(period.pk)  # the box shows the period listed
    assert f'value="{period_2026.pk}"' not in page.content.decode()  # no district in 2026
    assert "Xã Tú Mịch" in names(page)


def test_changing_the_period_takes_its_own_set_without_an_error(
    client, manager, district, period, period_2026, ntm_set, grouped_set
):
    client.force_login(manager)

    # the filter form posts the period just chosen with the set the page showed for the other
    page = client.get(WORKLIST, {"period": period_2026.pk, "set": ntm_set.pk, "state": ""})

    assert page.context["form"].criteria_set == grouped_set
    assert selected(page, "set") == str(grouped_set.pk)
    assert "không hợp lệ" not in page.content.decode()


def test_a_period_or_set_that_is_not_understood_is_named_in_plain_words(
    client, manager, district, period, ntm_set
):
    client.force_login(manager)

    page = client.get(WORKLIST, {"period": period.pk, "set": "987654"})

    assert "«987654» không có trong danh sách." in page.content.decode()
    assert selected(page, "set") == str(ntm_set.pk)  # the box shows the set the list uses
    assert "Xã Tú Mịch" in names(page)


def test_a_period_without_districts_offers_no_district_step_to_filter_by(
    client, manager, period_2026
):
    client.force_login(manager)

    page = client.get(WORKLIST, {"period": period_2026.pk})

    assert 'value="district_review"' not in page.content.decode()
    assert 'value="submitted"' in page.content.decode()
