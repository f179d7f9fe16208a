"""Offline entry through Excel: a template pre-filled with a district's xã and villages, and the
upload that reads it back.

Columns are named "<indicator>/<condition>: <text>" (or "<indicator>" for a single value, and
"<indicator>/ghi chú" for the note), so the reader knows what each column is whatever its order.
Reading never writes: it returns the planned changes, which the caller shows as a preview and then
applies through the same services as the form, all or nothing.

An upload changes only what its cells hold. A blank cell is "not entered yet" (the answer's key is
removed), never "Không". What the file does not hold (a result set by hand, its reason, why there
is no evidence, rows or columns left out) is kept as saved, and a cell equal to the saved answer
leaves it as it is, so a template downloaded and uploaded untouched changes nothing.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import IO

from django.db import transaction
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from criteria import xlsx
from criteria.models import Condition, CriteriaSet, Indicator
from criteria.xlsx import WorkbookInvalid, cell_text

from . import services
from .models import Assessment, AssessmentPeriod, Commune, District, User, Village
from .scoring import impossible_number, is_share

GUIDE, COMMUNES, VILLAGES = "Hướng dẫn", "Xã", "Thôn"
CODE, NAME, VILLAGE_ID, VILLAGE_NAME = "Mã xã", "Tên xã", "Mã thôn", "Tên thôn"
YES, NO = "Có", "Không"
NOTE = "ghi chú"
# What an entry holds that the file does not: an upload keeps them as they are saved.
KEPT_FIELDS = ("override_met", "override_reason", "no_evidence_explanation")


@dataclass(frozen=True)
class Column:
    """What one template column holds."""

    indicator: Indicator
    condition: Condition | None = None  # None: the indicator's own value, or its note
    is_note: bool = False

    @property
    def header(self) -> str:
        if self.is_note:
            return f"{self.indicator.code}/{NOTE}"
        if self.condition is None:
            return f"{self.indicator.code}: {self.indicator.content}"
        return f"{self.indicator.code}/{self.condition.code}: {self.condition.text}"

    @property
    def key(self) -> str:
        return self.header.split(":", 1)[0].strip()

    @property
    def is_yes_no(self) -> bool:
        if self.is_note:
            return False
        if self.condition is not None:
            return self.condition.threshold is None
        return self.indicator.value_type == Indicator.ValueType.YES_NO

    @property
    def is_number(self) -> bool:
        return not (self.is_note or self.is_yes_no)

    @property
    def is_share(self) -> bool:
        """A number from 0 to 100; every other number column holds a count, 0 or more."""
        return self.is_number and is_share(self.indicator, self.condition)


def columns_for(indicators: list[Indicator]) -> tuple[list[Column], list[Column]]:
    """(commune sheet columns, village sheet columns) for a set's indicators."""
    commune, village = [], []
    for indicator in indicators:
        conditions = list(indicator.conditions.all())
        if indicator.value_type in (
            Indicator.ValueType.YES_NO,
            Indicator.ValueType.NUMBER,
            Indicator.ValueType.PERCENTAGE,
        ):
            commune.append(Column(indicator))
        for condition in conditions:
            target = village if condition.scope == Condition.Scope.VILLAGE else commune
            target.append(Column(indicator, condition))
        commune.append(Column(indicator, is_note=True))
    return commune, village


def _cell_value(column: Column, result, village: Village | None):
    if result is None:
        return None
    if column.is_note:
        return result.note or None
    inputs = result.inputs or {}
    if column.condition is None:
        value = inputs.get("value")
    elif village is not None:
        value = ((inputs.get("villages") or {}).get(str(village.pk)) or {}).get(
            column.condition.code
        )
    else:
        value = (inputs.get("conditions") or {}).get(column.condition.code)
    if value is None or value == "":
        return None
    if column.is_yes_no:
        return YES if value else NO
    try:
        return float(Decimal(str(value)))
    except InvalidOperation:
        return str(value)  # not a number: shown as saved, and the upload will say so


# ---------------------------------------------------------------- the template


