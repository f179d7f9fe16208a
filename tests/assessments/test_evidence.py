from __future__ import annotations

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


def upload(client, assessment, name, content, **extra):
    postal = indicator(assessment.criteria_set, "8.1")
    prefix = f"i{postal.pk}"
    data = {
        f"{prefix}-version": assessment.version,
        f"{prefix}-c_1": "yes",
        f"{prefix}-file": SimpleUploadedFile(name, content),
        **{f"{prefix}-{k}": v for k, v in extra.items()},
    }
    return client.post(reverse("assessments:indicator_save", args=[assessment.pk, postal.pk]), data)


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
    assert "bien-ban.pdf" in download["Content-Disposition"]


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
