"""Roll-ups of assessment results: a queryset in, rows out, for the pages and the workbooks alike.

A period counts the units in force on its reference date (`Commune.objects.current(...)`), and
nothing else: units that ended before it, or began after it, belong to other periods. The rows are
cut by district where the period has districts, by commune group where it has none (two-tier local
government from 01/07/2025), and by province in the national roll-up.

Every function reads with a fixed number of queries whatever the number of communes: counts are
grouped in the database, and rows are assembled in Python. Nothing here writes.
"""

from __future__ import annotations

import datetime
import functools
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from assessments.models import (
    DISTRICTS_ENDED,
    Assessment,
    AssessmentPeriod,
    Commune,
    CommuneGroupAssignment,
    District,
    IndicatorResult,
    Province,
    State,
)
from criteria.models import CommuneGroup, CriteriaSet, Indicator

# The last day of the units the two-tier reform replaced.
BEFORE_REFORM = DISTRICTS_ENDED - datetime.timedelta(days=1)


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


def _narrow(communes: QuerySet, criteria_set: CriteriaSet, filters: Filters) -> QuerySet:
    """Xã only (unless the set also scores wards and townships), narrowed by the filters."""
    qs = communes
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
    """The set's indicators in order, with their criterion (the one a report is about)."""
    return list(
        Indicator.objects.filter(criterion__criteria_set=criteria_set)
        .select_related("criterion")
        .order_by("criterion__order", "order")
    )


def scored_criterion(indicators: list[Indicator]) -> dict:
    """Number and name of the criterion the report is about: criterion 8 "Thông tin và Truyền
    thông" in 2021–2025, criterion 7 "Khoa học công nghệ và chuyển đổi số" in 2026–2030."""
    if not indicators:
        return {"number": "", "name": ""}
    criterion = indicators[0].criterion
    return {"number": criterion.number, "name": criterion.name}


# ---------------------------------------------------------------- which periods a report reads


@dataclass(frozen=True)
class Scored:
    """One province's period and the version of a criteria set it assessed."""

    period: AssessmentPeriod
    criteria_set: CriteriaSet


def comparable_set(period: AssessmentPeriod, criteria_set: CriteriaSet) -> CriteriaSet | None:
    """The set `period` assessed that compares with `criteria_set`: a version of the same set,
    else a set of the same kind (the 2021–2025 NTM set before the 2026–2030 one)."""
    sets = list(period.criteria_sets.all())  # prefetched by the callers
    chosen = [s for s in sets if s.code == criteria_set.code] or [
        s for s in sets if s.kind == criteria_set.kind
    ]
    if not chosen:
        return None
    return max(chosen, key=lambda s: (s.pk == criteria_set.pk, s.year_from, s.version))


def latest_earlier(parts: list[Scored], *, until: datetime.date | None = None) -> dict[int, Scored]:
    """For each province of `parts`: its latest period with an earlier reference date (and
    before `until`, if given) that assessed a comparable set. Two queries in all."""
    if not parts:
        return {}
    limit = max(part.period.reference_date for part in parts)
    if until is not None:
        limit = min(limit, until)
    candidates = (
        AssessmentPeriod.objects.filter(
            province_id__in={part.period.province_id for part in parts},
            reference_date__lt=limit,
        )
        .filter(
            Q(criteria_sets__code__in={part.criteria_set.code for part in parts})
            | Q(criteria_sets__kind__in={part.criteria_set.kind for part in parts})
        )
        .distinct()
        .order_by("-reference_date", "-opens_on")
        .prefetch_related("criteria_sets")
    )
    by_province: dict[int, list[AssessmentPeriod]] = defaultdict(list)
    for candidate in candidates:
        by_province[candidate.province_id].append(candidate)
    found = {}
    for part in parts:
        before = (
            part.period.reference_date if until is None else min(part.period.reference_date, until)
        )
        for candidate in by_province[part.period.province_id]:
            chosen = comparable_set(candidate, part.criteria_set)
            if candidate.reference_date < before and chosen is not None:
                found[part.period.province_id] = Scored(candidate, chosen)
                break
    return found


