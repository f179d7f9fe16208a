"""The reviewer, a viewer and the scorecard see what was entered, not only the verdict: each
condition's answer (Có / Không / Chưa nhập, or the number with its unit and a decimal comma)
with its target, and for village indicators how many villages meet them and which do not.
Found in a UX walkthrough: appraisal saw "Chưa đạt: Tỷ lệ cán bộ… (%)" and never the 74%."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assessments import services
from tests.conftest import indicator, make_village

pytestmark = pytest.mark.django_db


def save(assessment, officer, code, inputs, villages=None):
    services.save_entry(
        user=officer,
        assessment=assessment,
        indicator=indicator(assessment.criteria_set, code),
        entry=services.Entry(inputs=inputs),
        seen_version=None,
        villages=villages,
    )
    assessment.refresh_from_db()


@pytest.fixture
def entered(assessment, district_officer, villages):
    chat, na_ma, po_loi = villages
    save(
        assessment,
        district_officer,
        "8.4",
        {"conditions": {"1": "74", "2": True, "3": False, "5": "62.5"}},
    )
    save(
        assessment,
        district_officer,
        "8.2",
        {
            "villages": {
                str(chat.pk): {"1": True, "3": True},
                str(na_ma.pk): {"2": True, "4": True},
                str(po_loi.pk): {"1": False, "2": False, "3": True},
            }
        },
        villages=villages,
    )
    return assessment


def block(page: str, code: str) -> str:
    start = page.index(f'data-testid="entered-{code}"')
    return page[start : page.index("</details>", start) if code == "8.2" else None]


def answers(html: str) -> list[str]:
    """Each answer row as its cells' text, spaces squeezed."""
    rows = re.findall(r'<tr data-testid="answer">(.*?)</tr>', html, re.S)
    return [
        " | ".join(
            re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", c)).strip()
            for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ).strip()
        for row in rows
    ]


def pages(client, assessment):
    return {
        "assessment": client.get(reverse("assessments:assessment", args=[assessment.pk])),
        "scorecard": client.get(reverse("reports:scorecard", args=[assessment.pk])),
    }


@pytest.mark.parametrize("who", ["user", "viewer"])
@pytest.mark.parametrize("page", ["assessment", "scorecard"])
def test_the_conditions_answers_and_targets_are_shown_read_only(
    request, client, entered, who, page
):
    client.force_login(request.getfixturevalue(who))

    response = pages(client, entered)[page]

    assert response.status_code == 200
    rows = answers(block(response.content.decode(), "8.4"))
    assert rows[0].startswith("Tỷ lệ cán bộ") and rows[0].endswith("| 74% | mục tiêu ≥ 80%")
    assert rows[1].endswith("| Có |")
    assert rows[2].endswith("| Không |")
    assert rows[3].endswith("| Chưa nhập |")
    assert rows[4].endswith("| 62,5% | mục tiêu ≥ 60%")


@pytest.mark.parametrize("page", ["assessment", "scorecard"])
def test_village_indicators_show_the_count_the_villages_not_met_and_each_answer(
    client, user, entered, page
):
    client.force_login(user)

    html = block(pages(client, entered)[page].content.decode(), "8.2")

    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    assert "2/3 thôn đạt các điều kiện (mục tiêu ≥ 100%)" in text
    assert "Chưa đạt ở: Pò Lọi (Điện thoại)" in text
    table = html.split('data-testid="village-answers"', 1)[1]
    po_loi = re.sub(
        r"\s+", " ", re.sub(r"<[^>]+>", " ", table.split("Pò Lọi", 1)[1].split("</tr>")[0])
    )
    assert po_loi.split() == ["Không", "Không", "Có", "Chưa", "nhập"]


def test_the_officer_who_may_enter_sees_the_form_not_the_read_only_answers(
    client, district_officer, entered
):
    client.force_login(district_officer)

    page = client.get(reverse("assessments:assessment", args=[entered.pk])).content.decode()

    assert 'data-testid="entered-' not in page
    assert 'data-testid="form-8.4"' in page


def test_the_scorecard_table_is_wrapped_so_a_phone_does_not_scroll_sideways(client, user, entered):
    client.force_login(user)

    page = pages(client, entered)["scorecard"].content.decode()

    before = page[: page.index('data-testid="scorecard"')]
    assert before.rindex('class="table-responsive') > before.rindex("</div>")


def count(client, url) -> int:
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx)


@pytest.mark.parametrize("page", ["assessment", "scorecard"])
def test_the_answers_cost_no_query_per_indicator_or_village(
    client, user, entered, commune, district_officer, page
):
    client.force_login(user)
    url = pages(client, entered)[page].wsgi_request.path
    few = count(client, url)
    more = [make_village(commune, f"Thôn số {i}") for i in range(30)]
    every = list(commune.villages.filter(is_active=True))
    save(
        entered,
        district_officer,
        "8.3",
        {"conditions": {"1": True}, "villages": {str(v.pk): {"2": True} for v in every}},
        villages=every,
    )
    save(entered, district_officer, "8.1", {"conditions": {"1": True}})
    assert more

    assert count(client, url) == few
