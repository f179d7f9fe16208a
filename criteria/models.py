"""What is measured: criteria sets, their criteria and indicators, and the targets to reach.

A criteria set is versioned data with its legal basis. Only a draft may change; a set in use is
copied as a new version (see criteria.services) and the copy is edited, then activated.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _


class Region(models.Model):
    """One of the socio-economic regions whose targets a criteria set may differ by."""

    code = models.SlugField(_("code"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=200, unique=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["order", "code"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")

    def __str__(self) -> str:
        return self.name


class CriteriaSetQuerySet(models.QuerySet):
    def for_detail_page(self) -> CriteriaSetQuerySet:
        """Everything a set's page shows, in a fixed number of queries whatever the set's size."""
        targets = Target.objects.select_related("region", "commune_group")
        indicators = Indicator.objects.prefetch_related(
            "conditions", Prefetch("targets", queryset=targets)
        )
        return self.prefetch_related(
            "commune_groups",
            Prefetch(
                "groups__criteria",
                queryset=Criterion.objects.prefetch_related(
                    Prefetch("indicators", queryset=indicators)
                ),
            ),
        )


class CriteriaSet(models.Model):
    class Kind(models.TextChoices):
        COMMUNE_NTM = "commune_ntm", _("New rural commune (xã NTM)")
        COMMUNE_ADVANCED = "commune_advanced", _("Advanced new rural commune (xã NTM nâng cao)")
        COMMUNE_MODEL = "commune_model", _("Model new rural commune (xã NTM kiểu mẫu)")
        PROVINCE = "province", _("Province-specific set")
        VILLAGE = "village", _("Village / model residential area")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("Active")
        RETIRED = "retired", _("Retired")

    class TargetBasis(models.TextChoices):
        REGION = "region", _("By region")
        COMMUNE_GROUP = "commune_group", _("By commune group")

    code = models.SlugField(
        _("code"), max_length=60, help_text=_("Stays the same across versions of one set.")
    )
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    name = models.CharField(_("name"), max_length=300)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    year_from = models.PositiveSmallIntegerField(_("from year"))
    year_to = models.PositiveSmallIntegerField(_("to year"))
    target_basis = models.CharField(
        _("targets differ"), max_length=20, choices=TargetBasis.choices, default="region"
    )
    includes_urban_units = models.BooleanField(
        _("also for wards and townships"),
        default=False,
        help_text=_(
            "National commune sets apply to xã only; tick for a set that also scores "
            "phường and thị trấn."
        ),
    )
    national_target_percent = models.DecimalField(
        _("national target (% of communes meeting the ICT criterion)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Drawn as the target line on the dashboards, e.g. 97 for xã NTM in 2025."),
    )
    legal_number = models.CharField(_("legal document number"), max_length=100, blank=True)
    legal_date = models.DateField(_("legal document date"), null=True, blank=True)
    legal_issuer = models.CharField(_("issuing body"), max_length=200, blank=True)
    legal_title = models.TextField(_("legal document title"), blank=True)
    notes = models.TextField(_("notes"), blank=True)
    to_confirm = models.BooleanField(
        _("to confirm"),
        default=False,
        help_text=_("The set as a whole (for example its list of criteria) is not confirmed."),
    )
    to_confirm_note = models.TextField(_("what is to confirm"), blank=True)
    special_region = models.ForeignKey(
        Region,
        verbose_name=_("special rule: targets of the region"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Communes with one of the flags below use this region's targets."),
    )
    special_region_flags = models.JSONField(
        _("special rule: commune flags"), default=list, blank=True
    )
    special_region_basis = models.TextField(_("special rule: legal basis"), blank=True)
    owner_province_code = models.CharField(
        _("owner"),
        max_length=2,
        blank=True,
        help_text=_(
            "Empty: a national set, changed only by the national operator. A province's code: "
            "that province's own set."
        ),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    previous_version = models.ForeignKey(
        "self",
        verbose_name=_("previous version"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="next_versions",
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = CriteriaSetQuerySet.as_manager()

    class Meta:
        ordering = ["-year_from", "code", "-version"]
        verbose_name = _("criteria set")
        verbose_name_plural = _("criteria sets")
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="criteria_set_code_version"),
            models.CheckConstraint(
                condition=models.Q(year_to__gte=models.F("year_from")),
                name="criteria_set_years_in_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({_('version')} {self.version})"

    @property
    def is_editable(self) -> bool:
        """Only a draft may change: an active or retired set may already be in use."""
        return self.status == self.Status.DRAFT


class CommuneGroup(models.Model):
    """A group of communes with its own targets, for sets that use groups instead of regions."""

    criteria_set = models.ForeignKey(
        CriteriaSet, on_delete=models.CASCADE, related_name="commune_groups"
    )
    code = models.SlugField(_("code"), max_length=60)
    name = models.CharField(_("name"), max_length=200)
    definition = models.TextField(_("definition"), blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["order", "code"]
        verbose_name = _("commune group")
        verbose_name_plural = _("commune groups")
        constraints = [
            models.UniqueConstraint(fields=["criteria_set", "code"], name="commune_group_code"),
        ]

    def __str__(self) -> str:
        return self.name


class CriterionGroup(models.Model):
    criteria_set = models.ForeignKey(CriteriaSet, on_delete=models.CASCADE, related_name="groups")
    number = models.CharField(_("number"), max_length=10, help_text=_("For example I, II, III."))
    name = models.CharField(_("name"), max_length=300)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["order", "pk"]
        verbose_name = _("criterion group")
        verbose_name_plural = _("criterion groups")
        constraints = [
            models.UniqueConstraint(fields=["criteria_set", "number"], name="criterion_group_no"),
        ]

    def __str__(self) -> str:
        return f"{self.number}. {self.name}"


class Criterion(models.Model):
    criteria_set = models.ForeignKey(CriteriaSet, on_delete=models.CASCADE, related_name="criteria")
    group = models.ForeignKey(
        CriterionGroup, verbose_name=_("group"), on_delete=models.CASCADE, related_name="criteria"
    )
    number = models.PositiveSmallIntegerField(_("number"))
    name = models.CharField(_("name"), max_length=300)
    to_confirm = models.BooleanField(_("to confirm"), default=False)
    to_confirm_note = models.TextField(_("what is to confirm"), blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["order", "number"]
        verbose_name = _("criterion")
        verbose_name_plural = _("criteria")
        constraints = [
            models.UniqueConstraint(fields=["criteria_set", "number"], name="criterion_number"),
        ]

    def __str__(self) -> str:
        return f"{_('Criterion')} {self.number}. {self.name}"


class Indicator(models.Model):
    class ValueType(models.TextChoices):
        YES_NO = "yes_no", _("Yes / no")
        NUMBER = "number", _("Number")
        PERCENTAGE = "percentage", _("Percentage")
        CHECKLIST = "checklist", _("Checklist of conditions")
        VILLAGE_CHECKLIST = "village_checklist", _("Checklist per village")

    class Comparison(models.TextChoices):
        AT_LEAST = "gte", _("at least")
        AT_MOST = "lte", _("at most")

    criterion = models.ForeignKey(
        Criterion, verbose_name=_("criterion"), on_delete=models.CASCADE, related_name="indicators"
    )
    code = models.CharField(_("code"), max_length=20, help_text=_("For example 8.1."))
    content = models.TextField(_("content"))
    guidance = models.TextField(_("how it is judged"), blank=True)
    evidence_expected = models.TextField(_("evidence expected"), blank=True)
    value_type = models.CharField(_("value type"), max_length=20, choices=ValueType.choices)
    unit = models.CharField(_("unit"), max_length=40, blank=True)
    comparison = models.CharField(
        _("comparison"),
        max_length=3,
        choices=Comparison.choices,
        default=Comparison.AT_LEAST,
        help_text=_("How a number, a percentage or a share of villages meets its threshold."),
    )
    source = models.CharField(_("source"), max_length=300, blank=True)
    to_confirm = models.BooleanField(_("to confirm"), default=False)
    to_confirm_note = models.TextField(_("what is to confirm"), blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["order", "code"]
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        constraints = [
            models.UniqueConstraint(fields=["criterion", "code"], name="indicator_code"),
        ]

    def __str__(self) -> str:
        return f"{self.code}. {self.content}"

    @property
    def is_per_village(self) -> bool:
        return self.value_type == self.ValueType.VILLAGE_CHECKLIST

    @property
    def has_conditions(self) -> bool:
        return self.value_type in {self.ValueType.CHECKLIST, self.ValueType.VILLAGE_CHECKLIST}


class Condition(models.Model):
    """One condition of a checklist indicator.

    Conditions sharing an `alternative_group` are alternatives: one of them is enough (8.2: fixed
    or mobile telephone). A condition with a threshold is met by a number at least (or at most)
    that threshold. Scope says whether it is judged once for the commune or for each village.
    """

    class Scope(models.TextChoices):
        COMMUNE = "commune", _("Commune")
        VILLAGE = "village", _("Each village")

    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="conditions")
    code = models.CharField(_("code"), max_length=20)
    text = models.TextField(_("condition"))
    scope = models.CharField(_("judged for"), max_length=10, choices=Scope.choices)
    alternative_group = models.CharField(
        _("alternatives group"),
        max_length=60,
        blank=True,
        help_text=_("Conditions with the same group are alternatives: one of them is enough."),
    )
    threshold = models.DecimalField(
        _("threshold"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    source = models.CharField(_("source"), max_length=300, blank=True)
    to_confirm = models.BooleanField(_("to confirm"), default=False)
    to_confirm_note = models.TextField(_("what is to confirm"), blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["order", "code"]
        verbose_name = _("condition")
        verbose_name_plural = _("conditions")
        constraints = [
            models.UniqueConstraint(fields=["indicator", "code"], name="condition_code"),
        ]

    def __str__(self) -> str:
        return f"{self.code}. {self.text}"


class Target(models.Model):
    """What an indicator must reach: generally, or in one region, or in one commune group.

    `threshold` is the number to reach (for a per-village checklist: the share of villages, in
    percent); `text` is the target as the legal text words it ("Đạt").
    """

    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="targets")
    region = models.ForeignKey(
        Region, verbose_name=_("region"), null=True, blank=True, on_delete=models.PROTECT
    )
    commune_group = models.ForeignKey(
        CommuneGroup,
        verbose_name=_("commune group"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
    )
    threshold = models.DecimalField(
        _("threshold"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    text = models.CharField(_("target"), max_length=200, blank=True)
    source = models.CharField(_("source"), max_length=300, blank=True)
    to_confirm = models.BooleanField(_("to confirm"), default=False)
    to_confirm_note = models.TextField(_("what is to confirm"), blank=True)

    class Meta:
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(region__isnull=False, commune_group__isnull=False),
                name="target_region_or_group",
            ),
            models.CheckConstraint(
                condition=models.Q(threshold__isnull=False) | ~models.Q(text=""),
                name="target_has_value",
            ),
            models.UniqueConstraint(
                fields=["indicator"],
                condition=models.Q(region__isnull=True, commune_group__isnull=True),
                name="target_one_general",
            ),
            models.UniqueConstraint(fields=["indicator", "region"], name="target_one_per_region"),
            models.UniqueConstraint(
                fields=["indicator", "commune_group"], name="target_one_per_group"
            ),
        ]

    def __str__(self) -> str:
        return self.display

    @property
    def display(self) -> str:
        if self.threshold is None:
            return self.text
        number = f"{self.threshold.normalize():f}"
        return f"{number} {self.indicator.unit}".strip() if not self.text else self.text
