"""Everything that changes an assessment: entry, evidence, the review workflow, history.

Each function runs in one transaction, takes the assessment row lock (PostgreSQL) and checks the
version the user saw (every database), so two people never silently overwrite each other.
"""

from __future__ import annotations

import datetime
import functools
import json
from dataclasses import dataclass
from typing import NamedTuple

from django.db import connection, transaction
from django.db.models import Count, F, Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from criteria.models import CriteriaSet, Indicator, Target

from . import notify
from .models import (
    Assessment,
    AssessmentLocked,
    AssessmentPeriod,
    Change,
    Commune,
    CommuneGroupAssignment,
    Evidence,
    IndicatorResult,
    Province,
    ReviewAssignment,
    ReviewNote,
    State,
    Transition,
    User,
    Village,
)
from .scoring import Decision, TargetKey, decide, target_key
from .workflow import (
    Action,
    WorkflowError,
    can_create,
    check_period,
    creatable_communes,
    next_state,
    require,
)

__all__ = ["WorkflowError"]  # raised by every service below; re-exported for callers


class VersionConflict(Exception):
    """Someone saved the assessment after this user loaded it."""

    def __init__(self, assessment: Assessment, seen_version: int):
        super().__init__("version conflict")
        self.assessment = assessment
        self.seen_version = seen_version

    @property
    def changes(self):
        """What the other people changed since the version this user saw."""
        return (
            Change.objects.filter(assessment=self.assessment, version__gt=self.seen_version)
            .select_related("actor", "indicator")
            .order_by("at", "pk")
        )


def indicators_of(criteria_set: CriteriaSet) -> list[Indicator]:
    """The set's indicators in order, with what deciding them needs."""
    return list(
        Indicator.objects.filter(criterion__criteria_set=criteria_set)
        .select_related("criterion")
        .prefetch_related(
            "conditions",
            Prefetch("targets", queryset=Target.objects.select_related("region", "commune_group")),
        )
        .order_by("criterion__order", "order")
    )


class Definition(NamedTuple):
    """What saving one indicator reads of its set: the set (with its special region), the
    indicator (with its conditions and targets, as `indicators_of()` gives them) and the number
    of the set's indicators."""

    criteria_set: CriteriaSet
    indicator: Indicator
    indicator_count: int


# Saving an entry reads one indicator of a set with its conditions and targets, and the set
# itself (four queries, a third of a form save's time). A set in use never changes them (only a
# draft may change, see CriteriaSet.is_editable; corrections of its notes save the set too), so
# each process keeps what it read, keyed by the set's id and its last save, for sets that are not
# drafts.
_DEFINITIONS: dict[tuple, Definition] = {}
_DEFINITIONS_KEPT = 256


def indicator_of(criteria_set: CriteriaSet, pk: int) -> Definition | None:
    """One indicator of the set, with the set as a whole and its number of indicators; None if
    the set has no such indicator. `criteria_set` needs only its id, status and last save (as
    `for_entry()` reads it). Kept per process for a set in use (not a draft)."""
    key = (criteria_set.pk, criteria_set.updated_at, pk)
    kept = criteria_set.status != CriteriaSet.Status.DRAFT
    if kept and key in _DEFINITIONS:
        return _DEFINITIONS[key]
    indicator = (
        Indicator.objects.filter(pk=pk, criterion__criteria_set=criteria_set.pk)
        .select_related("criterion__criteria_set__special_region")
        .prefetch_related(
            "conditions",
            Prefetch("targets", queryset=Target.objects.select_related("region", "commune_group")),
        )
        .first()
    )
    if indicator is None:
        return None
    count = Indicator.objects.filter(criterion__criteria_set=criteria_set.pk).count()
    found = Definition(indicator.criterion.criteria_set, indicator, count)
    if kept:
        if len(_DEFINITIONS) >= _DEFINITIONS_KEPT:
            _DEFINITIONS.clear()
        _DEFINITIONS[key] = found
    return found


def target_keys(assessments: list[Assessment]) -> dict[int, TargetKey]:
    """Which targets apply to each assessment (region, special rule or commune group), with one
    query for the communes' groups whatever the number of assessments."""
    grouped = [a for a in assessments if a.criteria_set.target_basis == "commune_group"]
    groups = {}
    if grouped:
        groups = {
            (commune_id, set_code): group_code
            for commune_id, set_code, group_code in CommuneGroupAssignment.objects.filter(
                commune__in={a.commune_id for a in grouped},
                set_code__in={a.criteria_set.code for a in grouped},
            ).values_list("commune_id", "set_code", "group_code")
        }
    return {
        a.pk: target_key(a.commune, a.criteria_set, groups.get((a.commune_id, a.criteria_set.code)))
        for a in assessments
    }


# ---------------------------------------------------------------- creating assessments


