"""The user guide: its sources hold together, the HTML the app serves is the one they build, the
guide is for logged-in users, and every page's "Hướng dẫn" link opens a section that exists.

That every button and link a step names is on its page is checked by the browser walk,
tests/e2e/test_guide_screens.py, which also takes the screenshots.
"""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import URLResolver, get_resolver

from assessments import guide
from assessments.models import Role

pytestmark = pytest.mark.django_db


def test_the_guide_has_a_shared_chapter_then_one_per_role_and_unique_anchors():
    parsed = guide.parse()
    chapters = [s.anchor for s in parsed.sections if s.level == 1]
    assert chapters == [guide.SHARED, "can-bo-xa", "tham-dinh-tinh", "quan-tri-tinh", "nguoi-xem"]
    anchors = [s.anchor for s in parsed.sections]
    assert len(anchors) == len(set(anchors))
    assert set(guide.CHAPTER) == set(Role.values)


def test_every_screenshot_the_guide_shows_is_in_the_repository_and_taken_by_a_screen():
    parsed = guide.parse()
    assert guide.missing_images(parsed) == [], "run `make docs`"
    shown = [image.removeprefix("img/").removesuffix(".jpg") for image in parsed.images]
    # Each screen the browser walk photographs is shown once, and nothing else is shown.
    assert sorted(shown) == sorted(parsed.screens)


def test_no_picture_is_left_in_the_folder_that_no_step_shows():
    assert guide.unused_images(guide.parse()) == []


def test_missing_and_unused_pictures_are_found(tmp_path, monkeypatch):
    source = tmp_path / "x.md"
    source.write_text("# C {#c}\n\n<!-- screen: a -->\n![A](img/a.jpg)\n", encoding="utf-8")
    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "old.jpg").write_bytes(b"x")
    monkeypatch.setattr(guide, "SOURCES", tmp_path)
    monkeypatch.setattr(guide, "IMAGES", tmp_path / "img")
    parsed = guide.parse([source])
    assert guide.missing_images(parsed) == ["img/a.jpg"]
    assert guide.unused_images(parsed) == ["old.jpg"]
    (tmp_path / "img" / "a.jpg").write_bytes(b"x")
    assert guide.missing_images(parsed) == []
    with pytest.raises(CommandError, match="old.jpg"):
        call_command("build_guide", "--no-pdf")


def test_every_task_names_its_buttons_within_a_screen():
    parsed = guide.parse()
    named = [name for screen in parsed.screens.values() for name in screen.ui_names]
    assert "Gửi tỉnh thẩm định" in named and "Trả lại với lý do này" in named


def test_bold_split_over_two_lines_is_refused(tmp_path):
    source = tmp_path / "x.md"
    source.write_text("# C {#c}\n\n1. Bấm **Lưu\n   lại** rồi đi.\n", encoding="utf-8")
    with pytest.raises(ValueError, match="x.md:3: bold or code"):
        guide.parse([source])


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


def _url_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                space = f"{prefix}{pattern.namespace}:" if pattern.namespace else prefix
                walk(pattern.url_patterns, space)
            elif pattern.name:
                names.add(prefix + pattern.name)

    walk(get_resolver().url_patterns)
    return names


def test_every_help_link_opens_a_section_of_the_guide_from_a_real_page():
    anchors = {s.anchor for s in guide.parse().sections}
    pages = _url_names()
    for view_name, target in guide.HELP.items():
        assert view_name in pages, f"{view_name} is not a page of the app"
        targets = target.values() if isinstance(target, dict) else [target]
        for anchor in targets:
            assert anchor in anchors, f"{view_name}: #{anchor} is not in the guide"
    assert set(guide.CHAPTER.values()) <= anchors


# The pages each role works on (its start page, the pages of its tasks, and the shared ones).
_OFFICER = ["home", "password_change", "assessments:worklist", "assessments:assessment"]
MAIN_PAGES = {
    Role.COMMUNE_OFFICER: [*_OFFICER, "assessments:commune"],
    Role.DISTRICT_OFFICER: [*_OFFICER, "assessments:commune", "assessments:excel_upload"],
    Role.PROVINCE_REVIEWER: [
        *_OFFICER,
        "assessments:approve_selected",
        "reports:province",
        "reports:scorecard",
    ],
    Role.PROVINCE_ADMIN: [
        *_OFFICER,
        "assessments:user_list",
        "assessments:user_create",
        "assessments:user_edit",
        "assessments:user_password",
        "assessments:review_assignments",
        "assessments:period_list",
        "criteria:set_list",
        "criteria:set_detail",
        "criteria:indicator_edit",
        "assessments:commune",
        "assessments:group_import",
        "reports:province",
    ],
    Role.VIEWER: [
        "password_change",
        "assessments:worklist",
        "assessments:assessment",
        "reports:province",
        "reports:district",
        "reports:scorecard",
    ],
}


def test_each_roles_main_pages_open_a_task_of_its_chapter_or_of_the_shared_one():
    chapter_of, chapter = {}, None
    for section in guide.parse().sections:
        chapter = section.anchor if section.level == 1 else chapter
        if section.level == 2:
            chapter_of[section.anchor] = chapter
    assert set(MAIN_PAGES) == set(Role.values)
    for role, pages in MAIN_PAGES.items():
        for view_name in pages:
            anchor = guide.anchor_for(view_name, role)
            assert anchor in chapter_of, f"{role} on {view_name}: #{anchor} is not a task"
            assert chapter_of[anchor] in (guide.CHAPTER[role], guide.SHARED), (
                f"{role} on {view_name}: #{anchor} is in the chapter {chapter_of[anchor]}"
            )


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
    assert 'href="/huong-dan/#hang-cho"' in client.get("/").content.decode()
    assert 'href="/huong-dan/#bang-tong-hop"' in client.get("/bao-cao/").content.decode()


def _help(client, url: str) -> str:
    response = client.get(url, follow=True)
    assert response.status_code == 200, url
    return re.search(
        r'href="/huong-dan/(#[a-z0-9-]*)?"[^>]*>Hướng dẫn<', response.content.decode()
    )[1]


def test_the_administrators_pages_open_their_own_sections(client, manager):
    client.force_login(manager)
    assert _help(client, "/") == "#thiet-lap"
    assert _help(client, "/nguoi-dung/") == "#tai-khoan"
    assert _help(client, "/nguoi-dung/them/") == "#tai-khoan"
    assert _help(client, "/phan-cong-tham-dinh/") == "#phan-cong-tham-dinh"
    assert _help(client, "/ky-danh-gia/") == "#mo-ky-danh-gia"
    assert _help(client, "/danh-gia/") == "#theo-doi"


def test_the_viewer_and_the_officer_start_on_their_own_sections(client, viewer, commune_officer):
    client.force_login(viewer)
    assert _help(client, "/") == "#xem-bang-tong-hop"  # the dashboard, the viewer's start page
    client.force_login(commune_officer)
    assert _help(client, "/") == "#viec-cua-ban"
    assert _help(client, "/mat-khau/") == "#dang-nhap"
