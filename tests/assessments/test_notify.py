"""E-mail to the people concerned: each workflow step sends one message to those who act next
(and to nobody else), after the step commits; a failure to send never undoes the step; each
person turns kinds off; the daily reminder tells officers what is waiting."""

from __future__ import annotations

import datetime
import logging
import os
import re

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from assessments import notify, services
from assessments.excel_entry import PREVIEW_DIR
from assessments.models import (
    Assessment,
    Commune,
    CommuneGroupAssignment,
    ReviewAssignment,
    Role,
    State,
)
from tests.assessments.test_workflow import complete
from tests.conftest import indicator, make_commune, make_period, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(province, loc_binh, cao_loc, commune, other_commune):
    """Everyone who could be told something, each with an address; the assessment's commune is
    Hữu Khánh (Lộc Bình)."""
    neighbour = make_commune(loc_binh, "Xã Tú Đoạn")

    def person(username, role, **unit):
        return make_user(
            username,
            role=role,
            province=province,
            email=f"{username}@example.gov.vn",
            reviews_whole_province=False,
            **unit,
        )

    found = {
        "commune_officer": person(
            "xa-huukhanh", Role.COMMUNE_OFFICER, district=loc_binh, commune=commune
        ),
        "neighbour_officer": person(
            "xa-tudoan", Role.COMMUNE_OFFICER, district=loc_binh, commune=neighbour
        ),
        "district_officer": person("huyen-locbinh", Role.DISTRICT_OFFICER, district=loc_binh),
        "other_district_officer": person("huyen-caoloc", Role.DISTRICT_OFFICER, district=cao_loc),
        "district_viewer": person("xem-huyen", Role.VIEWER, district=loc_binh),
        "province_reviewer": person("tinh-thamdinh", Role.PROVINCE_REVIEWER),
        "commune_reviewer": person("thamdinh-huukhanh", Role.PROVINCE_REVIEWER),
        "other_reviewer": person("thamdinh-hoacu", Role.PROVINCE_REVIEWER),
        "admin": person("tinh-admin", Role.PROVINCE_ADMIN),
        "viewer": person("xem-tinh", Role.VIEWER),
    }
    ReviewAssignment.objects.create(reviewer=found["province_reviewer"], province=province)
    ReviewAssignment.objects.create(
        reviewer=found["commune_reviewer"], province=province, commune=commune
    )
    ReviewAssignment.objects.create(
        reviewer=found["other_reviewer"], province=province, commune=other_commune
    )
    return found


@pytest.fixture
def draft(commune, ntm_set, period, villages, people):
    assessment = services.create_assessment(
        user=people["district_officer"], commune=commune, criteria_set=ntm_set, period=period
    )
    return complete(assessment, people["district_officer"])


def step(client, who, name, assessment, capture, **data):
    """One workflow step through the page, as `who`; returns the messages it sent."""
    mail.outbox.clear()
    client.force_login(who)
    with capture(execute=True):
        response = client.post(reverse(f"assessments:{name}", args=[assessment.pk]), data)
    assert response.status_code == 302
    return list(mail.outbox)


def addresses(*users) -> list[str]:
    return sorted(user.email for user in users)


def only_message(sent) -> mail.EmailMessage:
    assert len(sent) == 1, [m.subject for m in sent]
    return sent[0]


def test_a_commune_officers_submission_tells_the_district_officers_only(
    client, people, draft, django_capture_on_commit_callbacks
):
    message = only_message(
        step(client, people["commune_officer"], "submit", draft, django_capture_on_commit_callbacks)
    )

    assert sorted(message.to) == addresses(people["district_officer"])
    assert message.subject == "[NTM-ICT] Cần kiểm tra và gửi tỉnh: Xã Hữu Khánh · Năm 2025"
    assert f"/danh-gia/{draft.pk}/" in message.body
    assert "/thong-bao/" in message.body  # where to turn it off


def test_a_submission_to_the_province_tells_the_reviewers_of_the_commune_only(
    client, people, draft, django_capture_on_commit_callbacks
):
    message = only_message(
        step(
            client, people["district_officer"], "submit", draft, django_capture_on_commit_callbacks
        )
    )

    assert sorted(message.to) == addresses(people["province_reviewer"], people["commune_reviewer"])
    assert message.subject == "[NTM-ICT] Chờ bạn thẩm định: Xã Hữu Khánh · Năm 2025"


def test_the_district_forwarding_tells_the_reviewers_of_the_commune(
    client, people, draft, django_capture_on_commit_callbacks
):
    services.submit(user=people["commune_officer"], assessment=draft)

    message = only_message(
        step(
            client, people["district_officer"], "forward", draft, django_capture_on_commit_callbacks
        )
    )

    assert sorted(message.to) == addresses(people["province_reviewer"], people["commune_reviewer"])