def _check_commune(
    user: User, commune: Commune, criteria_set: CriteriaSet, period: AssessmentPeriod
) -> None:
    if not can_create(user, commune):
        raise WorkflowError(
            _("You cannot create an assessment for %(commune)s.") % {"commune": commune.name}
        )
    if commune.kind != Commune.Kind.RURAL and not criteria_set.includes_urban_units:
        raise WorkflowError(
            _("%(set)s applies to xã only, not to %(commune)s.")
            % {"set": criteria_set.name, "commune": commune.name}
        )
    on = period.reference_date
    if (commune.valid_from and commune.valid_from > on) or (
        commune.valid_to and commune.valid_to < on
    ):
        raise WorkflowError(
            _("%(commune)s was not in force on %(date)s, the reference date of %(period)s.")
            % {"commune": commune.name, "date": on.strftime("%d/%m/%Y"), "period": period}
        )


@transaction.atomic
def create_assessment(
    *, user: User, commune: Commune, criteria_set: CriteriaSet, period: AssessmentPeriod
) -> Assessment:
    """A new draft for one commune, or the existing one (one per commune, set and period)."""
    existing = Assessment.objects.filter(commune=commune, criteria_set=criteria_set, period=period)
    if existing.exists():
        return existing.get()
    check_period(period, criteria_set)
    _check_commune(user, commune, criteria_set, period)
    assessment = Assessment.objects.create(
        commune=commune, criteria_set=criteria_set, period=period, created_by=user
    )
    Transition.objects.create(
        assessment=assessment, to_state=State.DRAFT, action="create", actor=user
    )
    return assessment


@transaction.atomic
def create_for_scope(
    *, user: User, criteria_set: CriteriaSet, period: AssessmentPeriod
) -> list[Assessment]:
    """Drafts for every xã the user may create for (a province administrator: the province; a
    district officer: the district) in force on the period's reference date, that has none."""
    communes = creatable_communes(
        user, Commune.objects.for_user(user).current(period.reference_date)
    ).order_by("sort_key")
    if not criteria_set.includes_urban_units:
        communes = communes.rural()
    return create_assessments(
        user=user, communes=list(communes), criteria_set=criteria_set, period=period
    )


@transaction.atomic
def create_assessments(
    *, user: User, communes: list[Commune], criteria_set: CriteriaSet, period: AssessmentPeriod
) -> list[Assessment]:
    """Drafts for those of the communes that have none yet in the period, in bulk."""
    if not communes:
        return []
    check_period(period, criteria_set)
    have = set(
        Assessment.objects.filter(
            criteria_set=criteria_set, period=period, commune__in=communes
        ).values_list("commune_id", flat=True)
    )
    created = []
    for commune in communes:
        if commune.pk not in have:
            _check_commune(user, commune, criteria_set, period)
            created.append(
                Assessment(
                    commune=commune, criteria_set=criteria_set, period=period, created_by=user
                )
            )
    Assessment.objects.bulk_create(created, batch_size=1000)
    Transition.objects.bulk_create(
        (
            Transition(assessment=a, to_state=State.DRAFT, action="create", actor=user)
            for a in created
        ),
        batch_size=1000,
    )
    return created


# ---------------------------------------------------------------- entry


def _lock(assessment: Assessment, seen_version: int | None) -> Assessment:
    """The assessment row, locked for this transaction, checked against the version seen."""
    current = (
        Assessment.objects.select_for_update(of=("self",))
        .select_related("period", "criteria_set__special_region", "commune__province__region")
        .get(pk=assessment.pk)
    )
    if seen_version is not None and current.version != seen_version:
        raise VersionConflict(current, seen_version)
    return current


def _check_entry(assessment: Assessment, user: User) -> None:
    if assessment.is_locked:
        raise AssessmentLocked(
            _("This assessment is approved and locked. A province reviewer can reopen it.")
        )
    require(user, assessment, Action.ENTER)


def _change_row(
    assessment: Assessment,
    user: User,
    field: str,
    old,
    new,
    *,
    indicator: Indicator | None = None,
    source: str = "form",
    at=None,
) -> tuple:
    """One history row, as values in the order of CHANGE_COLUMNS."""
    return (
        assessment.pk,
        indicator.pk if indicator else None,
        field,
        old,
        new,
        assessment.version,
        assessment.state,
        assessment.state == State.RETURNED or assessment.entry_reopened,
        source,
        user.pk,
        at or timezone.now(),
    )


CHANGE_COLUMNS = ["assessment_id", "indicator_id", "field", "old", "new", "version", "state"]
CHANGE_COLUMNS += ["after_return", "source", "actor_id", "at"]


def _record(assessment: Assessment, user: User, field: str, old, new, **kwargs) -> Change:
    """One history row as a Change, for a single save."""
    return Change(
        **dict(
            zip(
                CHANGE_COLUMNS,
                _change_row(assessment, user, field, old, new, **kwargs),
                strict=True,
            )
        )
    )


