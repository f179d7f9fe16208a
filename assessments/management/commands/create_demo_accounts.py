from __future__ import annotations

import os

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from assessments.models import Commune, District, Province, ReviewAssignment, Role, User

DEFAULT_PASSWORD = "ntm-demo-2025"  # noqa: S105 - documented demo password, DEBUG only
PROVINCE = "20"  # Lạng Sơn
# username, full name, role, district code (periods before 01/07/2025), commune code (after)
ACCOUNTS = [
    ("tinh-admin", "Quản trị tỉnh", Role.PROVINCE_ADMIN, None, None),
    ("tinh-thamdinh", "Thẩm định Sở KH&CN", Role.PROVINCE_REVIEWER, None, None),
    ("huyen-locbinh", "Cán bộ huyện Lộc Bình", Role.DISTRICT_OFFICER, "188", None),
    ("huyen-caoloc", "Cán bộ huyện Cao Lộc", Role.DISTRICT_OFFICER, "183", None),
    ("xa-locbinh", "Cán bộ xã Lộc Bình (từ 01/07/2025)", Role.COMMUNE_OFFICER, None, "06529"),
    ("xem-tinh", "Xem toàn tỉnh", Role.VIEWER, None, None),
]


class Command(BaseCommand):
    help = (
        "Create the demo accounts of Lạng Sơn (only while DEBUG is on). The password is "
        f"DEMO_PASSWORD, or {DEFAULT_PASSWORD!r} when it is not set."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-debug",
            action="store_true",
            help="with DEBUG off, say so and do nothing instead of failing",
        )

    def handle(self, *args, if_debug: bool, **options):
        if not settings.DEBUG:
            if if_debug:
                self.stdout.write("DEBUG is off: no demo accounts are created.")
                return
            raise CommandError("demo accounts are only created while DEBUG is on")
        translation.activate(settings.LANGUAGE_CODE)
        password = os.environ.get("DEMO_PASSWORD") or DEFAULT_PASSWORD
        province = Province.objects.filter(code=PROVINCE).first()
        if province is None:
            raise CommandError("Lạng Sơn (20) is not loaded: run import_units first")
        districts = {d.code: d for d in District.objects.filter(province=province)}
        communes = {c.code: c for c in Commune.objects.filter(province=province).current()}
        self.stdout.write(f"Demo accounts (password: {password}):")
        for username, full_name, role, district_code, commune_code in ACCOUNTS:
            if commune_code and commune_code not in communes:
                continue  # the new communes are not loaded (apply_reorganisation)
            user, created = User.objects.get_or_create(
                username=username,
                defaults={
                    "first_name": full_name,
                    "role": role,
                    "province": province,
                    "district": districts.get(district_code),
                    "commune": communes.get(commune_code),
                },
            )
            if role == Role.PROVINCE_REVIEWER and not user.review_assignments.exists():
                ReviewAssignment.objects.create(reviewer=user, province=province)
            if created or not user.check_password(password):
                user.set_password(password)
                user.save(update_fields=["password"])
            unit = user.commune or user.district or user.province
            self.stdout.write(f"  {username:<14} {user.get_role_display():<28} {unit}")
