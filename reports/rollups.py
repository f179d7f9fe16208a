"""Roll-ups of assessment results: a queryset in, rows out, for the pages and the workbooks alike.

Every function reads with a fixed number of queries whatever the number of communes: counts are
grouped in the database, and rows are assembled in Python. Nothing here writes.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from assessments.models import (
    Assessment,
    AssessmentPeriod,
    Commune,
    District,
    IndicatorResult,
    State,
)
from criteria.models import CriteriaSet, Indicator


@dataclass(frozen=True)
class Filters:
    district: District | None = None
    pilot: bool = False
    border: bool = False
    difficult: bool = False
    include_submitted: bool = False

    @property
    def counted_states(self) -> list[str]:
        """Only approved results count, unless the switch adds the submitted ones."""
        if self.include_submitted:
            return [State.APPROVED, State.SUBMITTED]
        return [State.APPROVED]


def share(part: int, whole: int) -> Decimal | None:
    """A percentage with one decimal, or None for an empty whole."""
    if not whole:
        return None
    return (Decimal(part * 100) / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def scope(
    communes: QuerySet, period: AssessmentPeriod, criteria_set: CriteriaSet, filters: Filters
) -> QuerySet:
    """The communes a report counts: xã (unless the set includes others) in force during the
    period, narrowed by the filters. `communes` is already limited to what the user may see."""
    qs = communes.filter(
        Q(valid_from__isnull=True) | Q(valid_from__lte=period.closes_on),
        Q(valid_to__isnull=True) | Q(valid_to__gte=period.opens_on),
    )
    if not criteria_set.includes_urban_units:
        qs = qs.filter(kind=Commune.Kind.RURAL)
    if filters.district is not None:
        qs = qs.filter(district=filters.district)
    if filters.pilot:
        qs = qs.filter(Q(pilot_ntm_year__isnull=False) | Q(pilot_advanced_year__isnull=False))
    if filters.border:
        qs = qs.filter(is_border=True)
    if filters.difficult:
        qs = qs.filter(is_extremely_difficult=True)
    return qs


def indicators_of(criteria_set: CriteriaSet) -> list[Indicator]:
    return list(
        Indicator.objects.filter(criterion__criteria_set=criteria_set).order_by(
            "criterion__order", "order"
        )
    )


@dataclass
class Row:
    """One line of a dashboard: a district (or the province total) and its counts."""

    label: str
    district: District | None = None
    in_scope: int = 0
    states: dict[str, int] = field(default_factory=dict)
    indicator_met: list[int] = field(default_factory=list)
    criterion_met: int = 0
    previous_share: Decimal | None = None

    @property
    def not_started(self) -> int:
        return self.in_scope - sum(self.states.values())

    def state(self, name: str) -> int:
        return self.states.get(name, 0)

    @property
    def draft(self) -> int:
        return self.state(State.DRAFT) + self.state(State.DISTRICT_REVIEW)

    @property
    def submitted(self) -> int:
        return self.state(State.SUBMITTED)

    @property
    def returned(self) -> int:
        return self.state(State.RETURNED)

    @property
    def approved(self) -> int:
        return self.state(State.APPROVED)

    @property
    def approved_share(self) -> Decimal | None:
        return share(self.approved, self.in_scope)

    @property
    def indicator_shares(self) -> list[tuple[int, Decimal | None]]:
        return [(n, share(n, self.in_scope)) for n in self.indicator_met]

    @property
    def criterion_share(self) -> Decimal | None:
        return share(self.criterion_met, self.in_scope)

    @property
    def change(self) -> Decimal | None:
        current = self.criterion_share
        if current is None or self.previous_share is None:
            return None
        return current - self.previous_share

    def add(self, other: Row) -> None:
        self.in_scope += other.in_scope
        for name, n in other.states.items():
            self.states[name] = self.states.get(name, 0) + n
        self.indicator_met = [
            a + b for a, b in zip(self.indicator_met, other.indicator_met, strict=True)
        ]
        self.criterion_met += other.criterion_met


def previous_period(period: AssessmentPeriod, criteria_set: CriteriaSet):
    """The latest earlier period of the province that assessed a version of the same set."""
    return (
        AssessmentPeriod.objects.filter(
            province_id=period.province_id,
            year__lt=period.year,
            criteria_sets__code=criteria_set.code,
        )
        .order_by("-year", "-opens_on")
        .first()
    )


def _criterion_met_by_district(communes, period, code, counted) -> dict:
    return dict(
        Assessment.objects.filter(
            commune__in=communes,
            period=period,
            criteria_set__code=code,
            state__in=counted,
            all_met=True,
        )
        .values("commune__district_id")
        .annotate(n=Count("pk"))
        .values_list("commune__district_id", "n")
    )


def district_rows(
    communes: QuerySet, period: AssessmentPeriod, criteria_set: CriteriaSet, filters: Filters
) -> tuple[list[Indicator], list[Row], Row]:
    """One row per district with communes in scope, and the total row."""
    visible = communes
    communes = scope(visible, period, criteria_set, filters)
    indicators = indicators_of(criteria_set)
    position = {ind.pk: i for i, ind in enumerate(indicators)}
    counted = filters.counted_states
    in_scope = dict(
        communes.values("district_id").annotate(n=Count("pk")).values_list("district_id", "n")
    )
    states: dict = defaultdict(dict)
    assessments = Assessment.objects.filter(
        commune__in=communes, period=period, criteria_set=criteria_set
    )
    for district_id, state, n in (
        assessments.values("commune__district_id", "state")
        .annotate(n=Count("pk"))
        .values_list("commune__district_id", "state", "n")
    ):
        states[district_id][state] = n
    met = _criterion_met_by_district(communes, period, criteria_set.code, counted)
    indicator_met: dict = defaultdict(lambda: [0] * len(indicators))
    for district_id, indicator_id, n in (
        IndicatorResult.objects.filter(
            assessment__in=assessments.filter(state__in=counted), is_met=True
        )
        .values("assessment__commune__district_id", "indicator_id")
        .annotate(n=Count("pk"))
        .values_list("assessment__commune__district_id", "indicator_id", "n")
    ):
        indicator_met[district_id][position[indicator_id]] = n
    previous = previous_period(period, criteria_set)
    previous_met, previous_scope = {}, {}
    if previous is not None:
        previous_communes = scope(visible, previous, criteria_set, filters)
        previous_met = _criterion_met_by_district(
            previous_communes, previous, criteria_set.code, counted
        )
        previous_scope = dict(
            previous_communes.values("district_id")
            .annotate(n=Count("pk"))
            .values_list("district_id", "n")
        )
    districts = {d.pk: d for d in District.objects.filter(pk__in=[k for k in in_scope if k])}
    rows = []
    order = sorted(in_scope, key=lambda k: (k is None, districts[k].sort_key if k else ""))
    for district_id in order:
        district = districts.get(district_id)
        row = Row(
            label=district.name if district else _("Directly under the province"),
            district=district,
            in_scope=in_scope[district_id],
            states=dict(states.get(district_id, {})),
            indicator_met=list(indicator_met[district_id]),
            criterion_met=met.get(district_id, 0),
        )
        if previous is not None:
            row.previous_share = share(
                previous_met.get(district_id, 0), previous_scope.get(district_id, 0)
            )
        rows.append(row)
    total = Row(label=_("Province total"), indicator_met=[0] * len(indicators))
    for row in rows:
        total.add(row)
    if previous is not None:
        total.previous_share = share(sum(previous_met.values()), sum(previous_scope.values()))
    return indicators, rows, total


@dataclass
class CommuneLine:
    """One commune of a district matrix or of the detail sheet."""

    commune: Commune
    assessment: Assessment | None
    results: list[IndicatorResult | None]

    @property
    def counted(self) -> bool:
        return self.assessment is not None


def commune_lines(
    communes: QuerySet,
    period: AssessmentPeriod,
    criteria_set: CriteriaSet,
    filters: Filters,
    indicators: list[Indicator],
) -> list[CommuneLine]:
    """Each commune in scope with its assessment and its results, indicator by indicator."""
    communes = list(
        scope(communes, period, criteria_set, filters)
        .select_related("district", "province__region")
        .order_by("district__sort_key", "sort_key")
    )
    assessments = {
        a.commune_id: a
        for a in Assessment.objects.filter(
            commune__in=[c.pk for c in communes], period=period, criteria_set=criteria_set
        )
    }
    results: dict = defaultdict(dict)
    for result in IndicatorResult.objects.filter(
        assessment__in=[a.pk for a in assessments.values()]
    ).only(
        "assessment_id",
        "indicator_id",
        "is_met",
        "override_met",
        "computed_reason",
        "override_reason",
    ):
        results[result.assessment_id][result.indicator_id] = result
    lines = []
    for commune in communes:
        assessment = assessments.get(commune.pk)
        by_indicator = results.get(assessment.pk, {}) if assessment else {}
        lines.append(CommuneLine(commune, assessment, [by_indicator.get(i.pk) for i in indicators]))
    return lines


@dataclass
class Gap:
    commune: Commune
    assessment: Assessment
    failing: list[tuple[Indicator, IndicatorResult]]


def gap_list(lines: list[CommuneLine], indicators: list[Indicator], filters: Filters) -> list[Gap]:
    """Counted xã not meeting the criterion, with the indicators that fail and why."""
    gaps = []
    for line in lines:
        a = line.assessment
        if a is None or a.state not in filters.counted_states or a.all_met is not False:
            continue
        failing = [
            (indicator, result)
            for indicator, result in zip(indicators, line.results, strict=True)
            if result is not None and result.is_met is False
        ]
        gaps.append(Gap(line.commune, a, failing))
    return gaps


def regressions(
    lines: list[CommuneLine], period: AssessmentPeriod, criteria_set: CriteriaSet, filters: Filters
) -> list[tuple[Commune, AssessmentPeriod]]:
    """Xã that met the criterion in the previous period and do not meet it now."""
    previous = previous_period(period, criteria_set)
    if previous is None:
        return []
    met_before = set(
        Assessment.objects.filter(
            commune__in=[line.commune.pk for line in lines],
            period=previous,
            criteria_set__code=criteria_set.code,
            state__in=filters.counted_states,
            all_met=True,
        ).values_list("commune_id", flat=True)
    )
    return [
        (line.commune, previous)
        for line in lines
        if line.commune.pk in met_before
        and line.assessment is not None
        and line.assessment.state in filters.counted_states
        and line.assessment.all_met is False
    ]