def _insert_changes(rows: list[tuple]) -> None:
    """Write history rows (tuples in the order of CHANGE_COLUMNS) with multi-row INSERTs through
    the database cursor, the same on every engine: the JSON columns as the JSON text Django
    writes, the time as the engine stores it, no model instance per row (most of bulk_create's
    time for the tens of thousands of rows of an Excel file, and half of it for a form's one
    row). The rows written are those bulk_create writes."""
    if not rows:
        return
    ops = connection.ops
    encoder = Change._meta.get_field("new").encoder
    times: dict[int, object] = {}  # the rows of one save share one time: adapted once

    def json_text(value):
        return None if value is None else json.dumps(value, cls=encoder)  # None: SQL NULL

    width = len(CHANGE_COLUMNS)
    per_statement = min(1000, (connection.features.max_query_params or 10**6) // width)
    table = ops.quote_name(Change._meta.db_table)
    columns = ", ".join(ops.quote_name(name) for name in CHANGE_COLUMNS)
    one = "(" + ", ".join(["%s"] * width) + ")"
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_statement):
            batch = rows[start : start + per_statement]
            params = []
            for assessment, indicator, field, old, new, version, state, *rest, at in batch:
                if id(at) not in times:
                    times[id(at)] = (at, ops.adapt_datetimefield_value(at))
                params += (assessment, indicator, field, json_text(old), json_text(new))
                params += (version, state, *rest, times[id(at)][1])
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {', '.join([one] * len(batch))}",  # noqa: S608 - quoted names and placeholders only
                params,
            )


def _bump(assessment: Assessment) -> None:
    Assessment.objects.filter(pk=assessment.pk).update(
        version=F("version") + 1, updated_at=timezone.now()
    )
    assessment.version += 1


def _refresh_all_met_many(assessments: list[Assessment]) -> None:
    """Store whether every indicator of each assessment is met (None until all are decided)."""
    if not assessments:
        return
    indicator_counts = dict(
        Indicator.objects.filter(
            criterion__criteria_set__in={a.criteria_set_id for a in assessments}
        )
        .values("criterion__criteria_set")
        .annotate(n=Count("pk"))
        .values_list("criterion__criteria_set", "n")
    )
    met: dict[int, list] = {a.pk: [] for a in assessments}
    for assessment_id, is_met in IndicatorResult.objects.filter(assessment__in=met).values_list(
        "assessment_id", "is_met"
    ):
        met[assessment_id].append(is_met)
    changed = []
    for a in assessments:
        all_met = _all_met(met[a.pk], indicator_counts.get(a.criteria_set_id, 0))
        if a.all_met != all_met:
            a.all_met = all_met
            changed.append(a)
    for value in (True, False, None):
        pks = [a.pk for a in changed if a.all_met is value]
        if pks:
            Assessment.objects.filter(pk__in=pks).update(all_met=value, updated_at=timezone.now())


@dataclass
class Entry:
    """What a user entered for one indicator."""

    inputs: dict
    override_met: bool | None = None
    override_reason: str = ""
    note: str = ""
    no_evidence_explanation: str = ""


ENTRY_FIELDS = ("inputs", "override_met", "override_reason", "note", "no_evidence_explanation")


@dataclass
class EntryItem:
    """One indicator's entry for one assessment, with the version the user saw (None: any)."""

    assessment: Assessment
    indicator: Indicator
    entry: Entry
    seen_version: int | None = None


def save_entry(
    *,
    user: User,
    assessment: Assessment,
    indicator: Indicator,
    entry: Entry,
    seen_version: int | None,
    villages: list | None = None,
    source: str = "form",
    locked: bool = False,
    indicator_count: int | None = None,
) -> IndicatorResult:
    """Save one indicator's entry, decide it, record every changed field; bumps the version.
    `locked` and `indicator_count`: as save_entries' `locked` and `indicator_counts`."""
    item = EntryItem(assessment, indicator, entry, seen_version)
    counts = None if indicator_count is None else {assessment.criteria_set_id: indicator_count}
    return save_entries(
        user=user,
        items=[item],
        source=source,
        villages=villages,
        locked=locked,
        indicator_counts=counts,
    )[0]


ENTRY_RELATED = ("period", "commune__province__region", "criteria_set")


@functools.cache
def _entry_columns() -> list[str]:
    """What `for_entry()` reads: the assessment, its period and its commune whole, the region of
    the commune's province, and of the set only what `indicator_of()` needs to find it."""
    whole = [(Assessment, ""), (AssessmentPeriod, "period__"), (Commune, "commune__")]
    columns = [prefix + f.name for model, prefix in whole for f in model._meta.concrete_fields]
    columns += ["commune__province__region", "commune__province__region__code"]
    return [*columns, "criteria_set__status", "criteria_set__updated_at"]


def for_entry(assessments):
    """`assessments` (a queryset) read as saving one entry needs them: locked for the
    transaction (PostgreSQL; SQLite's transactions take the database at their start), with what
    checking and deciding an entry reads (the period, the commune and its province's region)
    in one query of six tables, their columns only (not the province's nor most of the set's).
    The set is read only as far as `indicator_of()` needs to find it: the caller puts the set
    `indicator_of()` returns in its place."""
    return (
        assessments.select_related(None)
        .select_related(*ENTRY_RELATED)
        .only(*_entry_columns())
        .select_for_update(of=("self",))
    )


