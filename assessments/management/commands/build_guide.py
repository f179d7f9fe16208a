"""Build the user guide from docs/guide/*.md: the HTML the app serves at /huong-dan/ and the PDF.

`make docs` runs the browser test that takes the screenshots first (GUIDE_SCREENSHOT_DIR), then
this command. The PDF is printed by Chromium (Playwright's page.pdf, headless) from a standalone
copy of the page next to the screenshots, so it shows exactly what the app shows.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from assessments import guide

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
DEFAULT_PDF = guide.SOURCES / "huong-dan-su-dung.pdf"


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
        f"<style>{bootstrap}</style><style>{style}</style></head>"
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
        missing = [name for name in parsed.images if not (guide.SOURCES / name).is_file()]
        if missing:
            raise CommandError(
                f"Screenshots missing (run `make docs`): {', '.join(sorted(set(missing)))}"
            )
        body = guide.body(parsed)
        guide.BODY.parent.mkdir(parents=True, exist_ok=True)
        guide.BODY.write_text(body, encoding="utf-8")
        self.stdout.write(f"HTML: {guide.BODY}")
        if no_pdf:
            return
        page_file = guide.SOURCES / "huong-dan-su-dung.html"
        page_file.write_text(standalone(body), encoding="utf-8")
        try:
            self._print(page_file, Path(pdf))
        finally:
            page_file.unlink(missing_ok=True)
        self.stdout.write(f"PDF: {pdf}")

    def _print(self, page_file: Path, pdf: Path) -> None:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
            )
            try:
                page = browser.new_page()
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
                browser.close()
