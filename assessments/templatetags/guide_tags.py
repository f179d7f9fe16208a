"""The "Help" link of every page: it opens the guide's section for that page (assessments.guide)."""

from __future__ import annotations

from django import template

from assessments.guide import help_url

register = template.Library()


@register.simple_tag(takes_context=True)
def guide_url(context) -> str:
    request = context.get("request")
    return help_url(request) if request is not None else ""