def _locked_for_entry(pks: set[int]) -> dict[int, Assessment]:
    """The assessments locked, with what saving entries reads of them, in four queries: their
    rows with their communes, then the few periods, sets (with their special region) and
    provinces (with their region) they share, each made once instead of once per row (an Excel
    file locks thousands of assessments of one period and one set)."""
    rows = list(
        Assessment.objects.filter(pk__in=pks)
        .select_related("commune")
        .select_for_update(of=("self",))
    )
    periods = AssessmentPeriod.objects.in_bulk({a.period_id for a in rows})
    sets = CriteriaSet.objects.select_related("special_region").in_bulk(
        {a.criteria_set_id for a in rows}
    )
    provinces = Province.objects.select_related("region").in_bulk(
        {a.commune.province_id for a in rows}
    )
    for a in rows:
        a.period, a.criteria_set = periods[a.period_id], sets[a.criteria_set_id]
        a.commune.province = provinces[a.commune.province_id]
    return {a.pk: a for a in rows}


def needs_villages(indicator: Indicator) -> bool:
    """Whether entering or deciding the indicator reads the commune's villages."""
    return indicator.value_type == Indicator.ValueType.VILLAGE_CHECKLIST or any(
        c.scope == "village" for c in indicator.conditions.all()
    )


def _all_met(is_met: list, indicator_count: int) -> bool | None:
    """Whether every indicator is met: False if one is not, None until all are decided."""
    if False in is_met:
        return False
    if len(is_met) < indicator_count or None in is_met:
        return None
    return True


def save_entries(
    *,
    user: User,
    items: list[EntryItem],
    source: str = "form",
    villages: list | None = None,
    locked: bool = False,
    indicator_counts: dict[int, int] | None = None,
) -> list[IndicatorResult]:
    """Save many entries at once (a form save is one; an Excel file is many), all or none.

    A fixed number of queries for any number of entries: the assessments are locked and checked
    against the versions seen, decided in Python, and written with bulk operations. Each changed
    assessment's version goes up by one and its `all_met` is stored in the same UPDATE.

    `locked`: the caller read the items' assessments with `for_entry()` in its own transaction,
    which this one joins, so they are not read again (and no savepoint is made: an error ends
    the caller's transaction too). `indicator_counts` (criteria set id → number of indicators),
    when the caller knows it, saves the query that counts them.
    """
    with transaction.atomic(savepoint=not locked):
        return _save_entries(user, items, source, villages, locked, indicator_counts)


def _save_entries(user, items, source, villages, locked, indicator_counts):
    pks = {item.assessment.pk for item in items}
    if locked:
        locked_rows = {item.assessment.pk: item.assessment for item in items}
    else:
        locked_rows = _locked_for_entry(pks)
    checked = set()  # once per assessment (a file has an item for each of its indicators)
    for item in items:
        assessment = locked_rows[item.assessment.pk]
        if item.seen_version is not None and assessment.version != item.seen_version:
            raise VersionConflict(assessment, item.seen_version)
        if assessment.pk not in checked:
            _check_entry(assessment, user)
            checked.add(assessment.pk)
        if item.entry.override_met is not None and not item.entry.override_reason.strip():
            raise WorkflowError(_("Setting the result yourself needs a written reason."))
    if villages is not None:
        villages_of = dict.fromkeys(pks, villages)
    else:
        villages_of = {pk: [] for pk in pks}
        commune_to_assessments: dict[int, list[int]] = {}
        for a in locked_rows.values():
            commune_to_assessments.setdefault(a.commune_id, []).append(a.pk)
        for village in Village.objects.filter(
            commune__in=commune_to_assessments, is_active=True
        ).order_by("sort_key", "pk"):
            for pk in commune_to_assessments[village.commune_id]:
                villages_of[pk].append(village)
    keys = target_keys(list(locked_rows.values()))
    # Every result of these assessments: those saved now, and the others, for `all_met`.
    results_of: dict[int, dict[int, IndicatorResult]] = {pk: {} for pk in pks}
    for r in IndicatorResult.objects.filter(assessment__in=pks):
        results_of[r.assessment_id][r.indicator_id] = r
    results, created, updated, changes, touched = [], [], [], [], set()
    decided: dict[tuple, Decision] = {}
    now = timezone.now()
    for item in items:
        a_pk, i_pk = item.assessment.pk, item.indicator.pk  # read once: an Excel file has 10⁵
        assessment, indicator, entry = locked_rows[a_pk], item.indicator, item.entry
        result = results_of[a_pk].get(i_pk)
        is_new = result is None
        if is_new:
            result = IndicatorResult(assessment=assessment, indicator=indicator)
            results_of[a_pk][i_pk] = result
        else:
            result.assessment = assessment
        decision = _decided(decided, indicator, keys[a_pk], villages_of[a_pk], entry.inputs)
        new_values = {
            "inputs": entry.inputs,
            "override_met": entry.override_met,
            "override_reason": entry.override_reason.strip()
            if entry.override_met is not None
            else "",
            "note": entry.note.strip(),
            "no_evidence_explanation": entry.no_evidence_explanation.strip(),
        }
        is_met = entry.override_met if entry.override_met is not None else decision.met
        record = [
            (name, old, value)
            for name, value in new_values.items()
            if (old := getattr(result, name)) != value
        ]
        if result.is_met != is_met:
            record.append(("is_met", result.is_met, is_met))
        if record:
            # the rows _change_row() makes, built here without looking up the same ids again
            after_return = assessment.state == State.RETURNED or assessment.entry_reopened
            tail = (assessment.version, assessment.state, after_return, source, user.pk, now)
            changes += [(a_pk, i_pk, name, old, new, *tail) for name, old, new in record]
        for name, value in new_values.items():
            setattr(result, name, value)
        result.computed_met, result.computed_reason = decision.met, decision.reason
        result.is_met, result.updated_by = is_met, user
        if is_new:
            created.append(result)
        elif record:
            updated.append(result)
        if is_new or record:
            touched.add(a_pk)
        results.append(result)
    IndicatorResult.objects.bulk_create(created, batch_size=1000)
    fields = [*ENTRY_FIELDS, "computed_met", "computed_reason", "is_met", "updated_by"]
    if len(updated) == 1:  # a form save: one plain UPDATE of a row checked above
        result = updated[0]
        _update_rows(
            IndicatorResult,
            [result.pk],
            {**{name: getattr(result, name) for name in fields}, "updated_at": timezone.now()},
        )
    else:
        IndicatorResult.objects.bulk_update(updated, [*fields, "updated_at"], batch_size=1000)
    _insert_changes(changes)
    if touched:
        _bump_with_all_met([locked_rows[pk] for pk in touched], results_of, indicator_counts)
        for item in items:
            item.assessment.version = locked_rows[item.assessment.pk].version
            item.assessment.all_met = locked_rows[item.assessment.pk].all_met
    return results