def previous_period(period: AssessmentPeriod, criteria_set: CriteriaSet) -> Scored | None:
    """The province's latest period before this one (by reference date) with a comparable set."""
    return latest_earlier([Scored(period, criteria_set)]).get(period.province_id)


@dataclass(frozen=True)
class Basis:
    """Why a previous figure is not set against this one: a short note and the reason in full."""

    note: str
    reason: str
    weight: int = 1  # the total shows the weightiest: another basis outweighs an open period


def basis_difference(now: Scored, before: Scored) -> Basis | None:
    """Why `before`'s figures do not compare with `now`'s, or None when they do."""
    different = _("different basis")
    names = {"previous": before.period.name, "set": before.criteria_set.name}
    if before.period.has_districts != now.period.has_districts:
        reason = _(
            "%(previous)s counted the units before the reorganisation of 01/07/2025 "
            "(with districts), this period the units after it."
        )
        return Basis(different, reason % names, 2)
    if before.criteria_set.code != now.criteria_set.code:
        return Basis(different, _("%(previous)s used another criteria set: %(set)s.") % names, 2)
    if before.criteria_set.target_basis != now.criteria_set.target_basis:
        reason = _("%(previous)s set its targets on another basis (%(basis)s).")
        names["basis"] = before.criteria_set.get_target_basis_display()
        return Basis(different, reason % names, 2)
    if before.period.is_open:
        reason = _("%(previous)s is still open: its figures may still change.")
        return Basis(_("previous period not closed"), reason % names, 1)
    return None


@dataclass(frozen=True)
class Selection:
    """Which assessments a roll-up reads: one province's period, or one year in every province.

    Each province counts the units in force on its own period's reference date, so a unit is
    counted at most once, in the periods whose reference date falls within its life.
    """

    criteria_set: CriteriaSet
    parts: tuple[Scored, ...]  # at most one per province
    previous: Selection | None = None
    period: AssessmentPeriod | None = None  # when the selection is one province's period

    @classmethod
    def for_period(cls, period: AssessmentPeriod, criteria_set: CriteriaSet) -> Selection:
        before = previous_period(period, criteria_set)
        previous = None
        if before is not None:
            previous = cls(before.criteria_set, (before,), period=before.period)
        return cls(criteria_set, (Scored(period, criteria_set),), previous, period)

    @classmethod
    def for_year(cls, year: int, criteria_set: CriteriaSet, *, with_previous=True) -> Selection:
        """Every province's latest period of the year that assessed the set, each on the units
        in force on that period's own reference date; the previous figures are each province's
        period before that one (which may be of the same year)."""
        latest: dict[int, AssessmentPeriod] = {}
        for period in AssessmentPeriod.objects.filter(
            year=year, criteria_sets=criteria_set
        ).order_by("reference_date", "opens_on", "pk"):
            latest[period.province_id] = period
        parts = tuple(Scored(period, criteria_set) for period in latest.values())
        previous = None
        if with_previous:
            before = latest_earlier(list(parts))
            if before:
                previous = cls(criteria_set, tuple(before.values()))
        return cls(criteria_set, parts, previous)

    @property
    def reference_dates(self) -> list[datetime.date]:
        return sorted({part.period.reference_date for part in self.parts})

    def in_force(self, communes: QuerySet) -> QuerySet:
        """The communes of each province in force on its period's reference date."""
        provinces_on: dict[datetime.date, list[int]] = defaultdict(list)
        for part in self.parts:
            provinces_on[part.period.reference_date].append(part.period.province_id)
        qs = communes.none()
        for day, provinces in provinces_on.items():
            # one query: the branches are OR-ed in its WHERE clause
            qs = qs | communes.current(day).filter(province_id__in=provinces)
        return qs

    def scope(self, communes: QuerySet, filters: Filters) -> QuerySet:
        """The communes a report counts. `communes` is already limited to what the user sees."""
        return _narrow(self.in_force(communes), self.criteria_set, filters)

    def assessments(self, communes) -> QuerySet:
        periods_of: dict[str, list[int]] = defaultdict(list)
        for part in self.parts:
            periods_of[part.criteria_set.code].append(part.period.pk)
        match = Q(pk__in=[])
        for code, periods in periods_of.items():
            match |= Q(period__in=periods, criteria_set__code=code)
        return Assessment.objects.filter(match, commune__in=communes)

    def bases(self) -> dict[int, Basis]:
        """For each province whose previous figures do not compare with these, why not."""
        if self.previous is None:
            return {}
        before = {part.period.province_id: part for part in self.previous.parts}
        found = {}
        for part in self.parts:
            earlier = before.get(part.period.province_id)
            basis = basis_difference(part, earlier) if earlier is not None else None
            if basis is not None:
                found[part.period.province_id] = basis
        return found


