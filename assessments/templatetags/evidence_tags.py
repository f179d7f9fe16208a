"""Showing evidence: the uploader's file name without the characters that reorder text."""

from __future__ import annotations

from django import template

from assessments.evidence import shown_name

register = template.Library()


@register.filter
def file_name(name: str) -> str:
    """A stored file name as it may be shown (names stored before the upload stripped them)."""
    return shown_name(name)
