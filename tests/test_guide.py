"""The user guide: its sources hold together, the HTML the app serves is the one they build, the
guide is for logged-in users, and every page's "Hướng dẫn" link opens a section that exists.

That every button and link a step names is on its page is checked by the browser walk,
tests/e2e/test_guide_screens.py, which also takes the screenshots.
"""

from __future__ import annotations

import re

import pytest

from assessments import guide
from assessments.models import Role

pytestmark = pytest.mark.django_db


def test_the_guide_has_one_chapter_per_role_and_unique_anchors():
    parsed = guide.parse()
    chapters = [s.anchor for s in parsed.sections if s.level == 1]
    assert chapters == ["can-bo-xa", "tham-dinh-tinh", "quan-tri-tinh", "nguoi-xem"]
    anchors = [s.anchor for s in parsed.sections]
    assert len(anchors) == len(set(anchors))
    assert set(guide.CHAPTER) == set(Role.values)


def test_every_screenshot_the_guide_shows_is_in_the_repository_and_taken_by_a_screen():
    parsed = guide.parse()
    for image in parsed.images:
        assert (guide.SOURCES / image).is_file(), f"{image}: run `make docs`"
        assert image.removeprefix("img/").removesuffix(".jpg") in parsed.screens


def test_every_task_names_its_buttons_within_a_screen():
    parsed = guide.parse()
    named = [name for screen in parsed.screens.values() for name in screen.ui_names]
    assert "Gửi tỉnh thẩm định" in named and "Trả lại với lý do này" in named


def test_a_step_naming_a_button_before_any_screen_is_refused(tmp_path):
    source = tmp_path / "x.md"
    source.write_text("# Chương {#c}\n\n1. Bấm **[Lưu]**.\n", encoding="utf-8")
    with pytest.raises(ValueError, match="before any screen comment"):
        guide.parse([source])


def test_the_markup_becomes_steps_buttons_notes_and_figures(tmp_path):
    source = tmp_path / "x.md"
    source.write_text(
        "# Chương {#c}\n\n## Việc {#v}\n\n<!-- screen: s -->\n"
        "1. Bấm **[Gửi]** rồi đọc **chú ý** `{{ x }}`\n   tiếp dòng.\n2. Xem [mục khác](#v).\n\n"
        "> Ghi chú <b>.\n\n![Hình](img/s.jpg)\n",
        encoding="utf-8",
    )
    parsed = guide.parse([source])
    assert parsed.screens["s"].ui_names == ["Gửi"]
    assert '<strong class="ui">Gửi</strong>' in parsed.html
    assert "<code>&#123;&#123; x }}</code> tiếp dòng.</li>" in parsed.html
    assert '<a href="#v">mục khác</a>' in parsed.html
    assert '<div class="note"><p>Ghi chú &lt;b&gt;.</p></div>' in parsed.html
    assert '<img src="img/s.jpg" alt="Hình"' in parsed.html


def test_the_html_in_the_repository_is_the_one_the_sources_build():
    assert guide.BODY.read_text(encoding="utf-8") == guide.body(), (
        "templates/guide/_body.html is stale: run `manage.py build_guide --no-pdf` or `make docs`"
    )


def test_every_help_link_opens_a_section_of_the_guide():
    anchors = {s.anchor for s in guide.parse().sections}
    for view_name, target in guide.HELP.items():
        targets = target.values() if isinstance(target, dict) else [target]
        for anchor in targets:
            assert anchor in anchors, f"{view_name}: #{anchor} is not in the guide"
    assert set(guide.CHAPTER.values()) <= anchors


def test_the_guide_is_for_logged_in_users_only(client):
    response = client.get("/huong-dan/")
    assert response.status_code == 302 and "/dang-nhap/" in response["Location"]
    assert client.get("/huong-dan/img/dang-nhap.jpg").status_code == 302


def test_a_logged_in_user_reads_the_guide_with_its_contents_and_pictures(client, commune_officer):
    client.force_login(commune_officer)
    page = client.get("/huong-dan/").content.decode()
    assert "Hướng dẫn sử dụng NTM-ICT" in page and "Mục lục" in page
    assert 'id="cham-diem"' in page and 'src="img/cham-diem.jpg"' in page
    picture = client.get("/huong-dan/img/cham-diem.jpg")
    assert picture.status_code == 200 and picture["Content-Type"] == "image/jpeg"
    assert client.get("/huong-dan/img/..%2Fsecret.jpg").status_code == 404
    assert client.get("/huong-dan/img/khong-co.jpg").status_code == 404


def test_the_help_link_opens_the_section_of_the_page_for_the_users_role(
    client, commune_officer, user, assessment
):
    client.force_login(commune_officer)
    page = client.get(f"/danh-gia/{assessment.pk}/").content.decode()
    assert re.search(r'href="/huong-dan/#cham-diem"[^>]*>Hướng dẫn<', page)
    client.force_login(user)  # a province reviewer
    page = client.get(f"/danh-gia/{assessment.pk}/").content.decode()
    assert 'href="/huong-dan/#tham-dinh"' in page
    page = client.get("/ky-danh-gia/").content.decode()
    assert 'href="/huong-dan/#mo-ky-danh-gia"' in page
