"""Roll-ups of assessment results: a queryset in, rows out, for the pages and the workbooks alike.

Every function reads with a fixed number of queries whatever the number of communes: counts are
grouped in the database, and rows are assembled in Python. Nothing here writes.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from assessments.models import (
    Assessment,
    AssessmentPeriod,
    Commune,
    District,
    IndicatorResult,
    Province,
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


def _scope(communes, opens_on, closes_on, criteria_set, filters) -> QuerySet:
    """The communes a report counts: xã (unless the set includes others) in force during the
    dates, narrowed by the filters. `communes` is already limited to what the user may see."""
    qs = communes.filter(
        Q(valid_from__isnull=True) | Q(valid_from__lte=closes_on),
        Q(valid_to__isnull=True) | Q(valid_to__gte=opens_on),
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


@dataclass(frozen=True)
class Selection:
    """Which assessments a roll-up reads: one province's period, or one year in every province."""

    criteria_set: CriteriaSet
    opens_on: datetime.date
    closes_on: datetime.date
    periods: Q  # on Assessment
    previous: Selection | None = None
    period: AssessmentPeriod | None = None  # when the selection is one province's period

    @classmethod
    def for_period(cls, period: AssessmentPeriod, criteria_set: CriteriaSet) -> Selection:
        before = previous_period(period, criteria_set)
        previous = None
        if before is not None:
            previous = cls(
                criteria_set, before.opens_on, before.closes_on, Q(period=before), period=before
            )
        return cls(
            criteria_set, period.opens_on, period.closes_on, Q(period=period), previous, period
        )

    @classmethod
    def for_year(cls, year: int, criteria_set: CriteriaSet, *, with_previous=True) -> Selection:
        return cls(
            criteria_set,
            datetime.date(year, 1, 1),
            datetime.date(year, 12, 31),
            Q(period__year=year),
            cls.for_year(year - 1, criteria_set, with_previous=False) if with_previous else None,
        )

    def scope(self, communes: QuerySet, filters: Filters) -> QuerySet:
        return _scope(communes, self.opens_on, self.closes_on, self.criteria_set, filters)

    def assessments(self, communes: QuerySet) -> QuerySet:
        return Assessment.objects.filter(
            self.periods, commune__in=communes, criteria_set__code=self.criteria_set.code
        )


def stamp() -> tuple:
    """A value that changes whenever anything a report may show has changed.

    Every write to an assessment (an entry saved, a workflow step, a new assessment) sets its
    updated_at in the same transaction, editing or reorganising a commune sets the commune's,
    and periods are few. One round trip of index-backed sub-selects, whatever the country's size.
    """
    tables = {
        "a": Assessment._meta.db_table,
        "c": Commune._meta.db_table,
        "p": AssessmentPeriod._meta.db_table,
    }
    quoted = {key: connection.ops.quote_name(name) for key, name in tables.items()}
    template = (
        "SELECT (SELECT MAX(updated_at) FROM {a}), (SELECT COUNT(*) FROM {c}), "
        "(SELECT MAX(updated_at) FROM {c}), (SELECT COUNT(*) FROM {p}), "
        "(SELECT COUNT(*) FROM {p} WHERE is_open), (SELECT MAX(id) FROM {p})"
    )
    sql = template.format(**quoted)  # quoted model table names only, no user input
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return tuple(cursor.fetchone())


GROUPS = {
    # group name: (commune field, assessment field, model)
    "district": ("district_id", "commune__district_id", District),
    "province": ("province_id", "commune__province_id", Province),
}


def grouped_rows(
    communes: QuerySet, selection: Selection, filters: Filters, group: str = "district"
) -> tuple[list[Indicator], list[Row], Row]:
    """One row per district (or province) with communes in scope, and the total row.

    Eight queries whatever the number of communes, assessments or periods.
    """
    commune_key, assessment_key, model = GROUPS[group]
    visible = communes
    communes = selection.scope(visible, filters)
    indicators = indicators_of(selection.criteria_set)
    position = {ind.pk: i for i, ind in enumerate(indicators)}
    counted = filters.counted_states

    def count_by(queryset, *fields):
        return queryset.values(*fields).annotate(n=Count("pk")).values_list(*fields, "n")

    in_scope = dict(count_by(communes, commune_key))
    assessments = selection.assessments(communes).filter(criteria_set=selection.criteria_set)
    states: dict = defaultdict(dict)
    met: dict = defaultdict(int)
    for key, state, all_met, n in count_by(assessments, assessment_key, "state", "all_met"):
        states[key][state] = states[key].get(state, 0) + n
        if all_met and state in counted:
            met[key] += n
    indicator_met: dict = defaultdict(lambda: [0] * len(indicators))
    for key, indicator_id, n in count_by(
        IndicatorResult.objects.filter(
            assessment__in=assessments.filter(state__in=counted), is_met=True
        ),
        f"assessment__{assessment_key}",
        "indicator_id",
    ):
        indicator_met[key][position[indicator_id]] = n
    previous_met, previous_scope = {}, {}
    if selection.previous is not None:
        previous_communes = selection.previous.scope(visible, filters)
        previous_met = dict(
            count_by(
                selection.previous.assessments(previous_communes).filter(
                    state__in=counted, all_met=True
                ),
                assessment_key,
            )
        )
        previous_scope = dict(count_by(previous_communes, commune_key))
    labels = {u.pk: u for u in model.objects.filter(pk__in=[k for k in in_scope if k])}
    order = sorted(in_scope, key=lambda k: (k is None, labels[k].sort_key if k else ""))
    rows = []
    for key in order:
        unit = labels.get(key)
        row = Row(
            label=unit.name if unit else _("Directly under the province"),
            district=unit if group == "district" else None,
            in_scope=in_scope[key],
            states=dict(states.get(key, {})),
            indicator_met=list(indicator_met[key]),
            criterion_met=met.get(key, 0),
        )
        if selection.previous is not None:
            row.previous_share = share(previous_met.get(key, 0), previous_scope.get(key, 0))
        rows.append(row)
    total = Row(label=_("Total"), indicator_met=[0] * len(indicators))
    for row in rows:
        total.add(row)
    if selection.previous is not None:
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


def selection_lines(
    communes: QuerySet, selection: Selection, filters: Filters, indicators: list[Indicator]
) -> list[CommuneLine]:
    """Each commune in scope with its assessment and its results, indicator by indicator.

    Three queries whatever the number of communes."""
    communes = list(
        selection.scope(communes, filters)
        .select_related("district", "province__region")
        .order_by("province__sort_key", "district__sort_key", "sort_key")
    )
    assessments = {
        a.commune_id: a
        for a in selection.assessments([c.pk for c in communes]).filter(
            criteria_set=selection.criteria_set
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
    lines: list[CommuneLine], selection: Selection, filters: Filters
) -> list[tuple[Commune, AssessmentPeriod]]:
    """Xã that met the criterion in the previous period and do not meet it now."""
    previous = selection.previous
    if previous is None:
        return []
    met_before = set(
        previous.assessments([line.commune.pk for line in lines])
        .filter(state__in=filters.counted_states, all_met=True)
        .values_list("commune_id", flat=True)
    )
    return [
        (line.commune, previous.period)
        for line in lines
        if line.commune.pk in met_before
        and line.assessment is not None
        and line.assessment.state in filters.counted_states
        and line.assessment.all_met is False
    ]