def build_template(
    *,
    district: District,
    period: AssessmentPeriod,
    criteria_set: CriteriaSet,
    communes: list[Commune],
) -> bytes:
    indicators = services.indicators_of(criteria_set)
    commune_columns, village_columns = columns_for(indicators)
    assessments = {
        a.commune_id: a
        for a in Assessment.objects.filter(
            period=period, criteria_set=criteria_set, commune__in=communes
        )
    }
    results = {
        (r.assessment_id, r.indicator_id): r
        for r in services.IndicatorResult.objects.filter(assessment__in=assessments.values())
    }
    villages: dict[int, list[Village]] = {}
    for village in Village.objects.filter(commune__in=communes, is_active=True).order_by(
        "sort_key"
    ):
        villages.setdefault(village.commune_id, []).append(village)

    wb = Workbook()
    guide = wb.active
    guide.title = GUIDE
    for line in _guide_lines(district, period, criteria_set):
        xlsx.append(guide, [line])
    guide.column_dimensions["A"].width = 120
    for row in guide.iter_rows():
        row[0].alignment = Alignment(wrap_text=True)
    guide["A1"].font = Font(bold=True, size=13)

    def sheet(title, fixed, columns, rows):
        ws = wb.create_sheet(title)
        xlsx.append_header(ws, fixed + [c.header for c in columns])
        for values in rows:
            xlsx.append(ws, values)
        for index in range(1, len(fixed) + 1):
            ws.column_dimensions[get_column_letter(index)].width = 22
            for cell in ws[get_column_letter(index)][1:]:
                cell.number_format = "@"
        for index in range(len(fixed) + 1, len(fixed) + len(columns) + 1):
            ws.column_dimensions[get_column_letter(index)].width = 18
        ws.row_dimensions[1].height = 75
        ws.freeze_panes = ws.cell(2, len(fixed) + 1)
        last = max(ws.max_row, 2)
        for validation, holds in _validations():
            for offset, column in enumerate(columns, start=len(fixed) + 1):
                if holds(column):
                    letter = get_column_letter(offset)
                    validation.add(f"{letter}2:{letter}{last}")
            if validation.sqref:
                ws.add_data_validation(validation)

    commune_rows, village_rows = [], []
    for commune in communes:
        assessment = assessments.get(commune.pk)

        def result(column, a=assessment):
            return results.get((a.pk, column.indicator.pk)) if a else None

        commune_rows.append(
            [commune.code, commune.name]
            + [_cell_value(c, result(c), None) for c in commune_columns]
        )
        for village in villages.get(commune.pk, []):
            village_rows.append(
                [commune.code, commune.name, str(village.pk), village.name]
                + [_cell_value(c, result(c), village) for c in village_columns]
            )
    sheet(COMMUNES, [CODE, NAME], commune_columns, commune_rows)
    sheet(VILLAGES, [CODE, NAME, VILLAGE_ID, VILLAGE_NAME], village_columns, village_rows)
    return xlsx.to_bytes(wb)


def _validations() -> list[tuple[DataValidation, Callable[[Column], bool]]]:
    """Excel's own checks while typing, and which columns each is for; the upload checks again."""
    choices = DataValidation(
        type="list",
        formula1=f'"{YES},{NO}"',
        allow_blank=True,
        error=_("Choose Có or Không, or leave the cell empty."),
        showErrorMessage=True,
    )
    shares = DataValidation(
        type="decimal",
        operator="between",
        formula1="0",
        formula2="100",
        allow_blank=True,
        error=_("Enter a percentage from 0 to 100, or leave the cell empty."),
        showErrorMessage=True,
    )
    counts = DataValidation(
        type="decimal",
        operator="greaterThanOrEqual",
        formula1="0",
        allow_blank=True,
        error=_("Enter a number of 0 or more, or leave the cell empty."),
        showErrorMessage=True,
    )
    return [
        (choices, lambda c: c.is_yes_no),
        (shares, lambda c: c.is_share),
        (counts, lambda c: c.is_number and not c.is_share),
    ]


def _guide_lines(district, period, criteria_set) -> list[str]:
    return [
        _("Offline entry: %(district)s · %(period)s")
        % {"district": district.name, "period": period.name},
        criteria_set.name,
        "",
        _(
            "1. Sheet “Xã” has one row per xã, sheet “Thôn” one row per village. Do not change "
            "the codes, the first row or the sheet names; rows may be left out."
        ),
        _(
            "2. In yes/no columns choose Có or Không from the list; leave a cell empty if you do "
            "not know yet."
        ),
        _(
            "3. Number columns take numbers only: percentages from 0 to 100 without the % sign, "
            "other numbers 0 or more."
        ),
        _("4. The “ghi chú” columns take a note for the indicator."),
        _(
            "5. Upload the file on the district's assessment page. You will see every change "
            "before anything is saved; nothing is saved if any cell is wrong."
        ),
        _(
            "6. Approved assessments, assessments waiting for review and other districts' xã "
            "cannot be changed through this file."
        ),
        _(
            "7. A result set by hand, its reason and the explanation of missing evidence are not "
            "in this file; an upload keeps them as they are."
        ),
    ]


