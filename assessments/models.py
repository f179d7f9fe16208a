"""Who is measured and who may touch it: administrative units, villages and users.

Units are keyed by their statistics-office (GSO) codes. A code can come back for a different unit
after a reorganisation (05977 was Phường Vĩnh Trại until 30/06/2025 and is Phường Đông Kinh from
01/07/2025), so a code names at most one *current* unit; ended units keep everything recorded
about them and point at their successor.

Every view fetches units, villages and assessments through the `for_user` queryset methods
below: they are the one place that decides what a user may see (accounts: see
`workflow.manageable_accounts`).
"""

from __future__ import annotations

import datetime
import uuid

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
    # reports key their caches on it (reports.rollups.stamp): a renamed province shows at once
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

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

    # reports key their caches on it (reports.rollups.stamp): a renamed or ended district shows
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = DistrictQuerySet.as_manager()

    class Meta:
        ordering = ["sort_key"]
        verbose_name = _("district")
        verbose_name_plural = _("districts")

    @property
    def has_ended(self) -> bool:
        return self.valid_to is not None and self.valid_to < timezone.localdate()


def commune_scope(user, path: str = "") -> Q | None:
    """The one rule of which communes a user may see, as a filter on the commune at `path`
    ("" for a commune, "commune__" for what points at one). None: nothing at all."""
    if not user.is_authenticated:
        return None
    if user.is_superuser:
        return Q()
    if user.is_province_level:
        return Q(**{f"{path}province_id": user.province_id})
    if user.role == Role.COMMUNE_OFFICER:
        return Q(**{f"{path}pk": user.commune_id})
    if user.district_id:
        return Q(**{f"{path}district_id": user.district_id})
    return None


class ScopedQuerySet(models.QuerySet):
    scope_path = ""  # where the commune is, seen from the model

    def in_scope_of(self, user):
        scope = commune_scope(user, self.scope_path)
        return self.none() if scope is None else self.filter(scope)


class CommuneQuerySet(ValidityQuerySet, ScopedQuerySet):
    def for_user(self, user) -> CommuneQuerySet:
        """The communes a user may see, with their district and province."""
        return self.select_related("district", "province", "successor").in_scope_of(user)

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
    is_safe_zone_poor = models.BooleanField(
        _("safe-zone (ATK) commune of a poor district"),
        default=False,
        help_text=_(
            "An ATK commune of a poor district, or of a district that left poverty in 2018–2020."
        ),
    )
    pilot_ntm_year = models.PositiveSmallIntegerField(
        _("pilot commune for NTM, target year"), null=True, blank=True
    )
    pilot_advanced_year = models.PositiveSmallIntegerField(
        _("pilot commune for advanced NTM, target year"), null=True, blank=True
    )
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True, db_index=True)
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


class VillageQuerySet(ScopedQuerySet):
    scope_path = "commune__"

    def for_user(self, user) -> VillageQuerySet:
        """The villages of the communes a user may see."""
        return self.select_related("commune__district").in_scope_of(user)


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


