"""Who is measured and who may touch it: administrative units, villages and users.

Units are keyed by their statistics-office (GSO) codes. A code can come back for a different unit
after a reorganisation (05977 was Phường Vĩnh Trại until 30/06/2025 and is Phường Đông Kinh from
01/07/2025), so a code names at most one *current* unit; ended units keep everything recorded
about them and point at their successor.

Every view fetches units, villages and users through the `for_user` / `manageable_by` queryset
methods below: they are the one place that decides what a user may see.
"""

from __future__ import annotations

import datetime

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from criteria.models import Region

from .collation import short_name, sort_key

digits = {
    2: RegexValidator(r"^\d{2}$", _("A province code has exactly 2 digits.")),
    3: RegexValidator(r"^\d{3}$", _("A district code has exactly 3 digits.")),
    5: RegexValidator(r"^\d{5}$", _("A commune code has exactly 5 digits.")),
}


class Role(models.TextChoices):
    PROVINCE_ADMIN = "province_admin", _("Province administrator")
    PROVINCE_REVIEWER = "province_reviewer", _("Province reviewer")
    DISTRICT_OFFICER = "district_officer", _("District officer")
    COMMUNE_OFFICER = "commune_officer", _("Commune officer")
    VIEWER = "viewer", _("Viewer (read-only)")