def test_a_return_tells_the_communes_officers_and_the_submitter_with_the_notes(
    client, people, draft, django_capture_on_commit_callbacks
):
    # the submitter here is a superuser (the national operator), outside the commune's officers
    operator = make_user("quoc-gia", is_superuser=True, email="quocgia@example.gov.vn")
    services.submit(user=operator, assessment=draft)
    internet = indicator(draft.criteria_set, "8.2")

    message = only_message(
        step(
            client,
            people["province_reviewer"],
            "return",
            draft,
            django_capture_on_commit_callbacks,
            reason="Xem các ghi chú",
            **{f"note_{internet.pk}": "Bổ sung ảnh chụp thôn Pò Lọi\r\nvà biên bản"},
        )
    )

    assert sorted(message.to) == addresses(
        people["commune_officer"], people["district_officer"], operator
    )
    assert message.subject == "[NTM-ICT] Hồ sơ bị trả lại để chỉnh sửa: Xã Hữu Khánh · Năm 2025"
    assert "Lý do: Xem các ghi chú" in message.body
    assert "- 8.2: Bổ sung ảnh chụp thôn Pò Lọi\n  và biên bản\n" in message.body


def test_the_districts_return_tells_the_commune_officer_not_the_district_officer_who_returned(
    client, people, draft, django_capture_on_commit_callbacks
):
    services.submit(user=people["commune_officer"], assessment=draft)

    message = only_message(
        step(
            client,
            people["district_officer"],
            "return",
            draft,
            django_capture_on_commit_callbacks,
            reason="Thiếu số liệu thôn",
        )
    )

    assert sorted(message.to) == addresses(people["commune_officer"])


def test_an_approval_tells_the_communes_officers(
    client, people, draft, django_capture_on_commit_callbacks
):
    services.submit(user=people["district_officer"], assessment=draft)

    message = only_message(
        step(
            client, people["commune_reviewer"], "approve", draft, django_capture_on_commit_callbacks
        )
    )

    assert sorted(message.to) == addresses(people["commune_officer"], people["district_officer"])
    assert message.subject == "[NTM-ICT] Đã duyệt: Xã Hữu Khánh · Năm 2025"


def test_people_who_turned_a_kind_off_have_no_address_or_are_inactive_get_nothing(
    client, people, draft, django_capture_on_commit_callbacks
):
    people["province_reviewer"].muted_notifications = [notify.Kind.SUBMITTED]
    people["province_reviewer"].save()
    people["commune_reviewer"].is_active = False
    people["commune_reviewer"].save()
    make_user(
        "thamdinh-khongthu", role=Role.PROVINCE_REVIEWER, province=people["admin"].province
    )  # a reviewer of the whole province without an address

    sent = step(
        client, people["district_officer"], "submit", draft, django_capture_on_commit_callbacks
    )

    assert sent == []


def test_a_new_commune_without_a_district_goes_to_its_officer_and_the_reviewers(
    client, province, people, grouped_set, django_capture_on_commit_callbacks
):
    new = Commune.objects.create(
        province=province,
        code="06529",
        name="Xã Lộc Bình",
        kind="xa",
        valid_from=datetime.date(2025, 7, 1),
    )
    officer = make_user(
        "xa-locbinh",
        role=Role.COMMUNE_OFFICER,
        province=province,
        commune=new,
        email="xa-locbinh@example.gov.vn",
    )
    period = make_period(
        province,
        [grouped_set],
        name="Năm 2026",
        year=2026,
        reference_date=datetime.date(2026, 3, 1),
    )
    CommuneGroupAssignment.objects.create(
        commune=new, set_code=grouped_set.code, group_code="nhom-1"
    )
    assessment = services.create_assessment(
        user=officer, commune=new, criteria_set=grouped_set, period=period
    )
    services.save_entry(
        user=officer,
        assessment=assessment,
        indicator=indicator(grouped_set, "7.1"),
        entry=services.Entry(inputs={"value": "95"}, no_evidence_explanation="Đã kiểm tra"),
        seen_version=None,
    )

    submitted = only_message(
        step(client, officer, "submit", assessment, django_capture_on_commit_callbacks)
    )
    returned = only_message(
        step(
            client,
            people["province_reviewer"],
            "return",
            assessment,
            django_capture_on_commit_callbacks,
            reason="Thiếu minh chứng",
        )
    )

    assert submitted.to == [people["province_reviewer"].email]  # assigned to the whole province
    assert returned.to == [officer.email]  # no district officer has a say any more


def test_nothing_is_sent_before_the_step_commits(people, draft, django_capture_on_commit_callbacks):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.submit(user=people["district_officer"], assessment=draft)

    assert mail.outbox == []
    assert len(callbacks) == 1


class BrokenBackend(BaseEmailBackend):
    """A mail server that never answers."""

    def send_messages(self, email_messages):
        raise ConnectionRefusedError("the mail server is down")


