"""What the list-import commands share: the province, the person recorded, the report."""

from __future__ import annotations

from django.core.management.base import CommandError, OutputWrapper

from assessments.models import Province, User


def chosen_province(code: str | None) -> Province:
    """The province of that code, or the only province there is."""
    provinces = Province.objects.filter(code=code) if code else Province.objects.all()
    found = list(provinces[:2])
    if len(found) != 1:
        raise CommandError(
            f"no province with the code {code}" if code else "several provinces: give --province"
        )
    return found[0]


def acting_user(username: str | None) -> User:
    """The account recorded as having made the change: --by, or the only superuser."""
    users = User.objects.filter(is_active=True)
    users = users.filter(username=username) if username else users.filter(is_superuser=True)
    found = list(users[:2])
    if len(found) != 1:
        raise CommandError(
            f"no active account {username!r}"
            if username
            else "give --by USERNAME: the account recorded as having made the change"
        )
    return found[0]


def report_plan(out: OutputWrapper, summary: str, lines: list[str], warnings: list[str]) -> None:
    out.write(summary)
    for line in lines:
        out.write(f"  {line}")
    for warning in warnings:
        out.write(f"  warning: {warning}")
