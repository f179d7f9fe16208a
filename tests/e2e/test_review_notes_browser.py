"""Review notes in a real browser, on the 2025 demo flow: the district officer submits Yên Khoái,
the Sở KH&CN reviewer returns it with a note on 8.2 only, the officer sees 8.2 highlighted with
the note, fixes it and resubmits, and the reviewer sees what changed on 8.2. Each step e-mails
the people concerned, and nobody else."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.management import call_command
from playwright.sync_api import expect

from assessments import services
from assessments.models import AssessmentPeriod, Commune, State, User, Village
from criteria.models import CriteriaSet
from tests.assessments.test_workflow import complete

from .conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "ntm-demo-2025"
NOTE = "Bổ sung ảnh chụp điểm truy cập Internet công cộng thôn Pò Lọi"


@pytest.fixture
def scored(settings, tmp_path):
    """Yên Khoái (Lộc Bình) scored by the district in the demo period, not yet submitted; every
    demo account has an address."""
    settings.DEBUG = True
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("load_criteria", verbosity=0)
    call_command("import_units", "--region", "trung-du-mien-nui-phia-bac", verbosity=0)
    call_command("create_demo_accounts", verbosity=0)
    call_command("create_demo_period", verbosity=0)
    settings.DEBUG = False
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    for user in User.objects.all():
        user.email = f"{user.username}@langson.gov.vn"
        user.save(update_fields=["email"])
    commune = Commune.objects.get(code="06541")  # Xã Yên Khoái, Lộc Bình
    for name in ("Bản Chắt", "Nà Mạ", "Pò Lọi"):
        Village.objects.create(commune=commune, name=name)
    assessment = services.create_assessment(
        user=User.objects.get(username="huyen-locbinh"),
        commune=commune,
        criteria_set=CriteriaSet.objects.get(code="xa-ntm-2021-2025"),
        period=AssessmentPeriod.objects.get(name="Năm 2025"),
    )
    return complete(assessment, User.objects.get(username="huyen-locbinh"))


def test_a_note_on_8_2_is_highlighted_fixed_and_shown_as_changed_with_e_mails(
    page, live_server, scored, mailoutbox
):
    assessment = scored
    url = f"{live_server.url}/danh-gia/{assessment.pk}/"
    internet = page.locator('[id="indicator-8.2"]')

    # 1. The district submits to the province.
    log_in(page, live_server, "huyen-locbinh", PASSWORD)
    page.goto(url)
    page.get_by_role("button", name="Gửi tỉnh thẩm định").click()
    expect(page.get_by_text("Đã gửi hồ sơ.")).to_be_visible()
    page.get_by_role("button", name="Đăng xuất").click()

    # 2. The reviewer returns it with a note on 8.2 only, no overall reason.
    log_in(page, live_server, "tinh-thamdinh", PASSWORD)
    page.goto(url)
    page.get_by_label("Cần bổ sung: chỉ tiêu 8.2").fill(NOTE)
    page.get_by_role("button", name="Trả lại với lý do này").click()
    expect(page.get_by_text("Đã trả lại hồ sơ kèm lý do của bạn.")).to_be_visible()
    page.get_by_role("button", name="Đăng xuất").click()

    # 3. The officer sees 8.2 highlighted with the note, fixes it and resubmits.
    log_in(page, live_server, "huyen-locbinh", PASSWORD)
    page.goto(url)
    expect(page.get_by_test_id("return-notes")).to_contain_text(f"8.2: {NOTE}")
    expect(internet).to_have_class(re.compile("border-warning"))
    expect(page.get_by_test_id("review-note-8.2")).to_contain_text(NOTE)
    for code in ("8.1", "8.3", "8.4"):
        expect(page.get_by_test_id(f"review-note-{code}")).to_have_count(0)
    page.get_by_test_id("return-notes").get_by_role("link", name="8.2").click()
    form = page.get_by_test_id("form-8.2")
    form.get_by_label("Ghi chú").fill("Đã bổ sung ảnh điểm truy cập thôn Pò Lọi")
    form.get_by_role("button", name="Lưu chỉ tiêu 8.2").click()
    expect(page.get_by_role("alert").filter(has_text="Đã lưu chỉ tiêu 8.2.")).to_be_visible()
    page.get_by_role("button", name="Gửi tỉnh thẩm định").click()
    expect(page.get_by_text("Đã gửi hồ sơ.")).to_be_visible()
    page.get_by_role("button", name="Đăng xuất").click()

    # 4. The reviewer sees what changed on 8.2 since the return, and nothing on the others.
    log_in(page, live_server, "tinh-thamdinh", PASSWORD)
    page.goto(url)
    expect(page.get_by_test_id("since-return")).to_contain_text("8.2")
    changed = page.get_by_test_id("since-return-8.2")
    expect(changed).to_contain_text("Ghi chú")
    expect(changed).to_contain_text("Đã bổ sung ảnh điểm truy cập thôn Pò Lọi")
    expect(page.get_by_test_id("review-note-8.2")).to_contain_text(NOTE)
    for code in ("8.1", "8.3", "8.4"):
        expect(page.get_by_test_id(f"since-return-{code}")).to_have_count(0)
    expect(page.get_by_test_id("timeline-notes")).to_contain_text(NOTE)
    expect(page.get_by_test_id("history")).to_contain_text("Cần bổ sung (ghi chú thẩm định)")
    assessment.refresh_from_db()
    assert assessment.state == State.SUBMITTED

    # Each step told the people concerned, and nobody else.
    assert mailoutbox is mail.outbox
    assert [(m.to, m.subject) for m in mailoutbox] == [
        (["tinh-thamdinh@langson.gov.vn"], "[NTM-ICT] Chờ bạn thẩm định: Xã Yên Khoái · Năm 2025"),
        (
            ["huyen-locbinh@langson.gov.vn"],
            "[NTM-ICT] Hồ sơ bị trả lại để chỉnh sửa: Xã Yên Khoái · Năm 2025",
        ),
        (["tinh-thamdinh@langson.gov.vn"], "[NTM-ICT] Chờ bạn thẩm định: Xã Yên Khoái · Năm 2025"),
    ]
    assert f"- 8.2: {NOTE}" in mailoutbox[1].body
