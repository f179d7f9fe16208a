"""The worklist: the communes a user scores or reviews in one period and set, each with its
assessment's state and what is missing, filtered, sorted and paged in the database.

Home pages read the same queries: an officer's counts and rows, a reviewer's queue.
A fixed number of queries whatever the number of communes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

from django.db.models import Case, Count, IntegerField, Max, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from criteria.models import CriteriaSet, Indicator

from . import workflow
from .models import (
    Assessment,
    AssessmentPeriod,
    Commune,
    IndicatorResult,
    State,
    Transition,
    User,
    Village,
)
from .workflow import Action

PAGE_SIZE = 50
NOT_STARTED = "not_started"
WAITING = "waiting"  # sent on: at the district or at the province

# What needs work first: returned, in progress, not started, then what waits for review.
STATE_ORDER = {
    State.RETURNED: 0,
    State.DRAFT: 1,
    State.DISTRICT_REVIEW: 3,
    State.SUBMITTED: 4,
    State.APPROVED: 5,
}
NOT_STARTED_ORDER = 2


def periods_of(user: User, periods: list[AssessmentPeriod]) -> list[AssessmentPeriod]:
    """The periods that score the user's units: a commune officer's, those in which their xã
    is in force; a district's officer's, those with districts (none after 01/07/2025); anyone
    else's, all. All of them if none does (nothing is hidden from a user with no such period)."""

    def scores_mine(period: AssessmentPeriod) -> bool:
        if user.commune_id:
            commune = user.commune
            on = period.reference_date
            return (commune.valid_from is None or commune.valid_from <= on) and (
                commune.valid_to is None or commune.valid_to >= on
            )
        if user.district_id:
            return period.has_districts
        return True

    return [p for p in periods if scores_mine(p)] or periods


def default_period(user: User, periods: list[AssessmentPeriod]) -> AssessmentPeriod | None:
    """The period a user works in unless they choose: the newest open one that scores their
    units, else the newest such one."""
    mine = periods_of(user, periods)
    return next((p for p in mine if p.is_open), None) or (mine[0] if mine else None)