class ScopedUserManager(UserManager):
    """Django's user manager; the migrations name this class. Which accounts a person manages is
    `workflow.manageable_accounts`."""


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
    muted_notifications = models.JSONField(
        _("notifications turned off"),
        default=list,
        blank=True,
        help_text=_("The kinds of e-mail this person does not want (see assessments.notify)."),
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
    def unit(self) -> Commune | District | Province | None:
        return self.commune or self.district or self.province

    @property
    def can_manage_users(self) -> bool:
        """Province administrators manage their province's accounts in the app."""
        return self.role == Role.PROVINCE_ADMIN and self.province_id is not None

    def grantable_roles(self) -> list[str]:
        """Roles this user may give: never wider than their own."""
        return list(Role.values) if self.can_manage_users else []


# ---------------------------------------------------------------- periods and assessments


class PeriodQuerySet(models.QuerySet):
    def for_user(self, user) -> PeriodQuerySet:
        """The periods of the user's province."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self.all()
        return self.filter(province_id=user.province_id)


class AssessmentPeriod(models.Model):
    """A round of scoring (for example "Năm 2025") in one province, for one or more sets."""

    province = models.ForeignKey(
        Province, verbose_name=_("province"), on_delete=models.PROTECT, related_name="periods"
    )
    name = models.CharField(_("name"), max_length=100)
    year = models.PositiveSmallIntegerField(_("year"))
    criteria_sets = models.ManyToManyField(
        "criteria.CriteriaSet", verbose_name=_("criteria sets assessed")
    )
    reference_date = models.DateField(
        _("reference date"),
        help_text=_(
            "The units in force on this day are the ones scored and reported in this period."
        ),
    )
    opens_on = models.DateField(_("opens on"))
    closes_on = models.DateField(_("closes on"))
    is_open = models.BooleanField(
        _("open for entry"),
        default=False,
        help_text=_("The province opens a period for entry and closes it when scoring ends."),
    )
    # reports key their caches on it (reports.rollups.stamp): a corrected reference date shows
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = PeriodQuerySet.as_manager()

    class Meta:
        ordering = ["-year", "-opens_on"]
        verbose_name = _("assessment period")
        verbose_name_plural = _("assessment periods")
        constraints = [
            models.UniqueConstraint(fields=["province", "name"], name="period_name_in_province"),
            models.CheckConstraint(
                condition=Q(closes_on__gte=models.F("opens_on")), name="period_dates_in_order"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def has_districts(self) -> bool:
        """Periods before the reform of 01/07/2025 keep their districts; later ones have none."""
        return self.reference_date < DISTRICTS_ENDED


# Vietnam's two-tier local government: no districts from this day on (Resolution 1672 and others).
DISTRICTS_ENDED = datetime.date(2025, 7, 1)


class State(models.TextChoices):
    DRAFT = "draft", _("Draft")
    DISTRICT_REVIEW = "district_review", _("Sent to the district")
    SUBMITTED = "submitted", _("Submitted to the province")
    RETURNED = "returned", _("Returned")
    APPROVED = "approved", _("Approved")


class AssessmentLocked(Exception):
    """A write was attempted on an approved assessment, or on a closed period."""


class AssessmentQuerySet(ScopedQuerySet):
    scope_path = "commune__"

    def for_user(self, user) -> AssessmentQuerySet:
        """The assessments of the communes a user may see, with what lists show beside them."""
        return self.select_related(
            "commune__district",
            "commune__province__region",
            "criteria_set__special_region",
            "period",
        ).in_scope_of(user)

    def last_results_of(self, communes) -> AssessmentQuerySet:
        """Each commune's assessments (one per set) in the last period it was assessed in: a
        former commune's results before it ended. One query, with the period and the set."""
        last_period = (
            self.model.objects.filter(commune=models.OuterRef("commune"))
            .order_by("-period__reference_date", "-period__opens_on", "-period_id")
            .values("period_id")[:1]
        )
        return (
            self.filter(commune__in=communes, period=models.Subquery(last_period))
            .select_related("commune__district", "period", "criteria_set")
            .order_by("commune__sort_key", "commune__code", "criteria_set__code")
        )

    def update(self, **kwargs):
        # A bulk update may not touch approved assessments, except to move them out of approval
        # (the reopen service) — the same lock the services and the admin keep.
        if kwargs.get("state") != State.RETURNED and self.filter(state=State.APPROVED).exists():
            raise AssessmentLocked("approved assessments cannot be changed")
        return super().update(**kwargs)

    def update_checked_rows(self, **kwargs):
        """update() for rows a service has just locked and checked itself (saves a query)."""
        return super().update(**kwargs)


class Assessment(models.Model):
    """One commune's scoring against one criteria set in one period."""

    commune = models.ForeignKey(
        Commune, verbose_name=_("commune"), on_delete=models.PROTECT, related_name="assessments"
    )
    criteria_set = models.ForeignKey(
        "criteria.CriteriaSet", verbose_name=_("criteria set"), on_delete=models.PROTECT
    )
    period = models.ForeignKey(
        AssessmentPeriod,
        verbose_name=_("period"),
        on_delete=models.PROTECT,
        related_name="assessments",
    )
    state = models.CharField(_("state"), max_length=20, choices=State.choices, default="draft")
    version = models.PositiveIntegerField(_("version"), default=1)
    all_met = models.BooleanField(_("criterion met"), null=True)
    entry_reopened = models.BooleanField(_("entry reopened after the period closed"), default=False)
    attention = models.TextField(
        _("for the reviewer's attention"),
        blank=True,
        help_text=_("Set when something the result depends on changed after approval."),
    )
    created_by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True, db_index=True)

    objects = AssessmentQuerySet.as_manager()

    class Meta:
        ordering = ["commune__sort_key", "criteria_set__code"]
        verbose_name = _("assessment")
        verbose_name_plural = _("assessments")
        constraints = [
            models.UniqueConstraint(
                fields=["commune", "criteria_set", "period"], name="one_assessment_per_period"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.commune.name} · {self.period} · {self.criteria_set.code}"

    @property
    def is_locked(self) -> bool:
        return self.state == State.APPROVED

    def allowed_actions(self, user) -> frozenset[str]:
        """What the user may do to this assessment now (see assessments.workflow)."""
        from .workflow import allowed_actions

        return allowed_actions(user, self)

    @property
    def accepts_entry(self) -> bool:
        """Results may change: not approved, not waiting for review, and the period is open."""
        if self.state not in (State.DRAFT, State.RETURNED):
            return False
        return self.period.is_open or self.entry_reopened


class LockedByAssessmentQuerySet(models.QuerySet):
    """Bulk updates and deletes refuse rows of approved assessments."""

    def _refuse_locked(self) -> None:
        if self.filter(assessment__state=State.APPROVED).exists():
            raise AssessmentLocked("approved assessments cannot be changed")

    def update(self, **kwargs):
        self._refuse_locked()
        return super().update(**kwargs)

    def update_checked_rows(self, **kwargs):
        """update() for rows a service has just locked and checked itself (saves a query)."""
        return super().update(**kwargs)

    def delete(self):
        self._refuse_locked()
        return super().delete()


class IndicatorResult(models.Model):
    """What was entered for one indicator, and what the application decided from it.

    `inputs` holds the entry as the indicator's type needs it: {"value": …} for yes/no, numbers
    and percentages; {"conditions": {code: bool or number}} for checklists, plus
    {"villages": {village id: {code: bool}}} for per-village checklists.
    """

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="results")
    indicator = models.ForeignKey(
        "criteria.Indicator", verbose_name=_("indicator"), on_delete=models.PROTECT
    )
    inputs = models.JSONField(_("entry"), default=dict, blank=True)
    computed_met = models.BooleanField(_("computed result"), null=True)
    computed_reason = models.TextField(_("why"), blank=True)
    override_met = models.BooleanField(_("result set by the officer"), null=True)
    override_reason = models.TextField(_("reason for setting the result"), blank=True)
    is_met = models.BooleanField(_("met"), null=True)
    note = models.TextField(_("note"), blank=True)
    no_evidence_explanation = models.TextField(_("explanation for missing evidence"), blank=True)
    updated_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+")
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = LockedByAssessmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("indicator result")
        verbose_name_plural = _("indicator results")
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "indicator"], name="one_result_per_indicator"
            ),
            models.CheckConstraint(
                condition=Q(override_met__isnull=True) | ~Q(override_reason=""),
                name="override_needs_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.indicator.code}: {self.computed_reason}"

    def save(self, *args, **kwargs):
        # The last line of the lock: no path writes a result of an approved assessment.
        if self.assessment.is_locked:
            raise AssessmentLocked("approved assessments cannot be changed")
        super().save(*args, **kwargs)
        # reports key their caches on the assessments' updated_at (see reports.rollups.stamp)
        Assessment.objects.filter(pk=self.assessment_id).update(updated_at=timezone.now())

    @property
    def is_overridden(self) -> bool:
        return self.override_met is not None


def evidence_path(evidence: Evidence, filename: str) -> str:
    """A generated name: nothing the uploader chose reaches the file system."""
    return f"evidence/{evidence.result.assessment_id}/{uuid.uuid4().hex}"


class EvidenceQuerySet(LockedByAssessmentQuerySet):
    def _refuse_locked(self) -> None:
        if self.filter(result__assessment__state=State.APPROVED).exists():
            raise AssessmentLocked("approved assessments cannot be changed")


class Evidence(models.Model):
    """A file or a document reference that supports an indicator's result."""

    result = models.ForeignKey(IndicatorResult, on_delete=models.CASCADE, related_name="evidence")
    file = models.FileField(_("file"), upload_to=evidence_path, blank=True)
    original_name = models.CharField(_("file name"), max_length=255, blank=True)
    content_type = models.CharField(_("file type"), max_length=100, blank=True)
    size = models.PositiveIntegerField(_("size"), default=0)
    doc_number = models.CharField(_("document number"), max_length=100, blank=True)
    doc_date = models.DateField(_("document date"), null=True, blank=True)
    doc_issuer = models.CharField(_("issued by"), max_length=200, blank=True)
    description = models.CharField(_("description"), max_length=300, blank=True)
    is_removed = models.BooleanField(_("removed"), default=False)
    added_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField(_("added"), auto_now_add=True)

    objects = EvidenceQuerySet.as_manager()

    class Meta:
        ordering = ["added_at", "pk"]
        verbose_name = _("evidence")
        verbose_name_plural = _("evidence")
        constraints = [
            models.CheckConstraint(
                condition=~Q(file="") | ~Q(doc_number=""), name="evidence_file_or_document"
            ),
        ]

    def __str__(self) -> str:
        if self.file:
            return self.original_name
        return " ".join(filter(None, [self.doc_number, self.doc_issuer])).strip()

    def save(self, *args, **kwargs):
        if self.result.assessment.is_locked:
            raise AssessmentLocked("approved assessments cannot be changed")
        super().save(*args, **kwargs)


class Transition(models.Model):
    """One step of the review workflow: who moved the assessment, when, and why."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="transitions")
    from_state = models.CharField(_("from"), max_length=20, choices=State.choices, blank=True)
    to_state = models.CharField(_("to"), max_length=20, choices=State.choices)
    action = models.CharField(_("action"), max_length=20)
    reason = models.TextField(_("reason"), blank=True)
    actor = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("workflow step")
        verbose_name_plural = _("workflow steps")

    def __str__(self) -> str:
        return f"{self.from_state} → {self.to_state}"


class Change(models.Model):
    """One recorded change to an assessment: old → new, who, when, from where."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="changes")
    indicator = models.ForeignKey(
        "criteria.Indicator", null=True, blank=True, on_delete=models.PROTECT
    )
    field = models.CharField(_("what"), max_length=40)
    old = models.JSONField(_("before"), null=True, blank=True)
    new = models.JSONField(_("after"), null=True, blank=True)
    version = models.PositiveIntegerField(_("version"))
    state = models.CharField(_("state at the time"), max_length=20, choices=State.choices)
    after_return = models.BooleanField(_("after a return or reopening"), default=False)
    source = models.CharField(_("source"), max_length=300, default="form")
    actor = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("change")
        verbose_name_plural = _("changes")
        indexes = [models.Index(fields=["assessment", "version"])]

    def __str__(self) -> str:
        return f"{self.field}: {self.old} → {self.new}"


# ---------------------------------------------------------------- groups, flags, reviewers


class CommuneGroupAssignment(models.Model):
    """A commune's group for a criteria set whose targets go by commune group.

    Keyed by the set's code and the group's code, so that it holds for every version of the set.
    """

    commune = models.ForeignKey(
        Commune, verbose_name=_("commune"), on_delete=models.CASCADE, related_name="groupings"
    )
    set_code = models.SlugField(_("criteria set"), max_length=60)
    group_code = models.SlugField(_("commune group"), max_length=60)
    document = models.CharField(_("deciding document"), max_length=200, blank=True)
    updated_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+")
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["set_code", "commune__sort_key"]
        verbose_name = _("commune group of a commune")
        verbose_name_plural = _("commune groups of communes")
        constraints = [
            models.UniqueConstraint(fields=["commune", "set_code"], name="one_group_per_set"),
        ]

    def __str__(self) -> str:
        return f"{self.commune} · {self.set_code}: {self.group_code}"


class CommuneFlagRecord(models.Model):
    """Where a commune's flag came from: the deciding document and the dates it covers."""

    class Flag(models.TextChoices):
        DIFFICULT = "is_extremely_difficult", _("extremely difficult (ĐBKK)")
        BORDER = "is_border", _("border commune")
        SAFE_ZONE_POOR = "is_safe_zone_poor", _("safe-zone (ATK) commune of a poor district")

    commune = models.ForeignKey(
        Commune, verbose_name=_("commune"), on_delete=models.CASCADE, related_name="flag_records"
    )
    flag = models.CharField(_("flag"), max_length=30, choices=Flag.choices)
    value = models.BooleanField(_("value"))
    document = models.CharField(_("deciding document"), max_length=200)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded"), default=timezone.now)

    class Meta:
        ordering = ["-recorded_at", "-pk"]
        verbose_name = _("commune flag record")
        verbose_name_plural = _("commune flag records")

    def __str__(self) -> str:
        return f"{self.commune} · {self.flag} = {self.value} ({self.document})"


class ReviewAssignment(models.Model):
    """Which communes a province reviewer appraises: a list of communes, or the whole province."""

    reviewer = models.ForeignKey(
        User,
        verbose_name=_("reviewer"),
        on_delete=models.CASCADE,
        related_name="review_assignments",
    )
    province = models.ForeignKey(Province, verbose_name=_("province"), on_delete=models.CASCADE)
    commune = models.ForeignKey(
        Commune,
        verbose_name=_("commune"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        help_text=_("Empty: the whole province."),
    )
    assigned_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+")
    assigned_at = models.DateTimeField(_("assigned"), default=timezone.now)

    class Meta:
        verbose_name = _("review assignment")
        verbose_name_plural = _("review assignments")
        constraints = [
            models.UniqueConstraint(
                fields=["reviewer", "commune"],
                condition=Q(commune__isnull=False),
                name="review_assignment_commune_once",
            ),
            models.UniqueConstraint(
                fields=["reviewer"],
                condition=Q(commune__isnull=True),
                name="review_assignment_province_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reviewer} → {self.commune or self.province}"


class ReviewNote(models.Model):
    """A reviewer's note on one indicator ("cần bổ sung"), sent back with a return."""

    assessment = models.ForeignKey(
        Assessment, on_delete=models.CASCADE, related_name="review_notes"
    )
    indicator = models.ForeignKey(
        "criteria.Indicator", verbose_name=_("indicator"), on_delete=models.PROTECT
    )
    note = models.TextField(_("what is needed"), max_length=4000)
    transition = models.ForeignKey(
        Transition,
        verbose_name=_("sent with"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="review_notes",
    )
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("review note")
        verbose_name_plural = _("review notes")

    def __str__(self) -> str:
        return f"{self.indicator_id}: {self.note[:60]}"


class AuditEntry(models.Model):
    """Who changed an account, a role, a period, a criteria set or an assignment: what, when and
    from where. Province administrators read their province's entries."""

    actor = models.ForeignKey(
        User, verbose_name=_("who"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    province = models.ForeignKey(
        Province, verbose_name=_("province"), null=True, blank=True, on_delete=models.SET_NULL
    )
    action = models.CharField(_("what"), max_length=60)
    object_type = models.CharField(_("object"), max_length=60)
    object_id = models.CharField(_("object id"), max_length=40, blank=True)
    object_repr = models.CharField(_("object"), max_length=300, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)
    ip_address = models.GenericIPAddressField(_("from address"), null=True, blank=True)
    at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")

    def __str__(self) -> str:
        return f"{self.at:%d/%m/%Y %H:%M} {self.actor} {self.action} {self.object_repr}"