def _decided(decided: dict, indicator: Indicator, key, villages: list, inputs: dict) -> Decision:
    """decide(), once for each indicator, target, entry (and villages, for an indicator
    decided per village) in one save: the rows of a file often hold the same answers (a
    decision is a frozen value, shared safely)."""
    try:
        entered = json.dumps(inputs, sort_keys=True)
    except TypeError:  # not JSON: decided on its own
        return decide(indicator, key, villages, inputs)
    memo = (indicator.pk, key, entered)
    if indicator.value_type == Indicator.ValueType.VILLAGE_CHECKLIST:
        memo += tuple((v.pk, v.name) for v in villages)  # what its decision reads of them
    if memo not in decided:
        decided[memo] = decide(indicator, key, villages, inputs)
    return decided[memo]


def _bump_with_all_met(
    assessments: list[Assessment],
    results_of: dict[int, dict[int, IndicatorResult]],
    indicator_counts: dict[int, int] | None,
) -> None:
    """Raise each assessment's version by one and store whether all its indicators are met
    (from its results as saved now), in one UPDATE per value of `all_met`."""
    counts = dict(indicator_counts or {})
    missing = {a.criteria_set_id for a in assessments} - counts.keys()
    if missing:
        counts.update(
            Indicator.objects.filter(criterion__criteria_set__in=missing)
            .values("criterion__criteria_set")
            .annotate(n=Count("pk"))
            .values_list("criterion__criteria_set", "n")
        )
    by_value: dict[bool | None, list[int]] = {}
    for a in assessments:
        is_met = [r.is_met for r in results_of[a.pk].values()]
        a.all_met = _all_met(is_met, counts.get(a.criteria_set_id, 0))
        a.version += 1
        by_value.setdefault(a.all_met, []).append(a.pk)
    now = timezone.now()
    for value, pks in by_value.items():
        _update_rows(Assessment, pks, {"all_met": value, "updated_at": now}, plus_one="version")


def _update_rows(model, pks: list[int], values: dict, *, plus_one: str = "") -> None:
    """Set `values` (field name → value) on the rows `pks` of `model`, and raise the field
    `plus_one` by one, with UPDATEs through the database cursor, the same on every engine: each
    value adapted by its field as update() adapts it, in a tenth of update()'s Python (a form
    save makes two). For rows a service has locked and checked (see update_checked_rows())."""
    ops, meta = connection.ops, model._meta
    assignments, params = [], []
    for name, value in values.items():
        field = meta.get_field(name)
        if field.is_relation and isinstance(value, field.related_model):
            value = value.pk
        assignments.append(f"{ops.quote_name(field.column)} = %s")
        params.append(field.get_db_prep_save(value, connection))
    if plus_one:
        column = ops.quote_name(meta.get_field(plus_one).column)
        assignments.append(f"{column} = {column} + 1")
    table, key = ops.quote_name(meta.db_table), ops.quote_name(meta.pk.column)
    per_statement = min(1000, (connection.features.max_query_params or 10**6) - len(params))
    with connection.cursor() as cursor:
        for start in range(0, len(pks), per_statement):
            batch = pks[start : start + per_statement]
            cursor.execute(
                f"UPDATE {table} SET {', '.join(assignments)} "  # noqa: S608 - quoted names and placeholders only
                f"WHERE {key} IN ({', '.join(['%s'] * len(batch))})",
                [*params, *batch],
            )


