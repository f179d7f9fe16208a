"""The Vietnamese catalogue is complete, current and compiled."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "locale" / "vi" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")


def entries(po: polib.POFile) -> dict[tuple[str | None, str], polib.POEntry]:
    return {(e.msgctxt, e.msgid): e for e in po if not e.obsolete}


def test_every_message_has_a_vietnamese_translation_and_none_is_fuzzy():
    po = polib.pofile(str(PO))

    untranslated = [e.msgid for e in po.untranslated_entries()]
    fuzzy = [e.msgid for e in po.fuzzy_entries()]

    assert untranslated == []
    assert fuzzy == []
    assert len(po) > 100


def test_compiled_catalogue_matches_the_po_file():
    po, mo = polib.pofile(str(PO)), polib.mofile(str(MO))

    compiled = {(e.msgctxt, e.msgid): (e.msgstr, e.msgstr_plural) for e in mo if e.msgid}
    source = {key: (e.msgstr, e.msgstr_plural) for key, e in entries(po).items() if not e.fuzzy}
    assert compiled == source


def test_catalogue_holds_every_string_the_code_and_templates_mark(tmp_path):
    copy = tmp_path / "project"
    shutil.copytree(
        ROOT,
        copy,
        ignore=shutil.ignore_patterns(".venv", ".git", "*.sqlite3", "__pycache__", "static"),
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "vi", "--no-location"],
        cwd=copy,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr

    extracted = entries(polib.pofile(str(copy / "locale" / "vi" / "LC_MESSAGES" / "django.po")))
    shipped = entries(polib.pofile(str(PO)))
    missing = sorted(msgid for key, msgid in [(k, k[1]) for k in extracted] if key not in shipped)
    assert missing == []


def test_djangos_own_messages_that_users_meet_read_in_plain_vietnamese():
    """Django's Vietnamese catalogue leaves the short-password message in English, calls a
    wrong e-mail address "Nhập địa chỉ email." (as if it were empty) and starts the username
    hint with "Yêu cầu."; the project's catalogue, read first, says them plainly."""
    from django import forms
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError
    from django.utils import translation

    from assessments.models import User

    with translation.override("vi"):
        try:
            validate_password("ngan")
        except ValidationError as error:
            messages = error.messages
        try:
            forms.EmailField().clean("khong-phai-email")
        except ValidationError as error:
            email = error.messages
        hint = str(User._meta.get_field("username").help_text)

    assert "Mật khẩu quá ngắn: cần ít nhất 12 ký tự." in messages
    assert not any("too short" in message for message in messages)
    assert email == ["Địa chỉ email không hợp lệ."]
    assert not hint.startswith("Yêu cầu") and "150" in hint
