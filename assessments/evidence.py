"""Judging an uploaded evidence file by its content, never by its name.

The uploader's name for a file is kept only to be shown, without the characters that reorder
text (a right-to-left override before "fdp.exe" makes an .exe show as "exe.pdf"); the file is
stored and downloaded under a generated name whose extension comes from its content.
"""

from __future__ import annotations

import zipfile
from typing import IO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from criteria.workbooks import megabytes

OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .doc / .xls
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOC, XLS, OLE = "application/msword", "application/vnd.ms-excel", "application/x-ole-storage"
EXTENSIONS = {
    "application/pdf": ".pdf",
    "image/jpeg": ".jpg",
    "image/png": ".png",
    DOCX: ".docx",
    XLSX: ".xlsx",
    DOC: ".doc",
    XLS: ".xls",
}
# An Office file is a zip: a few dozen parts, a few hundred with many pictures.
MAX_OFFICE_PARTS = 5000

# Marks and overrides of the bidirectional algorithm: LRM, RLM, ALM, LRE, RLE, PDF, LRO, RLO,
# LRI, RLI, FSI, PDI.
BIDI_CONTROLS = dict.fromkeys(
    map(ord, "\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
)


def shown_name(name: str) -> str:
    """A file name as it may be stored and shown: without the characters that reorder text."""
    return (name or "").translate(BIDI_CONTROLS).strip()


def stored_name(name: str, content_type: str) -> str:
    """The uploader's name, kept for display: stripped, or a plain one if nothing is left."""
    return shown_name(name)[:255] or f"minh-chung{EXTENSIONS.get(content_type, '')}"


def download_name(pk: int, content_type: str) -> str:
    """The name evidence is downloaded under: generated, with the extension of its content."""
    return f"minh-chung-{pk}{EXTENSIONS.get(content_type, '.bin')}"


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
        return _ole_kind(upload)
    if head.startswith(b"PK\x03\x04"):
        members = _zip_members(upload)
        names = {m.filename for m in members or []}
        if "[Content_Types].xml" in names and "word/document.xml" in names:
            return DOCX
        if "[Content_Types].xml" in names and "xl/workbook.xml" in names:
            return XLSX
    return None


def _ole_kind(upload: IO[bytes]) -> str:
    """A legacy Office file is Word or Excel by the stream its directory names (in UTF-16)."""
    content = upload.read()
    upload.seek(0)
    if "WordDocument".encode("utf-16-le") in content:
        return DOC
    if "Workbook".encode("utf-16-le") in content:
        return XLS
    return OLE


def _zip_members(upload: IO[bytes]) -> list[zipfile.ZipInfo] | None:
    """The members a zip's central directory lists (nothing is unpacked); None if unreadable."""
    try:
        with zipfile.ZipFile(upload) as archive:
            return archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return None
    finally:
        upload.seek(0)


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
    if content_type in (DOCX, XLSX):
        _check_unpacked(upload)
    return content_type


def _check_unpacked(upload: IO[bytes]) -> None:
    """Refuse a Word or Excel file that would unpack too large or into too many parts, as its
    central directory declares them."""
    members = _zip_members(upload) or []
    if len(members) > MAX_OFFICE_PARTS:
        raise ValidationError(
            _(
                "The Word or Excel file holds more than %(count)s parts and is refused. Save it "
                "as PDF and upload it again."
            )
            % {"count": MAX_OFFICE_PARTS}
        )
    limit = settings.UPLOAD_MAX_UNCOMPRESSED_BYTES
    if sum(m.file_size for m in members) > limit:
        raise ValidationError(
            _(
                "The Word or Excel file unpacks to more than %(limit)s MB and is refused. Save it "
                "as PDF, or remove large embedded pictures and save it again."
            )
            % {"limit": megabytes(limit)}
        )