@transaction.atomic
def add_evidence(
    *,
    user: User,
    assessment: Assessment,
    indicator: Indicator,
    upload=None,
    content_type: str = "",
    doc_number: str = "",
    doc_date: datetime.date | None = None,
    doc_issuer: str = "",
    description: str = "",
    seen_version: int | None = None,
) -> Evidence:
    assessment = _lock(assessment, seen_version)
    _check_entry(assessment, user)
    result, _created = IndicatorResult.objects.get_or_create(
        assessment=assessment, indicator=indicator
    )
    result.assessment = assessment
    evidence = Evidence(
        result=result,
        content_type=content_type,
        original_name=(upload.name[:255] if upload else ""),
        size=(upload.size if upload else 0),
        doc_number=doc_number.strip(),
        doc_date=doc_date,
        doc_issuer=doc_issuer.strip(),
        description=description.strip(),
        added_by=user,
    )
    if upload is not None:
        evidence.file.save("upload", upload, save=False)
    evidence.save()
    _record(assessment, user, "evidence", None, str(evidence), indicator=indicator).save()
    _bump(assessment)
    return evidence


@transaction.atomic
def remove_evidence(*, user: User, evidence: Evidence) -> None:
    """Mark evidence removed: the file is kept, and the removal is in the history."""
    assessment = _lock(evidence.result.assessment, None)
    _check_entry(assessment, user)
    evidence.result.assessment = assessment
    evidence.is_removed = True
    evidence.save(update_fields=["is_removed"])
    _record(
        assessment, user, "evidence", str(evidence), None, indicator=evidence.result.indicator
    ).save()
    _bump(assessment)


# ---------------------------------------------------------------- review workflow


def missing_for_submission(
    assessment: Assessment,
    indicators: list[Indicator] | None = None,
    results: dict[int, IndicatorResult] | None = None,
) -> list[str]:
    """What must be done before the assessment can be submitted, in words.

    A page that has already loaded the indicators and the results (with their evidence) passes
    them in.
    """
    problems = []
    if results is None:
        results = {r.indicator_id: r for r in assessment.results.prefetch_related("evidence")}
    for indicator in indicators or indicators_of(assessment.criteria_set):
        result = results.get(indicator.pk)
        if result is None or result.is_met is None:
            problems.append(_("Indicator %(code)s has no result yet.") % {"code": indicator.code})
            continue
        has_evidence = any(not e.is_removed for e in result.evidence.all())
        if result.is_met and not has_evidence and not result.no_evidence_explanation:
            problems.append(
                _(
                    "Indicator %(code)s is marked met without evidence: add a file or a "
                    "document, or write why there is none."
                )
                % {"code": indicator.code}
            )
    return problems


def _move(
    assessment: Assessment,
    user: User,
    to_state: str,
    action: str,
    reason: str = "",
    *,
    entry_reopened: bool = False,
):
    step = Transition.objects.create(
        assessment=assessment,
        from_state=assessment.state,
        to_state=to_state,
        action=action,
        reason=reason,
        actor=user,
    )
    notify.after_step(step)  # once the transaction commits
    _record(assessment, user, "state", assessment.state, to_state).save()
    assessment.state = to_state
    assessment.version += 1
    # Entry after the period closed is allowed only between a reopening and the next submission.
    assessment.entry_reopened = entry_reopened
    fields = {
        "state": to_state,
        "version": assessment.version,
        "entry_reopened": entry_reopened,
        "attention": "",  # a reviewer has looked at it again
        "updated_at": timezone.now(),
    }
    assessment.attention = ""
    Assessment.objects.filter(pk=assessment.pk).update(**fields)
    return assessment