class Unit(models.Model):
    """What provinces, districts and communes share: a code, a name, and the order of names."""

    name = models.CharField(_("name"), max_length=200)
    sort_key = models.CharField(max_length=400, editable=False, db_index=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        # A derived column: Vietnamese order on every database (see collation.py).
        self.sort_key = sort_key(self.name)
        super().save(*args, **kwargs)

    @property
    def short_name(self) -> str:
        return short_name(self.name)


class Province(Unit):
    code = models.CharField(_("code"), max_length=2, unique=True, validators=[digits[2]])
    region = models.ForeignKey(
        Region, verbose_name=_("region"), null=True, blank=True, on_delete=models.PROTECT
    )

    class Meta:
        ordering = ["sort_key"]
        verbose_name = _("province")
        verbose_name_plural = _("provinces")


class ValidityQuerySet(models.QuerySet):
    def current(self, on: datetime.date | None = None):
        """Units in force on a day (today by default)."""
        on = on or timezone.localdate()
        return self.filter(Q(valid_from__isnull=True) | Q(valid_from__lte=on)).filter(
            Q(valid_to__isnull=True) | Q(valid_to__gte=on)
        )


class DistrictQuerySet(ValidityQuerySet):
    def for_user(self, user) -> DistrictQuerySet:
        """The districts a user may see."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self.all()
        if user.is_province_level:
            return self.filter(province_id=user.province_id)
        if user.district_id and user.role != Role.COMMUNE_OFFICER:
            return self.filter(pk=user.district_id)
        return self.none()


class District(Unit):
    class Kind(models.TextChoices):
        RURAL = "huyen", _("Rural district")
        CITY = "thanh_pho", _("Provincial city")
        TOWN = "thi_xa", _("District-level town")
        URBAN = "quan", _("Urban district")

    code = models.CharField(_("code"), max_length=3, unique=True, validators=[digits[3]])
    province = models.ForeignKey(
        Province, verbose_name=_("province"), on_delete=models.PROTECT, related_name="districts"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)

    objects = DistrictQuerySet.as_manager()

    class Meta:
        ordering = ["sort_key"]
        verbose_name = _("district")
        verbose_name_plural = _("districts")

    @property
    def has_ended(self) -> bool:
        return self.valid_to is not None and self.valid_to < timezone.localdate()


class CommuneQuerySet(ValidityQuerySet):
    def for_user(self, user) -> CommuneQuerySet:
        """The communes a user may see, with their district and province."""
        qs = self.select_related("district", "province", "successor")
        if not user.is_authenticated:
            return qs.none()
        if user.is_superuser:
            return qs
        if user.is_province_level:
            return qs.filter(province_id=user.province_id)
        if user.role == Role.COMMUNE_OFFICER:
            return qs.filter(pk=user.commune_id)
        if user.district_id:
            return qs.filter(district_id=user.district_id)
        return qs.none()

    def in_district(self, district: District) -> CommuneQuerySet:
        return self.filter(district=district)

    def rural(self) -> CommuneQuerySet:
        """Xã only: the national NTM criteria apply to them and not to phường or thị trấn."""
        return self.filter(kind=Commune.Kind.RURAL)


class Commune(Unit):
    class Kind(models.TextChoices):
        RURAL = "xa", _("Commune (xã)")
        WARD = "phuong", _("Ward (phường)")
        TOWNSHIP = "thi_tran", _("Township (thị trấn)")

    code = models.CharField(_("code"), max_length=5, validators=[digits[5]])
    province = models.ForeignKey(
        Province, verbose_name=_("province"), on_delete=models.PROTECT, related_name="communes"
    )
    district = models.ForeignKey(
        District,
        verbose_name=_("district"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="communes",
        help_text=_("Empty for communes directly under the province (from 01/07/2025)."),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    is_extremely_difficult = models.BooleanField(_("extremely difficult (ĐBKK)"), default=False)
    is_border = models.BooleanField(_("border commune"), default=False)
    pilot_ntm_year = models.PositiveSmallIntegerField(
        _("pilot commune for NTM, target year"), null=True, blank=True
    )
    pilot_advanced_year = models.PositiveSmallIntegerField(
        _("pilot commune for advanced NTM, target year"), null=True, blank=True
    )
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    successor = models.ForeignKey(
        "self",
        verbose_name=_("successor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="predecessors",
    )

    objects = CommuneQuerySet.as_manager()

    class Meta:
        ordering = ["sort_key", "code"]
        verbose_name = _("commune")
        verbose_name_plural = _("communes")
        constraints = [
            models.UniqueConstraint(
                fields=["code"], condition=Q(valid_to__isnull=True), name="commune_code_current"
            ),
            models.CheckConstraint(
                condition=Q(pilot_ntm_year__isnull=True)
                | Q(pilot_ntm_year__gte=2000, pilot_ntm_year__lte=2100),
                name="commune_pilot_ntm_year_range",
            ),
            models.CheckConstraint(
                condition=Q(pilot_advanced_year__isnull=True)
                | Q(pilot_advanced_year__gte=2000, pilot_advanced_year__lte=2100),
                name="commune_pilot_advanced_year_range",
            ),
        ]

    @property
    def has_ended(self) -> bool:
        return self.valid_to is not None and self.valid_to < timezone.localdate()

    @property
    def label(self) -> str:
        """The name with its district, since names repeat inside a province."""
        if self.district_id:
            return f"{self.name} ({self.district.short_name})"
        return self.name


class VillageQuerySet(models.QuerySet):
    def for_user(self, user) -> VillageQuerySet:
        """The villages of the communes a user may see."""
        return self.select_related("commune__district").filter(
            commune__in=Commune.objects.for_user(user).values("pk")
        )


class Village(models.Model):
    commune = models.ForeignKey(
        Commune, verbose_name=_("commune"), on_delete=models.PROTECT, related_name="villages"
    )
    name = models.CharField(_("name"), max_length=200)
    is_active = models.BooleanField(_("in use"), default=True)
    sort_key = models.CharField(max_length=400, editable=False, db_index=True)

    objects = VillageQuerySet.as_manager()

    class Meta:
        ordering = ["sort_key", "pk"]
        verbose_name = _("village")
        verbose_name_plural = _("villages")
        constraints = [
            models.UniqueConstraint(fields=["commune", "name"], name="village_name_in_commune"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.sort_key = sort_key(self.name)
        super().save(*args, **kwargs)


class UserQuerySet(models.QuerySet):
    def manageable_by(self, user) -> UserQuerySet:
        """The accounts a user may manage: a province administrator's province, never superusers."""
        qs = self.select_related("province", "district", "commune__district")
        if user.is_authenticated and user.can_manage_users:
            return qs.filter(province_id=user.province_id, is_superuser=False)
        return qs.none()


class ScopedUserManager(UserManager.from_queryset(UserQuerySet)):
    pass


class User(AbstractUser):
    """A person with one role in one unit: what they may see and do follows from both."""

    role = models.CharField(_("role"), max_length=20, choices=Role.choices, blank=True)
    province = models.ForeignKey(
        Province, verbose_name=_("province"), null=True, blank=True, on_delete=models.PROTECT
    )
    district = models.ForeignKey(
        District, verbose_name=_("district"), null=True, blank=True, on_delete=models.PROTECT
    )
    commune = models.ForeignKey(
        Commune, verbose_name=_("commune"), null=True, blank=True, on_delete=models.PROTECT
    )

    objects = ScopedUserManager()

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        constraints = [
            models.CheckConstraint(
                condition=~Q(role="district_officer") | Q(district__isnull=False),
                name="user_district_officer_has_district",
            ),
            models.CheckConstraint(
                condition=~Q(role="commune_officer") | Q(commune__isnull=False),
                name="user_commune_officer_has_commune",
            ),
        ]

    @property
    def is_province_level(self) -> bool:
        """Sees the whole province: its administrators, its reviewers and province viewers."""
        if self.role in (Role.PROVINCE_ADMIN, Role.PROVINCE_REVIEWER):
            return True
        return self.role == Role.VIEWER and not self.district_id and not self.commune_id

    @property
    def is_read_only(self) -> bool:
        return self.role == Role.VIEWER or (not self.role and not self.is_superuser)

    @property
    def unit(self) -> Commune | District | Province | None:
        return self.commune or self.district or self.province

    def can_edit_commune(self, commune: Commune) -> bool:
        """May change a commune's flags and villages (the commune is already in scope)."""
        if self.is_superuser or self.role == Role.PROVINCE_ADMIN:
            return True
        return self.role == Role.DISTRICT_OFFICER and commune.district_id == self.district_id

    @property
    def can_manage_users(self) -> bool:
        """Province administrators manage their province's accounts in the app."""
        return self.role == Role.PROVINCE_ADMIN and self.province_id is not None

    def grantable_roles(self) -> list[str]:
        """Roles this user may give: never wider than their own."""
        return list(Role.values) if self.can_manage_users else []