def stamp() -> tuple:
    """A value that changes whenever anything a report may show has changed.

    Every write to an assessment (an entry saved, a workflow step, a new assessment) sets its
    updated_at in the same transaction, editing or reorganising a commune sets the commune's,
    a commune's group sets its own, as does saving a district, a province or a period (the
    admin's edits: a name, an end date, a reference date; those tables are small). One round
    trip of index-backed sub-selects, whatever the country's size.
    """
    tables = {
        "a": Assessment._meta.db_table,
        "c": Commune._meta.db_table,
        "d": District._meta.db_table,
        "v": Province._meta.db_table,
        "p": AssessmentPeriod._meta.db_table,
        "g": CommuneGroupAssignment._meta.db_table,
    }
    quoted = {key: connection.ops.quote_name(name) for key, name in tables.items()}
    template = (
        "SELECT (SELECT MAX(updated_at) FROM {a}), (SELECT COUNT(*) FROM {c}), "
        "(SELECT MAX(updated_at) FROM {c}), (SELECT COUNT(*) FROM {d}), "
        "(SELECT MAX(updated_at) FROM {d}), (SELECT COUNT(*) FROM {v}), "
        "(SELECT MAX(updated_at) FROM {v}), (SELECT COUNT(*) FROM {p}), "
        "(SELECT COUNT(*) FROM {p} WHERE is_open), (SELECT MAX(id) FROM {p}), "
        "(SELECT MAX(updated_at) FROM {p}), "
        "(SELECT COUNT(*) FROM {g}), (SELECT MAX(updated_at) FROM {g})"
    )
    sql = template.format(**quoted)  # quoted model table names only, no user input
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return tuple(cursor.fetchone())


# ---------------------------------------------------------------- how rows are cut


@dataclass
class Grouping:
    """How a report cuts its rows: by district where the period has districts, by commune group
    where it has none, by province in the national roll-up."""

    DISTRICT = "district"
    COMMUNE_GROUP = "commune_group"
    PROVINCE = "province"

    kind: str
    criteria_set: CriteriaSet | None = None  # whose commune groups, for COMMUNE_GROUP

    @classmethod
    def for_selection(cls, selection: Selection) -> Grouping:
        if selection.period is None:
            return cls(cls.PROVINCE)
        if selection.period.has_districts:
            return cls(cls.DISTRICT)
        return cls(cls.COMMUNE_GROUP, selection.criteria_set)

    @property
    def has_districts(self) -> bool:
        return self.kind == self.DISTRICT

    @property
    def title(self) -> str:
        """The heading of the rows' column."""
        if self.kind == self.DISTRICT:
            return _("District")
        if self.kind == self.COMMUNE_GROUP:
            return _("Commune group")
        return _("Province")

    @property
    def summary_title(self) -> str:
        if self.kind == self.DISTRICT:
            return _("Summary by district")
        if self.kind == self.COMMUNE_GROUP:
            return _("Summary by commune group")
        return _("Summary by province")

    def key(self, prefix: str = ""):
        """The row of the commune at `prefix` ("" a commune, "commune__" an assessment's)."""
        if self.kind != self.COMMUNE_GROUP:
            return F(f"{prefix}{self.kind}_id")
        commune = f"{prefix[:-2]}_id" if prefix else "pk"
        return Subquery(
            CommuneGroupAssignment.objects.filter(
                commune_id=OuterRef(commune), set_code=self.criteria_set.code
            )
            .order_by()  # one row at most (unique per commune and set): no join to sort
            .values("group_code")[:1]
        )

    @functools.cached_property
    def group_names(self) -> dict[str, str]:
        """The set's commune groups, code → name, in their order (one query)."""
        groups = CommuneGroup.objects.filter(criteria_set=self.criteria_set)
        return {group.code: group.name for group in groups}

    def ordered(self, keys) -> list[tuple[object, str, object]]:
        """(key, label, unit) for the rows with these keys, in report order; the communes in no
        district or no group last. At most one query."""
        keys = set(keys)
        if self.kind == self.COMMUNE_GROUP:
            known = [(code, name, None) for code, name in self.group_names.items() if code in keys]
            others = sorted(k for k in keys if k is not None and k not in self.group_names)
            rows = known + [(code, code, None) for code in others]
            last = _("Not grouped yet")
        else:
            model = District if self.kind == self.DISTRICT else Province
            units = model.objects.filter(pk__in=[k for k in keys if k is not None])
            rows = [(unit.pk, unit.name, unit) for unit in units.order_by("sort_key")]
            last = _("Directly under the province")
        if None in keys:
            rows.append((None, last, None))
        return rows