# ---------------------------------------------------------------- reading an upload


@dataclass
class PlannedChange:
    commune: Commune
    assessment: Assessment | None
    indicator: Indicator
    old_inputs: dict
    new_inputs: dict
    old_note: str
    new_note: str
    kept: dict = field(default_factory=dict)  # what the file does not hold, as saved


@dataclass
class Plan:
    changes: list[PlannedChange] = field(default_factory=list)
    versions: dict[int, int] = field(default_factory=dict)  # assessment pk → version seen


def read_upload(
    upload: IO[bytes],
    *,
    user: User,
    district: District,
    period: AssessmentPeriod,
    criteria_set: CriteriaSet,
) -> Plan:
    """Check every cell and plan the changes; raises WorkbookInvalid listing every error."""
    wb = xlsx.open_upload(upload)
    try:
        xlsx.require_sheets(wb, (COMMUNES, VILLAGES))
        commune_rows = list(xlsx.sheet_rows(wb[COMMUNES]))
        village_rows = list(xlsx.sheet_rows(wb[VILLAGES]))
    finally:
        wb.close()
    planner = _Planner(user=user, district=district, period=period, criteria_set=criteria_set)
    return planner.plan(commune_rows, village_rows)


class _Planner:
    """Reads an upload's rows against what is saved: one method per sheet, every error collected.

    Each (xã, indicator) the file touches starts from its saved inputs and note; a cell changes
    only its own answer, so whatever the file does not hold is kept as it is.
    """

    def __init__(self, *, user, district, period, criteria_set):
        self.user, self.district, self.period = user, district, period
        self.criteria_set = criteria_set
        self.indicators = services.indicators_of(criteria_set)
        self.commune_columns, self.village_columns = columns_for(self.indicators)
        self.errors: list[str] = []
        self.inputs: dict[tuple[int, int], dict] = {}  # (commune pk, indicator pk) → new inputs
        self.notes: dict[tuple[int, int], str] = {}

    def error(self, sheet: str, row: int, column: str | None, message: str) -> None:
        where = _("Sheet «%(sheet)s», row %(row)s") % {"sheet": sheet, "row": row}
        if column:
            where += ", " + _("column %(column)s") % {"column": column}
        self.errors.append(f"{where}: {message}")

    def check(self) -> None:
        if self.errors:
            raise WorkbookInvalid(self.errors)

    def plan(self, commune_rows: list[tuple], village_rows: list[tuple]) -> Plan:
        commune_map = self.header_map(COMMUNES, commune_rows, [CODE, NAME], self.commune_columns)
        village_map = self.header_map(
            VILLAGES, village_rows, [CODE, NAME, VILLAGE_ID, VILLAGE_NAME], self.village_columns
        )
        self.check()
        self.load_saved()
        for row_no, row in enumerate(commune_rows[1:], start=2):
            if any(cell_text(v) for v in row):
                self.read_commune_row(row_no, row, commune_map)
        for row_no, row in enumerate(village_rows[1:], start=2):
            if any(cell_text(v) for v in row):
                self.read_village_row(row_no, row, village_map)
        self.check()
        return self.changes()

    def header_map(self, sheet, rows, fixed, columns) -> dict[int, Column]:
        """Column index → what the column holds, from the header row's keys."""
        header = [cell_text(c) for c in (rows[0] if rows else [])]
        if header[: len(fixed)] != fixed:
            self.error(
                sheet,
                1,
                None,
                _("the first columns must be: %(columns)s.") % {"columns": ", ".join(fixed)},
            )
            return {}
        by_key = {c.key: c for c in columns}
        found = {}
        for index, text in enumerate(header[len(fixed) :], start=len(fixed)):
            if not text:
                continue
            key = text.split(":", 1)[0].strip()
            if key not in by_key:
                self.error(
                    sheet,
                    1,
                    get_column_letter(index + 1),
                    _("the column «%(name)s» is not part of this template.") % {"name": text},
                )
                continue
            found[index] = by_key[key]
        return found

    def load_saved(self) -> None:
        self.in_scope = {
            c.code: c
            for c in Commune.objects.for_user(self.user)
            .in_district(self.district)
            .current(self.period.reference_date)
            .rural()
        }
        self.assessments = {
            a.commune_id: a
            for a in Assessment.objects.filter(
                period=self.period,
                criteria_set=self.criteria_set,
                commune__in=self.in_scope.values(),
            ).select_related("period")
        }
        self.saved = {
            (r.assessment_id, r.indicator_id): r
            for r in services.IndicatorResult.objects.filter(
                assessment__in=self.assessments.values()
            )
        }
        self.villages = {
            str(v.pk): v
            for v in Village.objects.filter(commune__in=self.in_scope.values(), is_active=True)
        }

    def saved_result(self, commune_pk: int, indicator_pk: int):
        assessment = self.assessments.get(commune_pk)
        return self.saved.get((assessment.pk, indicator_pk)) if assessment else None

    def commune_of(self, sheet: str, row_no: int, raw_code) -> Commune | None:
        """The row's xã, if the user may enter for it now; else None and an error."""
        code = _code(raw_code)
        commune = self.in_scope.get(code)
        if commune is None:
            self.error(
                sheet,
                row_no,
                "A",
                _("«%(code)s» is not a xã of %(district)s that you may change.")
                % {"code": code or "", "district": self.district},
            )
            return None
        assessment = self.assessments.get(commune.pk)
        if assessment is not None and not assessment.accepts_entry:
            reason = (
                _("it is approved and locked")
                if assessment.is_locked
                else _("it is waiting for review or its period is closed")
            )
            self.error(
                sheet,
                row_no,
                "A",
                _("%(commune)s cannot be changed: %(reason)s.")
                % {"commune": commune.name, "reason": reason},
            )
            return None
        if assessment is None and not self.period.is_open:
            self.error(sheet, row_no, "A", _("the period is closed."))
            return None
        return commune

    def entry(self, commune: Commune, indicator: Indicator) -> tuple[int, int]:
        """The key of the (xã, indicator) entry, started from what is saved."""
        key = (commune.pk, indicator.pk)
        if key not in self.inputs:
            saved = self.saved_result(commune.pk, indicator.pk)
            self.inputs[key] = copy.deepcopy(saved.inputs) if saved else {}
            self.notes[key] = saved.note if saved else ""
        return key

    def read_cell(self, sheet, row_no, index, column, raw):
        def report(message):
            self.error(sheet, row_no, get_column_letter(index + 1), message)

        return _parse(column, raw, report)

    def read_commune_row(self, row_no: int, row: tuple, columns: dict[int, Column]) -> None:
        commune = self.commune_of(COMMUNES, row_no, row[0])
        if commune is None:
            return
        for index, column in columns.items():
            raw = row[index] if index < len(row) else None
            key = self.entry(commune, column.indicator)
            if column.is_note:
                self.notes[key] = cell_text(raw)
                continue
            value = self.read_cell(COMMUNES, row_no, index, column, raw)
            if value is _BAD:
                continue
            if column.condition is None:
                _put(self.inputs[key], ("value",), value)
            else:
                _put(self.inputs[key], ("conditions", column.condition.code), value)

    def read_village_row(self, row_no: int, row: tuple, columns: dict[int, Column]) -> None:
        commune = self.commune_of(VILLAGES, row_no, row[0])
        if commune is None:
            return
        village_id = cell_text(row[2]) if len(row) > 2 else ""
        village = self.villages.get(village_id)
        if village is None or village.commune_id != commune.pk:
            self.error(
                VILLAGES,
                row_no,
                "C",
                _("«%(value)s» is not a village of %(commune)s.")
                % {"value": village_id, "commune": commune.name},
            )
            return
        for index, column in columns.items():
            raw = row[index] if index < len(row) else None
            value = self.read_cell(VILLAGES, row_no, index, column, raw)
            if value is _BAD:
                continue
            key = self.entry(commune, column.indicator)
            _put(self.inputs[key], ("villages", village_id, column.condition.code), value)

    def changes(self) -> Plan:
        plan = Plan()
        communes = {c.pk: c for c in self.in_scope.values()}
        indicators = {i.pk: i for i in self.indicators}
        for (commune_pk, indicator_pk), inputs in self.inputs.items():
            note = self.notes[(commune_pk, indicator_pk)]
            saved = self.saved_result(commune_pk, indicator_pk)
            old_inputs, old_note = (saved.inputs, saved.note) if saved else ({}, "")
            if inputs == old_inputs and note == old_note:
                continue
            if saved is None and not _has_answer(inputs) and not note:
                continue  # an empty row of a xã not yet scored is no change
            assessment = self.assessments.get(commune_pk)
            plan.changes.append(
                PlannedChange(
                    commune=communes[commune_pk],
                    assessment=assessment,
                    indicator=indicators[indicator_pk],
                    old_inputs=old_inputs,
                    new_inputs=inputs,
                    old_note=old_note,
                    new_note=note,
                    kept={name: getattr(saved, name) for name in KEPT_FIELDS} if saved else {},
                )
            )
            if assessment is not None:
                plan.versions[assessment.pk] = assessment.version
        return plan