def communes_to_assess(user: User, period: AssessmentPeriod, criteria_set: CriteriaSet):
    """The communes in the user's scope that the period scores against the set, each annotated
    with its assessment (state, result, last change, decided indicators) and active villages."""
    communes = Commune.objects.for_user(user).current(period.reference_date)
    if not criteria_set.includes_urban_units:
        communes = communes.rural()
    this = Assessment.objects.filter(
        commune=OuterRef("pk"), period=period, criteria_set=criteria_set
    ).order_by()
    decided = (
        IndicatorResult.objects.filter(
            assessment__commune=OuterRef("pk"),
            assessment__period=period,
            assessment__criteria_set=criteria_set,
            is_met__isnull=False,
        )
        .order_by()
        .values("assessment")
        .annotate(n=Count("pk"))
        .values("n")
    )
    villages = (
        Village.objects.filter(commune=OuterRef("pk"), is_active=True)
        .order_by()
        .values("commune")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return communes.annotate(
        work_state=Subquery(this.values("state")[:1]),
        work_met=Subquery(this.values("all_met")[:1]),
        work_updated=Subquery(this.values("updated_at")[:1]),
        work_decided=Coalesce(Subquery(decided[:1]), Value(0)),
        active_villages=Coalesce(Subquery(villages[:1]), Value(0)),
    ).annotate(
        work_order=Case(
            *[When(work_state=state, then=Value(n)) for state, n in STATE_ORDER.items()],
            default=Value(NOT_STARTED_ORDER),
            output_field=IntegerField(),
        )
    )


def filter_by_state(communes, state: str):
    """Keep the communes whose assessment is in `state` (or not started, or sent on)."""
    if state == NOT_STARTED:
        return communes.filter(work_state__isnull=True)
    if state == WAITING:
        return communes.filter(work_state__in=[State.DISTRICT_REVIEW, State.SUBMITTED])
    return communes.filter(work_state=state)


@dataclass
class Counts:
    """How many communes of a worklist are at each step."""

    by_state: dict[str, int] = field(default_factory=dict)

    def of(self, state: str) -> int:
        return self.by_state.get(state, 0)

    @property
    def not_started(self) -> int:
        return self.of(NOT_STARTED)

    @property
    def in_progress(self) -> int:
        return self.of(State.DRAFT)

    @property
    def returned(self) -> int:
        return self.of(State.RETURNED)

    @property
    def at_district(self) -> int:
        return self.of(State.DISTRICT_REVIEW)

    @property
    def at_province(self) -> int:
        return self.of(State.SUBMITTED)

    @property
    def approved(self) -> int:
        return self.of(State.APPROVED)

    @property
    def total(self) -> int:
        return sum(self.by_state.values())


def counts(communes) -> Counts:
    """One query: the number of communes at each step (annotated by communes_to_assess)."""
    rows = communes.order_by().values("work_state").annotate(n=Count("pk"))
    return Counts({row["work_state"] or NOT_STARTED: row["n"] for row in rows})


@dataclass
class Row:
    """One line of a worklist."""

    commune: Commune
    assessment: Assessment | None
    returned: Transition | None = None
    missing: list[str] = field(default_factory=list)
    approvable: bool = False


def rows_for(
    communes: list[Commune], period: AssessmentPeriod, criteria_set: CriteriaSet, user: User
) -> list[Row]:
    """The rows of a page of communes (annotated by communes_to_assess): each one's assessment,
    the last return reason, what is missing, and whether the user may approve it here."""
    indicators = Indicator.objects.filter(criterion__criteria_set=criteria_set).aggregate(
        total=Count("pk"),
        per_village=Count("pk", filter=Q(value_type=Indicator.ValueType.VILLAGE_CHECKLIST)),
    )
    by_commune = {c.pk: c for c in communes}
    assessments = {}
    for assessment in Assessment.objects.filter(
        period=period, criteria_set=criteria_set, commune__in=list(by_commune)
    ):
        # what the workflow reads, without a query per row
        assessment.commune, assessment.period = by_commune[assessment.commune_id], period
        assessment.criteria_set = criteria_set
        assessments[assessment.commune_id] = assessment
    pks = [a.pk for a in assessments.values()]
    # results marked met with neither live evidence nor an explanation, per assessment
    unexplained = dict(
        IndicatorResult.objects.filter(assessment__in=pks, is_met=True, no_evidence_explanation="")
        .exclude(evidence__is_removed=False)
        .values("assessment_id")
        .annotate(n=Count("pk"))
        .values_list("assessment_id", "n")
    )
    last_returns: dict[int, Transition] = {}
    returned = [a.pk for a in assessments.values() if a.state == State.RETURNED]
    for transition in Transition.objects.filter(
        assessment__in=returned, to_state=State.RETURNED
    ).order_by("assessment_id", "-at", "-pk"):
        last_returns.setdefault(transition.assessment_id, transition)
    rows = []
    for commune in communes:
        assessment = assessments.get(commune.pk)
        missing = []
        if assessment:
            undecided = indicators["total"] - commune.work_decided
            if undecided > 0:
                missing.append(_("%(n)s indicators without a result") % {"n": undecided})
            if unexplained.get(assessment.pk):
                missing.append(
                    _("%(n)s met without evidence or explanation")
                    % {"n": unexplained[assessment.pk]}
                )
        if indicators["per_village"] and not commune.active_villages:
            missing.append(_("no villages entered"))
        rows.append(
            Row(
                commune=commune,
                assessment=assessment,
                returned=last_returns.get(assessment.pk) if assessment else None,
                missing=missing,
                approvable=bool(assessment) and workflow.can(user, assessment, Action.APPROVE),
            )
        )
    return rows


def waiting_for_appraisal(user: User) -> list[Assessment]:
    """The assessments this reviewer may approve now, in every period, oldest submission first."""
    scope = workflow.reviewer_filter(user)
    if scope is None:
        return []
    submitted = (
        Assessment.objects.for_user(user)
        .filter(scope, state=State.SUBMITTED)
        .annotate(
            submitted_at=Max("transitions__at", filter=Q(transitions__to_state=State.SUBMITTED))
        )
        .order_by("submitted_at", "pk")
    )
    return workflow.approvable(user, submitted)


def local_worklist_url(value: str | None) -> str | None:
    """`value` rebuilt as a URL of the worklist on this site (the way back from an assessment),
    or None for anything else: another site, another page, or text that is not a URL."""
    if not value or len(value) > 2000 or "\\" in value:
        return None
    if any(ord(character) < 32 or ord(character) == 127 for character in value):
        return None
    try:
        parts = urlsplit(value)
        query = parse_qsl(parts.query, keep_blank_values=True, max_num_fields=40)
    except ValueError:
        return None
    worklist = reverse("assessments:worklist")
    if parts.scheme or parts.netloc or parts.path != worklist:
        return None
    return f"{worklist}?{urlencode(query)}" if query else worklist