# ---------------------------------------------------------------- summary rows


@dataclass
class Row:
    """One line of a dashboard: a district, a commune group or a province (or the total)."""

    label: str
    district: District | None = None  # for a link to the district's dashboard
    in_scope: int = 0
    states: dict[str, int] = field(default_factory=dict)
    indicator_met: list[int] = field(default_factory=list)
    criterion_met: int = 0
    previous_in_scope: int = 0
    previous_met: int = 0
    kept: int = 0  # units in scope that were also in force on the previous reference date
    basis: Basis | None = None  # why the previous period is not comparable, if it is not

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
    def previous_share(self) -> Decimal | None:
        return share(self.previous_met, self.previous_in_scope)

    @property
    def not_comparable(self) -> Basis | None:
        """Why the previous figure is not set against this one, or None when it is (or when
        there is nothing to compare with)."""
        found = [self.basis] if self.basis is not None else []
        if self.previous_share is not None and not (
            self.previous_in_scope == self.in_scope == self.kept
        ):
            reason = _(
                "The units in force changed between the two reference dates: "
                "%(ended)d no longer in force, %(new)d new."
            ) % {"ended": self.previous_in_scope - self.kept, "new": self.in_scope - self.kept}
            found.append(Basis(_("different basis"), reason, 2))
        return max(found, key=lambda basis: basis.weight, default=None)

    @property
    def change(self) -> Decimal | None:
        """This share less the previous one, when the two were counted on the same basis."""
        current = self.criterion_share
        if current is None or self.previous_share is None or self.not_comparable is not None:
            return None
        return current - self.previous_share

    @property
    def comparable_previous_share(self) -> Decimal | None:
        return None if self.change is None else self.previous_share

    def add(self, other: Row) -> None:
        self.in_scope += other.in_scope
        for name, n in other.states.items():
            self.states[name] = self.states.get(name, 0) + n
        self.indicator_met = [
            a + b for a, b in zip(self.indicator_met, other.indicator_met, strict=True)
        ]
        self.criterion_met += other.criterion_met
        self.previous_in_scope += other.previous_in_scope
        self.previous_met += other.previous_met
        self.kept += other.kept


def _count_by(queryset: QuerySet, key, *fields: str, distinct: str = "pk"):
    """(row key, *fields, count) from one GROUP BY query."""
    return (
        queryset.annotate(row_key=key)
        .values("row_key", *fields)
        .annotate(n=Count(distinct, distinct=distinct != "pk"))
        .values_list("row_key", *fields, "n")
    )


