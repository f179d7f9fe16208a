from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from assessments.models import Evidence
from tests.conftest import indicator

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
EXE = b"MZ\x90\x00" + b"\x00" * 64


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def upload(client, assessment, name, content, headers=None, **extra):
    postal = indicator(assessment.criteria_set, "8.1")
    prefix = f"i{postal.pk}"
    data = {
        f"{prefix}-version": assessment.version,
        f"{prefix}-c_1": "yes",
        f"{prefix}-file": SimpleUploadedFile(name, content),
        **{f"{prefix}-{k}": v for k, v in extra.items()},
    }
    return client.post(
        reverse("assessments:indicator_save", args=[assessment.pk, postal.pk]),
        data,
        headers=headers,
    )


def test_a_pdf_is_stored_under_a_generated_name_and_downloaded_through_the_app(
    client, district_officer, assessment, settings
):
    client.force_login(district_officer)

    response = upload(client, assessment, "bien-ban.pdf", PDF)

    assert response.status_code == 302
    evidence = Evidence.objects.get()
    assert evidence.original_name == "bien-ban.pdf"
    assert evidence.content_type == "application/pdf"
    assert "bien-ban" not in evidence.file.name
    assert str(settings.MEDIA_ROOT) in evidence.file.path
    download = client.get(reverse("assessments:evidence_download", args=[evidence.pk]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    # Until issue 11 the download carried the uploader's name; now a generated one (item 19).
    assert f'filename="minh-chung-{evidence.pk}.pdf"' in download["Content-Disposition"]
    assert "bien-ban" not in download["Content-Disposition"]


@pytest.mark.parametrize(
    ("name", "content"),
    [("ghi-chu.txt", b"plain text"), ("bien-ban.pdf", EXE), ("anh.png", b"GIF89a....")],
)
def test_files_of_the_wrong_type_are_refused_by_their_content(
    client, district_officer, assessment, name, content
):
    client.force_login(district_officer)

    response = upload(client, assessment, name, content)

    assert response.status_code == 200
    assert "Minh chứng phải là tệp PDF" in response.content.decode()
    assert not Evidence.objects.exists()


def test_a_png_is_accepted(client, district_officer, assessment):
    client.force_login(district_officer)

    upload(client, assessment, "anh.png", PNG)

    assert Evidence.objects.get().content_type == "image/png"


def test_a_file_over_the_limit_is_refused(client, district_officer, assessment, settings):
    settings.EVIDENCE_MAX_BYTES = 100
    client.force_login(district_officer)

    response = upload(client, assessment, "lon.pdf", PDF + b"0" * 200)

    assert "giới hạn" in response.content.decode()
    assert not Evidence.objects.exists()


def test_another_districts_officer_cannot_download_or_remove_evidence(
    client, district_officer, other_district_officer, assessment
):
    client.force_login(district_officer)
    upload(client, assessment, "bien-ban.pdf", PDF)
    evidence = Evidence.objects.get()
    client.force_login(other_district_officer)

    assert (
        client.get(reverse("assessments:evidence_download", args=[evidence.pk])).status_code == 404
    )
    assert (
        client.post(reverse("assessments:evidence_remove", args=[evidence.pk])).status_code == 404
    )
    evidence.refresh_from_db()
    assert not evidence.is_removed


def test_a_document_reference_is_evidence_too(client, district_officer, assessment):
    client.force_login(district_officer)
    postal = indicator(assessment.criteria_set, "8.1")
    prefix = f"i{postal.pk}"

    client.post(
        reverse("assessments:indicator_save", args=[assessment.pk, postal.pk]),
        {
            f"{prefix}-version": assessment.version,
            f"{prefix}-doc_number": "125/BC-UBND",
            f"{prefix}-doc_date": "15/03/2025",
            f"{prefix}-doc_issuer": "UBND xã Hữu Khánh",
        },
    )

    evidence = Evidence.objects.get()
    assert (evidence.doc_number, evidence.doc_date.isoformat()) == ("125/BC-UBND", "2025-03-15")


def test_removing_evidence_keeps_it_in_the_history(client, district_officer, assessment):
    client.force_login(district_officer)
    upload(client, assessment, "bien-ban.pdf", PDF)
    evidence = Evidence.objects.get()

    client.post(reverse("assessments:evidence_remove", args=[evidence.pk]))

    evidence.refresh_from_db()
    assert evidence.is_removed and evidence.file
    assert assessment.changes.filter(field="evidence", new__isnull=True).exists()


# ---------------------------------------------------------------- names and Office archives
RLO = "\u202e"  # RIGHT-TO-LEFT OVERRIDE: "hoa-don" RLO "fdp.exe" shows as "hoa-donexe.pdf"
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f"
XLS = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500 + "Workbook".encode("utf-16-le")


def office_file(parts: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
        for name, content in parts.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def download(client, evidence):
    response = client.get(reverse("assessments:evidence_download", args=[evidence.pk]))
    assert response.status_code == 200
    return response


def test_a_name_that_reorders_text_is_stored_and_shown_without_its_controls(
    client, district_officer, assessment
):
    client.force_login(district_officer)

    upload(client, assessment, f"hoa-don{RLO}fdp.exe", PDF)

    evidence = Evidence.objects.get()
    assert evidence.original_name == "hoa-donfdp.exe"
    page = client.get(reverse("assessments:assessment", args=[assessment.pk])).content.decode()
    assert "hoa-donfdp.exe" in page
    response = download(client, evidence)
    assert response["Content-Type"] == "application/pdf"
    assert f'filename="minh-chung-{evidence.pk}.pdf"' in response["Content-Disposition"]


def test_a_name_stored_before_with_controls_is_shown_without_them(
    client, district_officer, assessment
):
    client.force_login(district_officer)
    upload(client, assessment, "bien-ban.pdf", PDF)
    Evidence.objects.update(original_name=f"bien{BIDI}-ban.pdf")

    page = client.get(reverse("assessments:assessment", args=[assessment.pk])).content.decode()
    scorecard = client.get(reverse("reports:scorecard", args=[assessment.pk])).content.decode()

    assert "bien-ban.pdf" in page and "bien-ban.pdf" in scorecard
    assert not any(c in page + scorecard for c in BIDI)


def test_a_download_takes_its_type_and_extension_from_the_content(
    client, district_officer, assessment
):
    client.force_login(district_officer)
    upload(client, assessment, "bang-tinh.xls", XLS)
    evidence = Evidence.objects.get()
    Evidence.objects.update(content_type="text/html", original_name="trang.html")

    response = download(client, evidence)

    assert response["Content-Type"] == "application/vnd.ms-excel"
    assert f'filename="minh-chung-{evidence.pk}.xls"' in response["Content-Disposition"]
    assert "html" not in response["Content-Disposition"]


def test_a_word_file_is_accepted_and_downloaded_as_docx(client, district_officer, assessment):
    client.force_login(district_officer)

    upload(client, assessment, "bao-cao.docx", office_file({"word/media/anh.png": PNG}))

    evidence = Evidence.objects.get()
    assert evidence.content_type.endswith("wordprocessingml.document")
    assert f"minh-chung-{evidence.pk}.docx" in download(client, evidence)["Content-Disposition"]


def file_field_errors(response, assessment) -> str:
    """The text of the file field's block of the indicator form: its input and its errors."""
    page = response.content.decode()
    postal = indicator(assessment.criteria_set, "8.1")
    start = page.index(f'name="i{postal.pk}-file"')
    return page[start : page.index("</fieldset>", start)]


def test_an_office_file_that_unpacks_beyond_the_limit_is_refused_at_the_file_field(
    client, district_officer, assessment, settings
):
    settings.UPLOAD_MAX_UNCOMPRESSED_BYTES = 1024 * 1024
    client.force_login(district_officer)
    bomb = office_file({"word/media/anh.bin": b"0" * (3 * 1024 * 1024)})
    assert len(bomb) < settings.EVIDENCE_MAX_BYTES

    response = upload(client, assessment, "bao-cao.docx", bomb)

    assert response.status_code == 200
    assert "khi giải nén lớn hơn 1 MB" in file_field_errors(response, assessment)
    assert not Evidence.objects.exists()


def test_an_office_file_of_too_many_parts_is_refused_at_the_file_field(
    client, district_officer, assessment
):
    from assessments.evidence import MAX_OFFICE_PARTS

    client.force_login(district_officer)
    parts = {f"word/p{n}.xml": b"" for n in range(MAX_OFFICE_PARTS)}

    response = upload(client, assessment, "bao-cao.docx", office_file(parts))

    assert f"chứa hơn {MAX_OFFICE_PARTS} thành phần" in file_field_errors(response, assessment)
    assert not Evidence.objects.exists()


def section_of(page: str, code: str) -> str:
    start = page.index(f'id="indicator-{code}"')
    return page[start : page.index("</section>", start)]


@pytest.mark.parametrize("fetched", [False, True], ids=["plain post", "fetch"])
def test_a_file_chosen_with_a_form_error_is_named_as_not_saved_next_to_the_file_field(
    client, district_officer, assessment, fetched
):
    # A UX walkthrough: the form came back with its error and an empty file input; the officer
    # corrected the error, saved, and believed the file attached.
    client.force_login(district_officer)
    headers = {"X-Requested-With": "fetch"} if fetched else None

    response = upload(client, assessment, "bien-ban.pdf", PDF, headers, override="met")

    assert response.status_code == 200
    section = section_of(response.content.decode(), "8.1")
    assert "Hãy ghi rõ lý do bạn tự xác định kết quả" in section
    note = section.split('data-testid="unsaved-file-8.1"', 1)[1].split("</div>", 1)[0]
    assert (
        "Tệp «bien-ban.pdf» chưa được lưu vì phiếu còn lỗi: hãy chọn lại tệp rồi bấm Lưu." in note
    )
    assert "text-danger" in section.split('data-testid="unsaved-file-8.1"', 1)[0][-200:]
    # next to the file field: after its input, before the document number
    assert section.index('name="i') < section.index("unsaved-file-8.1")
    assert section.index('type="file"') < section.index("unsaved-file-8.1")
    assert section.index("unsaved-file-8.1") < section.index("-doc_number")
    assert not Evidence.objects.exists()


def test_a_refused_file_is_named_too_and_a_page_without_a_post_has_no_such_note(
    client, district_officer, assessment
):
    client.force_login(district_officer)

    refused = upload(client, assessment, "ghi-chu.txt", b"plain text").content.decode()
    fresh = client.get(reverse("assessments:assessment", args=[assessment.pk])).content.decode()

    assert "Tệp «ghi-chu.txt» chưa được lưu" in section_of(refused, "8.1")
    assert "unsaved-file" not in fresh


def test_a_file_chosen_when_someone_else_saved_first_is_named_as_not_saved(
    client, district_officer, assessment
):
    client.force_login(district_officer)
    upload(client, assessment, "truoc.pdf", PDF)  # saved: the version moves on
    stale = assessment.version  # the form's version, from before that save

    postal = indicator(assessment.criteria_set, "8.1")
    response = client.post(
        reverse("assessments:indicator_save", args=[assessment.pk, postal.pk]),
        {
            f"i{postal.pk}-version": stale,
            f"i{postal.pk}-c_1": "no",
            f"i{postal.pk}-file": SimpleUploadedFile("bien-ban.pdf", PDF),
        },
    )

    assert response.status_code == 409
    section = section_of(response.content.decode(), "8.1")
    assert "Tệp «bien-ban.pdf» chưa được lưu" in section
    assert "hãy chọn lại tệp rồi bấm Lưu" in section
    assert Evidence.objects.count() == 1


def test_a_photo_with_a_date_is_told_why_a_number_is_asked(client, district_officer, assessment):
    """A date or an issuer describes a document, which has a number; a photo has neither. The
    message said only "Hãy nhập số văn bản." next to a field that did not look required."""
    client.force_login(district_officer)

    page = upload(client, assessment, "bien-ten.png", PNG, doc_date="12/03/2025")

    assert page.status_code == 200 and not Evidence.objects.exists()
    assert "với ảnh chụp, để trống ngày và cơ quan ban hành" in page.content.decode()
    upload(client, assessment, "bien-ten.png", PNG)  # the photo alone
    assert Evidence.objects.get().content_type == "image/png"


def test_the_file_field_says_how_large_a_file_may_be(
    client, district_officer, assessment, settings
):
    settings.EVIDENCE_MAX_BYTES = 10 * 1024 * 1024
    client.force_login(district_officer)

    page = client.get(reverse("assessments:assessment", args=[assessment.pk])).content.decode()

    assert "tối đa 10,0\xa0MB" in page  # filesizeformat keeps the number and unit together
