"""Build the user guide from docs/guide/*.md: the HTML the app serves at /huong-dan/ and the PDF.

`make docs` runs the browser test that takes the screenshots first (GUIDE_SCREENSHOT_DIR), then
this command. The PDF is printed by Chromium (Playwright's page.pdf, headless) from a standalone
copy of the page next to the screenshots, so it shows exactly what the app shows.

A printed guide needs page numbers in its contents and its cross-references ("xem mục …"), which
Chromium cannot compute while printing. So the guide is printed, the page of each section is read
back from the PDF's named destinations (Chromium writes one per heading a link points to), and it
is printed again with those numbers, until they no longer move.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from assessments import guide

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
DEFAULT_PDF = guide.SOURCES / "huong-dan-su-dung.pdf"


PRINT_STYLE = (
    ".guide .toc a + .page { float: right; }"
    " .guide .toc li { clear: both; }"
    " .guide .toc > ol > li > a + .page { font-weight: 600; }"
    " .guide .xref { white-space: nowrap; color: #495057; }"
)
OBJECT = re.compile(rb"(?:^|\n)(\d+) 0 obj\s*(.*?)\s*endobj", re.S)
REFERENCE = re.compile(rb"(\d+) 0 R")


def section_pages(pdf: bytes) -> dict[str, int]:
    """The page (from 1) of each section a link of the PDF points to: its named destinations,
    and the page tree in order. Empty if the file is not laid out as Chromium writes it."""
    objects = {int(m[1]): m[2] for m in OBJECT.finditer(pdf)}
    catalog = next((o for o in objects.values() if b"/Type /Catalog" in o), b"")
    pages_ref = re.search(rb"/Pages (\d+) 0 R", catalog)
    dests_ref = re.search(rb"/Dests (\d+) 0 R", catalog)
    if not (pages_ref and dests_ref):
        return {}
    order: list[int] = []

    def walk(number: int, depth: int = 0) -> None:
        node = objects.get(number, b"")
        kids = re.search(rb"/Kids \[([^\]]*)\]", node)
        if b"/Type /Pages" in node and kids and depth < 32:
            for kid in REFERENCE.findall(kids[1]):
                walk(int(kid), depth + 1)
        elif b"/Type /Page" in node:
            order.append(number)

    walk(int(pages_ref[1]))
    index = {number: n for n, number in enumerate(order, 1)}
    dests = objects.get(int(dests_ref[1]), b"")
    return {
        name.decode(): index[int(page)]
        for name, page in re.findall(rb"/([A-Za-z0-9-]+) \[(\d+) 0 R", dests)
        if int(page) in index
    }


def page_count(pdf: bytes) -> int:
    """The number of pages of a PDF as Chromium writes it (its page tree's largest /Count)."""
    return max((int(n) for n in re.findall(rb"/Type /Pages\s*/Count (\d+)", pdf)), default=0)


def with_page_numbers(body: str, pages: dict[str, int]) -> str:
    """The contents with each section's page, and "(trang N)" after each cross-reference."""
    contents, sep, rest = body.partition("</nav>")

    def toc(match: re.Match) -> str:
        page = pages.get(match[1])
        return match[0] + (f'<span class="page">{page}</span>' if page else "")

    def xref(match: re.Match) -> str:
        page = pages.get(match[1])
        return match[0] + (f' <span class="xref">(trang {page})</span>' if page else "")

    link = re.compile(r'<a href="#([a-z0-9-]+)">.*?</a>')
    return link.sub(toc, contents) + sep + link.sub(xref, rest)


def standalone(body: str) -> str:
    """The guide as one HTML file beside docs/guide/img/, with a cover page, for printing."""
    style = guide.STYLE.read_text(encoding="utf-8")
    bootstrap = (
        Path(guide.settings.BASE_DIR)
        / "static"
        / "vendor"
        / "bootstrap-5.3.9"
        / "bootstrap.min.css"
    ).read_text(encoding="utf-8")
    eager = body.replace(' loading="lazy"', "")  # print every picture, not only those in view
    today = timezone.localdate().strftime("%d/%m/%Y")
    return (
        '<!doctype html><html lang="vi"><head><meta charset="utf-8">'
        "<title>Hướng dẫn sử dụng NTM-ICT</title>"
        f"<style>{bootstrap}</style><style>{style}</style><style>{PRINT_STYLE}</style></head>"
        '<body><main class="container-fluid"><div class="guide">'
        '<div class="cover"><h1>Hướng dẫn sử dụng NTM-ICT</h1>'
        "<p>Phần mềm đánh giá tiêu chí Thông tin và Truyền thông, Khoa học công nghệ và chuyển"
        " đổi số của xã nông thôn mới</p>"
        f"<p>Bản in ngày {today} · hình chụp từ dữ liệu minh họa</p></div>"
        f"{eager}</div></main></body></html>"
    )


class Command(BaseCommand):
    help = "Build the user guide: templates/guide/_body.html from docs/guide/*.md, then the PDF."

    def add_arguments(self, parser):
        parser.add_argument("--pdf", default=str(DEFAULT_PDF), help="where to write the PDF")
        parser.add_argument("--no-pdf", action="store_true", help="write the HTML only")

    def handle(self, *args, pdf: str, no_pdf: bool, **options):
        parsed = guide.parse()
        missing = guide.missing_images(parsed)
        if missing:
            raise CommandError(f"Screenshots missing (run `make docs`): {', '.join(missing)}")
        unused = guide.unused_images(parsed)
        if unused:
            raise CommandError(
                f"Pictures in {guide.IMAGES} that no step shows (delete them): {', '.join(unused)}"
            )
        body = guide.body(parsed)
        guide.BODY.parent.mkdir(parents=True, exist_ok=True)
        guide.BODY.write_text(body, encoding="utf-8")
        self.stdout.write(f"HTML: {guide.BODY}")
        if no_pdf:
            return
        page_file = guide.SOURCES / "huong-dan-su-dung.html"
        try:
            pages = self._print_numbered(body, page_file, Path(pdf))
        finally:
            page_file.unlink(missing_ok=True)
        if pages:
            count = page_count(Path(pdf).read_bytes())
            self.stdout.write(f"PDF: {pdf} ({count} pages, contents with page numbers)")
        else:
            self.stderr.write("The PDF's sections were not found: its contents have no pages.")
            self.stdout.write(f"PDF: {pdf}")

    def _print_numbered(self, body: str, page_file: Path, pdf: Path) -> dict[str, int]:
        """Print, read where each section fell, print again with those pages until stable."""
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
            )
            try:
                page_file.write_text(standalone(body), encoding="utf-8")
                pages = section_pages(self._print(browser, page_file, pdf))
                for _ in range(3):
                    if not pages:
                        break
                    page_file.write_text(standalone(with_page_numbers(body, pages)), "utf-8")
                    printed = section_pages(self._print(browser, page_file, pdf))
                    if printed == pages:
                        break
                    pages = printed
                else:
                    raise CommandError("The contents' page numbers do not settle.")
                return pages
            finally:
                browser.close()

    def _print(self, browser, page_file: Path, pdf: Path) -> bytes:
        page = browser.new_page()
        try:
            page.goto(page_file.resolve().as_uri(), wait_until="load")
            page.pdf(
                path=str(pdf),
                format="A4",
                print_background=True,
                display_header_footer=True,
                header_template="<span></span>",
                footer_template=(
                    '<div style="font-size:8pt;width:100%;text-align:center;color:#555">'
                    'Hướng dẫn sử dụng NTM-ICT · trang <span class="pageNumber"></span>'
                    ' / <span class="totalPages"></span></div>'
                ),
                margin={"top": "15mm", "bottom": "16mm", "left": "14mm", "right": "14mm"},
                outline=True,
                tagged=True,
            )
        finally:
            page.close()
        return pdf.read_bytes()