def grouped_rows(
    communes: QuerySet,
    selection: Selection,
    filters: Filters,
    grouping: Grouping | None = None,
) -> tuple[list[Indicator], list[Row], Row]:
    """One row per district, commune group or province with communes in scope, and the total.

    Ten queries whatever the number of communes, assessments or periods.
    """
    grouping = grouping or Grouping.for_selection(selection)
    key = grouping.key
    visible = communes
    communes = selection.scope(visible, filters)
    indicators = indicators_of(selection.criteria_set)
    position = {ind.pk: i for i, ind in enumerate(indicators)}
    counted = filters.counted_states

    in_scope = dict(_count_by(communes, key()))
    assessments = selection.assessments(communes).filter(criteria_set=selection.criteria_set)
    states: dict = defaultdict(dict)
    met: dict = defaultdict(int)
    for row_key, state, all_met, n in _count_by(assessments, key("commune__"), "state", "all_met"):
        states[row_key][state] = states[row_key].get(state, 0) + n
        if all_met and state in counted:
            met[row_key] += n
    indicator_met: dict = defaultdict(lambda: [0] * len(indicators))
    for row_key, indicator_id, n in _count_by(
        IndicatorResult.objects.filter(
            assessment__in=assessments.filter(state__in=counted), is_met=True
        ),
        key("assessment__commune__"),
        "indicator_id",
    ):
        indicator_met[row_key][position[indicator_id]] = n
    previous_met, previous_scope, kept = {}, {}, {}
    if selection.previous is not None:
        before = selection.previous
        previous_communes = before.scope(visible, filters)
        previous_scope = dict(_count_by(previous_communes, key()))
        previous_met = dict(
            _count_by(
                before.assessments(previous_communes).filter(state__in=counted, all_met=True),
                key("commune__"),
                distinct="commune_id",  # one commune, once, whatever the versions of its set
            )
        )
        kept = dict(_count_by(before.in_force(communes), key()))
    bases = selection.bases()
    single = selection.period is not None

    def basis_of(row_key) -> Basis | None:
        if single:
            return bases.get(selection.period.province_id)
        return bases.get(row_key) if grouping.kind == Grouping.PROVINCE else None

    rows = []
    for row_key, label, unit in grouping.ordered(in_scope):
        rows.append(
            Row(
                label=label,
                district=unit if grouping.kind == Grouping.DISTRICT else None,
                in_scope=in_scope[row_key],
                states=dict(states.get(row_key, {})),
                indicator_met=list(indicator_met[row_key]),
                criterion_met=met.get(row_key, 0),
                previous_in_scope=previous_scope.get(row_key, 0),
                previous_met=previous_met.get(row_key, 0),
                kept=kept.get(row_key, 0),
                basis=basis_of(row_key),
            )
        )
    total = Row(label=_("Total"), indicator_met=[0] * len(indicators))
    for row in rows:
        total.add(row)
    # rows of the previous period that no longer exist still count in the previous total
    total.previous_in_scope = sum(previous_scope.values())
    total.previous_met = sum(previous_met.values())
    total.basis = max(bases.values(), key=lambda b: b.weight, default=None)
    return indicators, rows, total


def comparison_notes(rows: list[Row], total: Row) -> list[str]:
    """The reasons, once each, why some previous figures are not set against these."""
    notes = []
    for row in [*rows, total]:
        basis = row.not_comparable
        if basis is not None and basis.reason not in notes:
            notes.append(basis.reason)
    return notes


def units_basis(selection: Selection) -> str:
    """Which units the figures count, in words."""
    days = selection.reference_dates
    if len(days) == 1:
        return _("Units in force on %(date)s.") % {"date": date_format(days[0], "d/m/Y")}
    return _("Each province counts the units in force on its own period's reference date.")


# ---------------------------------------------------------------- commune lines


@dataclass
class CommuneLine:
    """One commune of a district matrix or of the detail sheet."""

    commune: Commune
    assessment: Assessment | None
    results: list[IndicatorResult | None]
    group: str = ""  # the summary row it belongs to: its district, commune group or province
    counted: bool = False  # its assessment is in a state the report counts (Filters)