NOT_ENTERED = object()  # a blank cell: nothing entered yet, which is not "Không"
_BAD = object()  # a cell that could not be read; its error is already reported


def _parse(column: Column, raw, report):
    """A cell's answer: True / False, a number as canonical text, NOT_ENTERED, or _BAD."""
    text = cell_text(raw)
    if not text:
        return NOT_ENTERED
    if column.is_yes_no:
        if text.casefold() == YES.casefold():
            return True
        if text.casefold() == NO.casefold():
            return False
        report(_("«%(value)s» is not Có or Không.") % {"value": text})
        return _BAD
    return _number(column, text, report)


def _number(column: Column, text: str, report):
    try:
        number = Decimal(text.replace(",", "."))
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        report(_("«%(value)s» is not a number.") % {"value": text})
        return _BAD
    problem = impossible_number(number, share=column.is_share)  # the form's rule too
    if problem:
        report(problem)
        return _BAD
    if number == 0:
        number = Decimal(0)  # not "-0"
    return f"{number.normalize():f}"


def _put(inputs: dict, path: tuple[str, ...], value) -> None:
    """Record one cell in an entry's inputs, at `path` ("value", or "conditions"/code, or
    "villages"/village id/code).

    A blank cell removes a saved answer (the key goes: not entered); a value equal to the saved one
    leaves the saved form as it is ("12.50" stays "12.50"), so an untouched file changes nothing.
    """
    *parents, key = path
    container = inputs
    for name in parents:
        if not isinstance(container.get(name), dict):
            if value is NOT_ENTERED:
                return  # nothing saved there, nothing to clear
            container[name] = {}
        container = container[name]
    saved = container.get(key)
    if value is NOT_ENTERED:
        if saved not in (None, ""):  # already not entered: left as saved
            del container[key]
    elif not _same(saved, value):
        container[key] = value