def _need_reason(reason: str, message: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise WorkflowError(message)
    return reason


@transaction.atomic
def submit(*, user: User, assessment: Assessment, seen_version: int | None = None) -> Assessment:
    """A district officer sends to the province; a commune officer sends to the district."""
    assessment = _lock(assessment, seen_version)
    rule = require(user, assessment, Action.SUBMIT)
    problems = missing_for_submission(assessment)
    if problems:
        raise WorkflowError(" ".join(problems))
    return _move(assessment, user, next_state(rule, user, assessment), "submit")


@transaction.atomic
def forward(*, user: User, assessment: Assessment) -> Assessment:
    """The district verifies a commune's self-assessment and sends it to the province."""
    assessment = _lock(assessment, None)
    rule = require(user, assessment, Action.FORWARD)
    return _move(assessment, user, next_state(rule, user, assessment), "forward")


@transaction.atomic
def return_assessment(
    *,
    user: User,
    assessment: Assessment,
    reason: str = "",
    notes: dict[Indicator, str] | None = None,
) -> Assessment:
    """Send back: the province to the commune (or the district), the district to the commune.

    It needs a reason, or a note on at least one indicator ("cần bổ sung"); the notes are kept
    with the return's step and in the history, and shown on those indicators to the officer."""
    reason = (reason or "").strip()
    notes = {indicator: text.strip() for indicator, text in (notes or {}).items() if text.strip()}
    if not reason and not notes:
        raise WorkflowError(
            _("Write the reason for returning it, or what is needed on at least one indicator.")
        )
    assessment = _lock(assessment, None)
    rule = require(user, assessment, Action.RETURN)
    if notes and Indicator.objects.filter(
        pk__in=[i.pk for i in notes], criterion__criteria_set=assessment.criteria_set_id
    ).count() != len(notes):
        raise WorkflowError(_("A note is on an indicator of another criteria set."))
    # The notes, in the history as written in the state the reviewer saw, then the step.
    Change.objects.bulk_create(
        _record(assessment, user, "review_note", None, text, indicator=indicator)
        for indicator, text in notes.items()
    )
    assessment = _move(assessment, user, next_state(rule, user, assessment), "return", reason)
    step = assessment.transitions.latest("pk")
    ReviewNote.objects.bulk_create(
        ReviewNote(
            assessment=assessment, indicator=indicator, note=text, transition=step, author=user
        )
        for indicator, text in notes.items()
    )
    return assessment


@transaction.atomic
def approve(*, user: User, assessment: Assessment) -> Assessment:
    assessment = _lock(assessment, None)
    rule = require(user, assessment, Action.APPROVE)
    return _move(assessment, user, next_state(rule, user, assessment), "approve")


@transaction.atomic
def approve_all(*, user: User, assessments: list[Assessment]) -> list[Assessment]:
    """Approve several submitted assessments at once (all or none)."""
    return [approve(user=user, assessment=a) for a in assessments]


@transaction.atomic
def reopen(*, user: User, assessment: Assessment, reason: str) -> Assessment:
    """A province reviewer unlocks an approved assessment, or opens one after the period closed."""
    reason = _need_reason(reason, _("Write the reason for reopening it."))
    assessment = _lock(assessment, None)
    rule = require(user, assessment, Action.REOPEN)
    return _move(
        assessment,
        user,
        next_state(rule, user, assessment),
        "reopen",
        reason,
        entry_reopened=not assessment.period.is_open,
    )


# ---------------------------------------------------------------- reviewers


@transaction.atomic
def assign_reviewer(*, user: User, reviewer: User, communes: list[Commune] | None) -> None:
    """Give a province reviewer the whole province (communes None) or a list of communes,
    replacing what they had."""
    ReviewAssignment.objects.filter(reviewer=reviewer).delete()
    province_id = reviewer.province_id
    if communes is None:
        ReviewAssignment.objects.create(
            reviewer=reviewer, province_id=province_id, assigned_by=user
        )
        return
    ReviewAssignment.objects.bulk_create(
        ReviewAssignment(reviewer=reviewer, province_id=province_id, commune=c, assigned_by=user)
        for c in communes
        if c.province_id == province_id
    )


# ---------------------------------------------------------------- stale verdicts

OPEN_STATES = (State.DRAFT, State.RETURNED, State.DISTRICT_REVIEW, State.SUBMITTED)


class Cause:
    """Why verdicts are decided again: stored in the history and shown to reviewers."""

    VILLAGES = "villages"
    FLAGS = "flags"
    GROUP = "group"
    TARGETS = "targets"

    @staticmethod
    def words(cause: str) -> str:
        return {
            Cause.VILLAGES: _("the village list changed"),
            Cause.FLAGS: _("the commune's flags changed"),
            Cause.GROUP: _("the commune's group changed"),
            Cause.TARGETS: _("the criteria set's targets changed"),
        }[cause]


def recompute_open_assessments(
    *, user: User, cause: str, communes=None, criteria_set: CriteriaSet | None = None
) -> int:
    """Decide again every result of the open assessments (draft, returned, with the district,
    submitted) of the communes or of the set, after something the verdict depends on changed.

    Runs in the caller's transaction, so the change and the new verdicts land together. Each
    changed verdict is in the history with its cause; approved assessments are not changed but
    flagged for the reviewer. Returns how many assessments changed.
    """
    assert transaction.get_connection().in_atomic_block, "call inside the change's transaction"
    scope = Assessment.objects.all()
    if communes is not None:
        scope = scope.filter(commune__in=communes)
    if criteria_set is not None:
        scope = scope.filter(criteria_set=criteria_set)
    words = Cause.words(cause)
    scope.filter(state=State.APPROVED).update_checked_rows(
        attention=_("%(cause)s after approval (%(date)s): check the result again.")
        % {
            "cause": words[:1].upper() + words[1:],
            "date": timezone.localdate().strftime("%d/%m/%Y"),
        }
    )
    assessments = list(
        scope.filter(state__in=OPEN_STATES)
        .select_for_update(of=("self",))
        .select_related("criteria_set__special_region", "commune__province__region")
    )
    if not assessments:
        return 0
    keys = target_keys(assessments)
    villages_of: dict[int, list[Village]] = {a.commune_id: [] for a in assessments}
    for village in Village.objects.filter(commune__in=villages_of, is_active=True).order_by(
        "sort_key", "pk"
    ):
        villages_of[village.commune_id].append(village)
    indicators = {}
    for set_pk in {a.criteria_set_id for a in assessments}:
        indicators.update({i.pk: i for i in indicators_of(CriteriaSet(pk=set_pk))})
    by_pk = {a.pk: a for a in assessments}
    changed_results, changes, touched, now = [], [], set(), timezone.now()
    source = _("decided again: %(cause)s") % {"cause": words}
    for result in IndicatorResult.objects.filter(assessment__in=by_pk):
        assessment = by_pk[result.assessment_id]
        decision = decide(
            indicators[result.indicator_id],
            keys[assessment.pk],
            villages_of[assessment.commune_id],
            result.inputs,
        )
        if (decision.met, decision.reason) == (result.computed_met, result.computed_reason):
            continue
        is_met = result.override_met if result.override_met is not None else decision.met
        indicator = indicators[result.indicator_id]
        changes.append(
            _change_row(
                assessment,
                user,
                "computed_reason",
                result.computed_reason,
                decision.reason,
                indicator=indicator,
                source=source,
                at=now,
            )
        )
        if is_met != result.is_met:
            changes.append(
                _change_row(
                    assessment,
                    user,
                    "is_met",
                    result.is_met,
                    is_met,
                    indicator=indicator,
                    source=source,
                    at=now,
                )
            )
        result.computed_met, result.computed_reason, result.is_met = (
            decision.met,
            decision.reason,
            is_met,
        )
        changed_results.append(result)
        touched.add(assessment.pk)
    IndicatorResult.objects.bulk_update(
        changed_results, ["computed_met", "computed_reason", "is_met"], batch_size=1000
    )
    _insert_changes(changes)
    if touched:
        Assessment.objects.filter(pk__in=touched).update_checked_rows(
            version=F("version") + 1, updated_at=timezone.now()
        )
        _refresh_all_met_many([by_pk[pk] for pk in touched])
    return len(touched)


@transaction.atomic
def set_commune_group(
    *, user: User, commune: Commune, criteria_set: CriteriaSet, group_code: str, document: str = ""
) -> bool:
    """Put the commune in a group of the set (blank: no group), and decide its open
    assessments of that set again. Returns whether anything changed."""
    current = CommuneGroupAssignment.objects.filter(commune=commune, set_code=criteria_set.code)
    existing = current.first()
    if not group_code:
        if existing is None:
            return False
        existing.delete()
    elif existing is None or (existing.group_code, existing.document) != (group_code, document):
        CommuneGroupAssignment.objects.update_or_create(
            commune=commune,
            set_code=criteria_set.code,
            defaults={"group_code": group_code, "document": document, "updated_by": user},
        )
    else:
        return False
    recompute_open_assessments(
        user=user,
        cause=Cause.GROUP,
        communes=[commune],
        criteria_set=None,
    )
    return True


def decide_again_after_draft_change(*, criteria_set: CriteriaSet, user=None, **kwargs) -> None:
    """criteria.signals.draft_changed: a draft's targets or conditions changed; its open
    assessments (if a period already uses the draft) are decided again."""
    if user is not None:
        recompute_open_assessments(user=user, cause=Cause.TARGETS, criteria_set=criteria_set)


# ---------------------------------------------------------------- copying


@transaction.atomic
def copy_from_previous(*, user: User, assessment: Assessment) -> int:
    """Pre-fill from the same commune's latest earlier assessment of the same set code."""
    previous = (
        Assessment.objects.filter(
            commune=assessment.commune,
            criteria_set__code=assessment.criteria_set.code,
            period__year__lt=assessment.period.year,
        )
        .order_by("-period__year")
        .first()
    )
    if previous is None:
        raise WorkflowError(_("This commune has no earlier assessment to copy from."))
    by_code = {r.indicator.code: r for r in previous.results.select_related("indicator")}
    villages = list(assessment.commune.villages.filter(is_active=True))
    copied = 0
    for indicator in indicators_of(assessment.criteria_set):
        old = by_code.get(indicator.code)
        if old is None:
            continue
        save_entry(
            user=user,
            assessment=assessment,
            indicator=indicator,
            entry=Entry(inputs=old.inputs, note=old.note),
            seen_version=None,
            villages=villages,
            source=_("copied from %(period)s") % {"period": previous.period},
        )
        copied += 1
    return copied