def selection_lines(
    communes: QuerySet,
    selection: Selection,
    filters: Filters,
    indicators: list[Indicator],
    grouping: Grouping | None = None,
) -> list[CommuneLine]:
    """Each commune in scope with its assessment and its results, indicator by indicator, in
    the order of the summary rows.

    Three queries whatever the number of communes (four by commune group)."""
    grouping = grouping or Grouping.for_selection(selection)
    scope = (
        selection.scope(communes, filters)
        .select_related("district", "province__region")
        .order_by("province__sort_key", "district__sort_key", "sort_key", "code")
    )
    if grouping.kind == Grouping.COMMUNE_GROUP:
        scope = scope.annotate(row_key=grouping.key())
    communes = list(scope)
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
    if grouping.kind == Grouping.COMMUNE_GROUP:
        order = grouping.ordered({c.row_key for c in communes})
        rank = {row_key: i for i, (row_key, _label, _unit) in enumerate(order)}
        labels = {row_key: label for row_key, label, _unit in order}
        communes.sort(key=lambda c: rank[c.row_key])  # stable: names stay in order inside
    lines = []
    for commune in communes:
        assessment = assessments.get(commune.pk)
        by_indicator = results.get(assessment.pk, {}) if assessment else {}
        if grouping.kind == Grouping.COMMUNE_GROUP:
            group = labels[commune.row_key]
        elif grouping.kind == Grouping.PROVINCE:
            group = commune.province.name
        else:
            group = commune.district.name if commune.district_id else ""
        counted = assessment is not None and assessment.state in filters.counted_states
        results_of = [by_indicator.get(i.pk) for i in indicators]
        lines.append(CommuneLine(commune, assessment, results_of, group, counted))
    return lines


@dataclass
class Gap:
    commune: Commune
    assessment: Assessment
    failing: list[tuple[Indicator, IndicatorResult]]
    group: str = ""


def gap_list(lines: list[CommuneLine], indicators: list[Indicator]) -> list[Gap]:
    """Counted xã not meeting the criterion, with the indicators that fail and why."""
    gaps = []
    for line in lines:
        a = line.assessment
        if not line.counted or a.all_met is not False:
            continue
        failing = [
            (indicator, result)
            for indicator, result in zip(indicators, line.results, strict=True)
            if result is not None and result.is_met is False
        ]
        gaps.append(Gap(line.commune, a, failing, line.group))
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
        if line.commune.pk in met_before and line.counted and line.assessment.all_met is False
    ]


# ---------------------------------------------------------------- before and after the reform


@dataclass
class Merged:
    """A commune of the two-tier government, and how the communes it was formed from stood."""

    commune: Commune
    assessment: Assessment | None  # in the period shown
    predecessors: list[tuple[Commune, Assessment | None]]

    @property
    def met_before(self) -> int:
        return sum(
            1
            for _commune, a in self.predecessors
            if a is not None and a.state == State.APPROVED and a.all_met is True
        )


@dataclass
class Reorganisation:
    """Before and after 01/07/2025: each new commune against its former communes' last results."""

    before: AssessmentPeriod
    criteria_set: CriteriaSet
    merged: list[Merged]

    @property
    def met_before(self) -> int:
        return sum(m.met_before for m in self.merged)

    @property
    def former(self) -> int:
        return sum(len(m.predecessors) for m in self.merged)


def reorganisation(
    communes: QuerySet, lines: list[CommuneLine], selection: Selection
) -> Reorganisation | None:
    """For a period without districts: each new commune in scope whose predecessors (the xã
    among them, unless the set scores more) ended on 30/06/2025, with how many of them met the
    criterion (approved) in the province's last period before the reform that assessed a
    comparable set. At most four queries."""
    period = selection.period
    if period is None or period.has_districts or not lines:
        return None
    previous = selection.previous
    if previous is not None and previous.period.has_districts:
        last = previous.parts[0]  # the latest earlier period is already before the reform
    else:
        now = Scored(period, selection.criteria_set)
        last = latest_earlier([now], until=DISTRICTS_ENDED).get(period.province_id)
    if last is None:
        return None
    new = {line.commune.pk: line for line in lines}
    predecessors = defaultdict(list)
    formers = communes.filter(successor_id__in=list(new), valid_to=BEFORE_REFORM)
    # the units the set scores: former townships and wards had no xã result to compare
    formers = _narrow(formers, selection.criteria_set, Filters())
    for former in formers.order_by("sort_key", "code"):
        predecessors[former.successor_id].append(former)
    results = {
        a.commune_id: a
        for a in Assessment.objects.filter(
            period=last.period,
            criteria_set=last.criteria_set,
            commune__in=[c.pk for group in predecessors.values() for c in group],
        )
    }
    merged = [
        Merged(
            line.commune,
            line.assessment,
            [(c, results.get(c.pk)) for c in predecessors[line.commune.pk]],
        )
        for line in lines
        if predecessors.get(line.commune.pk)
    ]
    if not merged:
        return None
    return Reorganisation(last.period, last.criteria_set, merged)