def _same(saved, value) -> bool:
    """Whether a saved answer and a read one are the same answer, however the saved one is
    written (True, "12.50", 12.5)."""
    if saved is None:
        return False
    if isinstance(saved, bool) or isinstance(value, bool):
        return saved is value
    try:
        return Decimal(str(saved)) == Decimal(value)
    except InvalidOperation:
        return False


def _has_answer(inputs: dict) -> bool:
    if inputs.get("value") is not None:
        return True
    if any(v is not None for v in (inputs.get("conditions") or {}).values()):
        return True
    return any(v is not None for g in (inputs.get("villages") or {}).values() for v in g.values())


def _code(value) -> str:
    text = cell_text(value)
    return text.zfill(5) if text.isdigit() else text


@transaction.atomic
def apply_plan(
    plan: Plan, *, user: User, period: AssessmentPeriod, criteria_set: CriteriaSet, source: str
) -> int:
    """Apply every planned change, or none: a save by someone else since the plan was read
    raises VersionConflict and rolls everything back. One bulk save, whatever the file's size."""
    missing = {c.commune.pk: c.commune for c in plan.changes if c.assessment is None}
    created = {
        a.commune_id: a
        for a in services.create_assessments(
            user=user, communes=list(missing.values()), criteria_set=criteria_set, period=period
        )
    }
    items = [
        services.EntryItem(
            assessment=change.assessment or created[change.commune.pk],
            indicator=change.indicator,
            entry=services.Entry(inputs=change.new_inputs, note=change.new_note, **change.kept),
            seen_version=plan.versions.get(change.assessment.pk) if change.assessment else None,
        )
        for change in plan.changes
    ]
    services.save_entries(user=user, items=items, source=source)
    return len(items)
