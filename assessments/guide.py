"""The user guide ("Hướng dẫn sử dụng"): its sources, their light markup, the page that shows it,
and the one table that says which section of it each page's "Help" link opens.

The sources are `docs/guide/*.md`, one file per role, in Vietnamese. Their markup is a small
subset of Markdown, converted here (the `markdown` package would add a dependency for the few
constructs the guide uses, and the test that checks the guide reads the same structure):

- `# Title {#anchor}` starts a chapter, `## Title {#anchor}` a task inside it;
- `<!-- screen: name -->` says that the lines below it, up to the next such comment, are done on
  the screen the browser test saves as `img/name.jpg` (tests/e2e/test_guide_screens.py), and
  that every button or link they name must exist on that screen;
- `1. …` is a numbered step, `- …` a bullet, `> …` a note, `![caption](img/name.jpg)` a
  screenshot, any other line a paragraph (a blank line ends it);
- inline: `**[Name]**` names a button or link of the page, `**text**` is bold, `` `x` `` is
  code, `[text](#anchor)` links to another section.

`manage.py build_guide` writes the HTML (templates/guide/_body.html, kept in the repository so a
fresh clone shows the guide) and prints the PDF.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from .models import Role

SOURCES = Path(settings.BASE_DIR) / "docs" / "guide"
IMAGES = SOURCES / "img"
BODY = Path(settings.BASE_DIR) / "templates" / "guide" / "_body.html"
STYLE = Path(settings.BASE_DIR) / "static" / "css" / "guide.css"

HEADING = re.compile(r"^(#{1,2})\s+(.+?)\s*(?:\{#([a-z0-9-]+)\})?\s*$")
SCREEN = re.compile(r"^<!--\s*screen:\s*([a-z0-9-]+)\s*-->\s*$")
STEP = re.compile(r"^(\d+)\.\s+(.*)$")
IMAGE = re.compile(r"^!\[([^\]]*)\]\((img/[a-z0-9-]+\.(?:jpg|png))\)\s*$")
UI_NAME = re.compile(r"\*\*\[([^\]]+)\]\*\*")
INLINE = re.compile(
    r"\*\*\[(?P<ui>[^\]]+)\]\*\*|\*\*(?P<bold>[^*]+)\*\*|`(?P<code>[^`]+)`"
    r"|\[(?P<text>[^\]]+)\]\((?P<href>#[a-z0-9-]+)\)"
)

# Which section of the guide each page's "Help" link opens: the view name, then either one anchor
# or one per role (the guide has a chapter per role, and a first chapter, "chung", for everyone).
# A page not named here, or not for this role, opens the chapter of the user's role.
# tests/test_guide.py checks that every anchor exists, and that each role's main pages (MAIN_PAGES
# there) open a task of that role's chapter or of the shared one.
SHARED = "chung"
CHAPTER = {
    Role.COMMUNE_OFFICER: "can-bo-xa",
    Role.DISTRICT_OFFICER: "can-bo-xa",
    Role.PROVINCE_REVIEWER: "tham-dinh-tinh",
    Role.PROVINCE_ADMIN: "quan-tri-tinh",
    Role.VIEWER: "nguoi-xem",
}
_REPORTS = {
    Role.COMMUNE_OFFICER: "bang-tong-hop",
    Role.DISTRICT_OFFICER: "bang-tong-hop",
    Role.PROVINCE_REVIEWER: "bang-tong-hop",
    Role.PROVINCE_ADMIN: "bang-tong-hop",
    Role.VIEWER: "xem-bang-tong-hop",
}
HELP = {
    "login": "dang-nhap",
    "password_change": "dang-nhap",
    "password_change_done": "dang-nhap",
    "home": {
        Role.COMMUNE_OFFICER: "viec-cua-ban",
        Role.DISTRICT_OFFICER: "viec-cua-ban",
        Role.PROVINCE_REVIEWER: "hang-cho",
        Role.PROVINCE_ADMIN: "thiet-lap",
        Role.VIEWER: "xem-bang-tong-hop",
    },
    "assessments:worklist": {
        Role.COMMUNE_OFFICER: "cham-diem",
        Role.DISTRICT_OFFICER: "cham-diem",
        Role.PROVINCE_REVIEWER: "duyet-nhieu",
        Role.PROVINCE_ADMIN: "theo-doi",
        Role.VIEWER: "xem-ho-so",
    },
    "assessments:assessment": {
        Role.COMMUNE_OFFICER: "cham-diem",
        Role.DISTRICT_OFFICER: "cham-diem",
        Role.PROVINCE_REVIEWER: "tham-dinh",
        Role.PROVINCE_ADMIN: "theo-doi",
        Role.VIEWER: "xem-ho-so",
    },
    "assessments:approve_selected": "duyet-nhieu",
    "assessments:approve_district": "duyet-nhieu",
    "assessments:period_list": {Role.PROVINCE_ADMIN: "mo-ky-danh-gia"},
    "criteria:set_list": {Role.PROVINCE_ADMIN: "hoan-thien-bo-tieu-chi"},
    "criteria:set_detail": {Role.PROVINCE_ADMIN: "hoan-thien-bo-tieu-chi"},
    "criteria:indicator_edit": "hoan-thien-bo-tieu-chi",
    "criteria:indicator_add": "hoan-thien-bo-tieu-chi",
    "assessments:commune": {
        Role.COMMUNE_OFFICER: "danh-sach-thon",
        Role.DISTRICT_OFFICER: "danh-sach-thon",
        Role.PROVINCE_ADMIN: "xep-nhom-xa",
    },
    "assessments:group_import": "xep-nhom-xa",
    "assessments:group_import_apply": "xep-nhom-xa",
    "assessments:excel_upload": "nhap-excel",
    "assessments:excel_apply": "nhap-excel",
    "assessments:user_list": "tai-khoan",
    "assessments:user_create": "tai-khoan",
    "assessments:user_edit": "tai-khoan",
    "assessments:user_password": "tai-khoan",
    "assessments:review_assignments": "phan-cong-tham-dinh",
    "reports:province": _REPORTS,
    "reports:district": _REPORTS,
    "reports:scorecard": {**_REPORTS, Role.VIEWER: "xem-phieu"},
}


@dataclass
class Section:
    """A chapter (level 1) or a task (level 2) of the guide."""

    level: int
    title: str
    anchor: str
    source: str


@dataclass
class Screen:
    """The lines of the guide done on one screen, and the buttons and links they name."""

    name: str
    source: str
    ui_names: list[str] = field(default_factory=list)


@dataclass
class Guide:
    sections: list[Section] = field(default_factory=list)
    screens: dict[str, Screen] = field(default_factory=dict)
    images: list[str] = field(default_factory=list)
    html: str = ""


def sources() -> list[Path]:
    return sorted(SOURCES.glob("*.md"))


def missing_images(guide: Guide) -> list[str]:
    """Pictures the guide shows that are not in docs/guide/img/ (`make docs` takes them)."""
    return sorted({name for name in guide.images if not (SOURCES / name).is_file()})


def unused_images(guide: Guide) -> list[str]:
    """Pictures in docs/guide/img/ that no step shows any more."""
    shown = {name.removeprefix("img/") for name in guide.images}
    return sorted(p.name for p in IMAGES.glob("*") if p.is_file() and p.name not in shown)


def _inline(text: str) -> str:
    out, at = [], 0
    for match in INLINE.finditer(text):
        out.append(html.escape(text[at : match.start()]))
        if match["ui"]:
            out.append(f'<strong class="ui">{html.escape(match["ui"])}</strong>')
        elif match["bold"]:
            out.append(f"<strong>{html.escape(match['bold'])}</strong>")
        elif match["code"]:
            out.append(f"<code>{html.escape(match['code'])}</code>")
        else:
            out.append(f'<a href="{match["href"]}">{html.escape(match["text"])}</a>')
        at = match.end()
    out.append(html.escape(text[at:]))
    # The body is included by a Django template: no "{" may start a tag or variable there.
    return "".join(out).replace("{", "&#123;")


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def parse(paths: list[Path] | None = None) -> Guide:
    """Read the sources into sections, screens and HTML (the body, without its contents list)."""
    guide = Guide()
    out: list[str] = []
    for path in paths if paths is not None else sources():
        block: str | None = None  # "ol", "ul", "p" or "note" while one is open
        screen: Screen | None = None

        def close():
            nonlocal block
            if block in ("ol", "ul"):
                out.append(f"</{block}>")
            block = None

        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            where = f"{path.name}:{number}"
            stripped = line.strip()
            if not stripped:
                close()
                continue
            if match := SCREEN.match(stripped):
                close()
                screen = guide.screens.setdefault(match[1], Screen(match[1], where))
                continue
            if stripped.startswith("<!--"):
                continue
            if match := HEADING.match(stripped):
                close()
                level, title = len(match[1]), match[2]
                anchor = match[3] or _slug(title)
                guide.sections.append(Section(level, title, anchor, where))
                if level == 1:
                    if any(s.level == 1 for s in guide.sections[:-1]):
                        out.append("</section>")
                    out.append(f'<section class="chapter" aria-labelledby="{anchor}">')
                out.append(f'<h{level} id="{anchor}">{_inline(title)}</h{level}>')
                screen = None
                continue
            if match := IMAGE.match(stripped):
                close()
                guide.images.append(match[2])
                caption = _inline(match[1])
                out.append(
                    f'<figure class="shot"><img src="{match[2]}" alt="{html.escape(match[1])}"'
                    f' loading="lazy"><figcaption>{caption}</figcaption></figure>'
                )
                continue
            if stripped.count("**") % 2 or stripped.count("`") % 2:
                raise ValueError(f"{where}: bold or code must open and close on the same line")
            names = UI_NAME.findall(stripped)
            if names:
                if screen is None:
                    raise ValueError(f"{where}: names a button or link before any screen comment")
                screen.ui_names.extend(n for n in names if n not in screen.ui_names)
            if match := STEP.match(stripped):
                if block != "ol":
                    close()
                    # a list cut by a screenshot goes on with its own numbers
                    out.append("<ol>" if match[1] == "1" else f'<ol start="{match[1]}">')
                    block = "ol"
                out.append(f"<li>{_inline(match[2])}</li>")
            elif stripped.startswith("- "):
                if block != "ul":
                    close()
                    out.append("<ul>")
                    block = "ul"
                out.append(f"<li>{_inline(stripped[2:])}</li>")
            elif stripped.startswith("> "):
                text = _inline(stripped[2:])
                if block != "note":
                    close()
                    out.append(f'<div class="note"><p>{text}</p></div>')
                    block = "note"
                else:
                    out[-1] = out[-1].removesuffix("</p></div>") + f" {text}</p></div>"
            elif block in ("ol", "ul"):
                # a line continuing the last item
                out[-1] = out[-1].removesuffix("</li>") + " " + _inline(stripped) + "</li>"
            else:
                if block != "p":
                    close()
                    out.append(f"<p>{_inline(stripped)}</p>")
                    block = "p"
                else:
                    out[-1] = out[-1].removesuffix("</p>") + f" {_inline(stripped)}</p>"
        close()
    if any(s.level == 1 for s in guide.sections):
        out.append("</section>")
    guide.html = "\n".join(out) + "\n"
    return guide


def contents(guide: Guide) -> str:
    """The table of contents: chapters with their tasks."""
    out = ['<nav class="toc" aria-labelledby="toc-title">', '<h2 id="toc-title">Mục lục</h2>']
    out.append("<ol>")
    open_tasks = False
    for section in guide.sections:
        link = f'<a href="#{section.anchor}">{_inline(section.title)}</a>'
        if section.level == 1:
            if open_tasks:
                out.append("</ol></li>")
            elif out[-1] != "<ol>":
                out.append("</li>")
            out.append(f"<li>{link}")
            open_tasks = False
        else:
            if not open_tasks:
                out.append("<ol>")
                open_tasks = True
            out.append(f"<li>{link}</li>")
    out.append("</ol></li></ol>" if open_tasks else "</li></ol>")
    out.append("</nav>")
    return "\n".join(out) + "\n"


def body(guide: Guide | None = None) -> str:
    """The generated HTML the page includes and the PDF prints: contents list, then chapters."""
    guide = guide or parse()
    note = "<!-- Generated by manage.py build_guide from docs/guide/*.md: do not edit. -->\n"
    return note + contents(guide) + guide.html


def anchor_for(view_name: str, role: str) -> str:
    """The section of the guide that a page's "Help" link opens."""
    target = HELP.get(view_name)
    if isinstance(target, dict):
        target = target.get(role)
    return target or CHAPTER.get(role, "")


def help_url(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    view_name = match.view_name if match else ""
    anchor = anchor_for(view_name, getattr(request.user, "role", ""))
    return reverse("guide") + (f"#{anchor}" if anchor else "")


def guide_page(request: HttpRequest) -> HttpResponse:
    """/huong-dan/: the guide, for anyone logged in."""
    return render(request, "guide/guide.html", {"title": _("User guide")})


IMAGE_NAME = re.compile(r"^[a-z0-9-]+\.(jpg|png)$")


def guide_image(request: HttpRequest, name: str) -> FileResponse:
    """A screenshot of the guide (the guide is for logged-in users only, so are its pictures)."""
    path = IMAGES / name
    if not IMAGE_NAME.match(name) or not path.is_file():
        raise Http404
    kind = "image/jpeg" if name.endswith(".jpg") else "image/png"
    return FileResponse(path.open("rb"), content_type=kind)