def test_a_failure_to_send_is_logged_and_the_step_is_kept(
    client, people, draft, django_capture_on_commit_callbacks, settings, caplog
):
    settings.EMAIL_BACKEND = f"{__name__}.BrokenBackend"
    client.force_login(people["district_officer"])

    with (
        caplog.at_level(logging.ERROR, logger="assessments.notify"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client.post(reverse("assessments:submit", args=[draft.pk]), follow=True)

    assert response.status_code == 200
    assert "Đã gửi hồ sơ." in response.content.decode()
    draft.refresh_from_db()
    assert draft.state == State.SUBMITTED
    assert "could not be sent" in caplog.text and "the mail server is down" in caplog.text


# ---------------------------------------------------------------- preferences


def test_each_person_turns_kinds_of_e_mail_off_on_their_page(client, people):
    officer = people["district_officer"]
    client.force_login(officer)
    url = reverse("assessments:notifications")
    page = client.get(url).content.decode()
    assert 'href="/thong-bao/"' in page  # linked from the menu
    assert page.count('name="receive"') == len(notify.Kind.values)
    assert officer.email in page

    response = client.post(url, {"receive": [notify.Kind.RETURNED, notify.Kind.APPROVED]})

    assert response.status_code == 302
    officer.refresh_from_db()
    assert officer.muted_notifications == [notify.Kind.SUBMITTED, notify.Kind.DAILY]
    ticked = re.findall(
        r'<input [^>]*name="receive" value="(\w+)"[^>]*checked', client.get(url).content.decode()
    )
    assert ticked == [notify.Kind.RETURNED, notify.Kind.APPROVED]


def test_the_page_says_when_a_person_has_no_address(client, user):
    client.force_login(user)

    page = client.get(reverse("assessments:notifications")).content.decode()

    assert 'data-testid="no-email"' in page


# ---------------------------------------------------------------- the daily reminder


@pytest.fixture
def closing_soon(period):
    period.closes_on = timezone.localdate() + datetime.timedelta(days=3)
    period.save()
    return period


def reminders(**options) -> dict[str, mail.EmailMessage]:
    mail.outbox.clear()
    call_command("daily", verbosity=0, **options)
    return {message.to[0]: message for message in mail.outbox}


def test_the_daily_reminder_names_closing_periods_communes_not_started_and_returns(
    people, draft, closing_soon
):
    services.submit(user=people["district_officer"], assessment=draft)
    services.return_assessment(
        user=people["province_reviewer"], assessment=draft, reason="Thiếu ảnh chụp"
    )

    sent = reminders()

    district = sent.pop(people["district_officer"].email)
    assert district.subject.startswith("[NTM-ICT] Việc chờ bạn ngày ")
    assert "Năm 2025 kết thúc ngày" in district.body and "còn 3 ngày" in district.body
    assert "2021–2025: Xã Tú Đoạn\n" in district.body  # not started
    assert (
        "Xã Hữu Khánh (Lộc Bình) · Năm 2025" in district.body and "Thiếu ảnh chụp" in district.body
    )
    commune = sent.pop(people["commune_officer"].email)
    assert "Thiếu ảnh chụp" in commune.body and "Xã Tú Đoạn" not in commune.body
    neighbour = sent.pop(people["neighbour_officer"].email)
    assert "Xã Tú Đoạn" in neighbour.body and "Xã Hữu Khánh" not in neighbour.body
    other = sent.pop(people["other_district_officer"].email)
    assert "Xã Hòa Cư" in other.body and "Xã Hữu Khánh" not in other.body
    assert sent == {}  # no reviewer, administrator or viewer


def test_the_daily_reminder_respects_the_choice_and_the_number_of_days(people, draft, closing_soon):
    for key in ("commune_officer", "neighbour_officer", "other_district_officer"):
        people[key].muted_notifications = [notify.Kind.DAILY]
        people[key].save()

    soon = reminders(days=7)[people["district_officer"].email]
    later = reminders(days=2)[people["district_officer"].email]

    assert set(reminders()) == {people["district_officer"].email}
    assert "còn 3 ngày" in soon.body
    assert "kết thúc ngày" not in later.body  # not within two days
    assert "Xã Tú Đoạn" in later.body  # still not started


def test_nothing_waiting_means_no_reminder(people, period):
    period.is_open = False
    period.save()

    assert reminders() == {}


def test_the_daily_command_says_how_many_it_sent_and_drops_expired_previews(
    people, closing_soon, capsys, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    folder = tmp_path / PREVIEW_DIR / str(people["district_officer"].pk)
    folder.mkdir(parents=True)
    old, new = folder / "old.xlsx", folder / "new.xlsx"
    for path in (old, new):
        path.write_bytes(b"PK")
    two_days_ago = (timezone.now() - datetime.timedelta(days=2)).timestamp()
    os.utime(old, (two_days_ago, two_days_ago))

    call_command("daily")

    out = capsys.readouterr().out
    assert "4 reminder(s) sent" in out and "1 expired Excel preview(s) removed" in out
    assert not old.exists() and new.exists()


def test_assessments_stay_untouched_by_the_reminder(people, draft, closing_soon):
    before = list(Assessment.objects.values_list("pk", "state", "version"))

    reminders()

    assert list(Assessment.objects.values_list("pk", "state", "version")) == before
