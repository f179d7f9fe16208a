"""Judging an uploaded evidence file by its content, never by its name."""

from __future__ import annotations

import zipfile
from typing import IO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from criteria.workbooks import megabytes

OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .doc / .xls


def sniff(upload: IO[bytes]) -> str | None:
    """The content type the bytes show, if it is one evidence may be; None otherwise."""
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(OLE2):
        return "application/x-ole-storage"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(upload) as archive:
                names = set(archive.namelist())
        except zipfile.BadZipFile:
            return None
        finally:
            upload.seek(0)
        if "[Content_Types].xml" in names and "word/document.xml" in names:
            return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        if "[Content_Types].xml" in names and "xl/workbook.xml" in names:
            return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return None


def check_evidence_file(upload) -> str:
    """The file's content type, or a ValidationError in Vietnamese saying what to do."""
    limit = settings.EVIDENCE_MAX_BYTES
    if upload.size > limit:
        raise ValidationError(
            _("The file is %(size)s MB; the limit is %(limit)s MB.")
            % {"size": megabytes(upload.size), "limit": megabytes(limit)}
        )
    if upload.size == 0:
        raise ValidationError(_("The file is empty."))
    content_type = sniff(upload)
    if content_type is None:
        raise ValidationError(
            _(
                "Evidence must be a PDF, a JPEG or PNG image, or a Word or Excel file; "
                "this file is none of these (its content was checked, not its name)."
            )
        )
    return content_type
