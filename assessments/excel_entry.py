"""Offline entry through Excel: a template pre-filled with a district's xã and villages, and the
upload that reads it back.

Columns are named "<indicator>/<condition>: <text>" (or "<indicator>" for a single value, and
"<indicator>/ghi chú" for the note), so the reader knows what each column is whatever its order.
Reading never writes: it returns the planned changes, which the caller shows as a preview and then
applies through the same services as the form, all or nothing.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import IO

from django.db import transaction
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from criteria.models import Condition, CriteriaSet, Indicator
from criteria.workbooks import WorkbookInvalid

from . import services
from .models import Assessment, AssessmentPeriod, Commune, District, User, Village

GUIDE, COMMUNES, VILLAGES = "Hướng dẫn", "Xã", "Thôn"
CODE, NAME, VILLAGE_ID, VILLAGE_NAME = "Mã xã", "Tên xã", "Mã thôn", "Tên thôn"
YES, NO = "Có", "Không"
NOTE = "ghi chú"
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")


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
    return float(Decimal(str(value)))


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
        guide.append([line])
    guide.column_dimensions["A"].width = 120
    for row in guide.iter_rows():
        row[0].alignment = Alignment(wrap_text=True)
    guide["A1"].font = Font(bold=True, size=13)

    def sheet(title, fixed, columns, rows):
        ws = wb.create_sheet(title)
        ws.append(fixed + [c.header for c in columns])
        for cell in ws[1]:
            cell.font, cell.fill = Font(bold=True), HEADER_FILL
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for values in rows:
            ws.append(values)
        for index in range(1, len(fixed) + 1):
            ws.column_dimensions[get_column_letter(index)].width = 22
            for cell in ws[get_column_letter(index)][1:]:
                cell.number_format = "@"
        for index in range(len(fixed) + 1, len(fixed) + len(columns) + 1):
            ws.column_dimensions[get_column_letter(index)].width = 18
        ws.row_dimensions[1].height = 75
        ws.freeze_panes = ws.cell(2, len(fixed) + 1)
        choices = DataValidation(
            type="list",
            formula1=f'"{YES},{NO}"',
            allow_blank=True,
            error=_("Choose Có or Không, or leave the cell empty."),
            showErrorMessage=True,
        )
        ws.add_data_validation(choices)
        last = max(ws.max_row, 2)
        for offset, column in enumerate(columns, start=len(fixed) + 1):
            if column.is_yes_no:
                letter = get_column_letter(offset)
                choices.add(f"{letter}2:{letter}{last}")

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
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


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
        _("3. Number columns take numbers only (percentages without the % sign)."),
        _("4. The “ghi chú” columns take a note for the indicator."),
        _(
            "5. Upload the file on the district's assessment page. You will see every change "
            "before anything is saved; nothing is saved if any cell is wrong."
        ),
        _(
            "6. Approved assessments, assessments waiting for review and other districts' xã "
            "cannot be changed through this file."
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
    kept: dict = field(default_factory=dict)  # what the file does not hold: override, explanation


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
    try:
        wb = load_workbook(upload, read_only=True, data_only=True)
    except Exception:  # a damaged file raises many kinds of error
        raise WorkbookInvalid(
            [_("The file could not be read as an Excel workbook. Save it as .xlsx and try again.")]
        ) from None
    try:
        missing = [name for name in (COMMUNES, VILLAGES) if name not in wb.sheetnames]
        if missing:
            raise WorkbookInvalid(
                [_("The workbook has no sheet named «%(sheet)s».") % {"sheet": n} for n in missing]
            )
        commune_rows = list(wb[COMMUNES].iter_rows(values_only=True))
        village_rows = list(wb[VILLAGES].iter_rows(values_only=True))
    finally:
        wb.close()
    return _plan(
        commune_rows,
        village_rows,
        user=user,
        district=district,
        period=period,
        criteria_set=criteria_set,
    )


def _plan(commune_rows, village_rows, *, user, district, period, criteria_set) -> Plan:
    errors: list[str] = []
    indicators = services.indicators_of(criteria_set)
    commune_columns, village_columns = columns_for(indicators)

    def error(sheet, row, column, message):
        where = _("Sheet «%(sheet)s», row %(row)s") % {"sheet": sheet, "row": row}
        if column:
            where += ", " + _("column %(column)s") % {"column": column}
        errors.append(f"{where}: {message}")

    def header_map(sheet, rows, fixed, columns):
        header = [str(c).strip() if c is not None else "" for c in (rows[0] if rows else [])]
        if header[: len(fixed)] != fixed:
            error(
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
                error(
                    sheet,
                    1,
                    get_column_letter(index + 1),
                    _("the column «%(name)s» is not part of this template.") % {"name": text},
                )
                continue
            found[index] = by_key[key]
        return found

    commune_map = header_map(COMMUNES, commune_rows, [CODE, NAME], commune_columns)
    village_map = header_map(
        VILLAGES, village_rows, [CODE, NAME, VILLAGE_ID, VILLAGE_NAME], village_columns
    )
    if errors:
        raise WorkbookInvalid(errors)

    in_scope = {
        c.code: c for c in Commune.objects.for_user(user).in_district(district).current().rural()
    }
    assessments = {
        a.commune_id: a
        for a in Assessment.objects.filter(
            period=period, criteria_set=criteria_set, commune__in=in_scope.values()
        ).select_related("period")
    }
    existing = {
        (r.assessment_id, r.indicator_id): r
        for r in services.IndicatorResult.objects.filter(assessment__in=assessments.values())
    }
    villages = {
        str(v.pk): v for v in Village.objects.filter(commune__in=in_scope.values(), is_active=True)
    }
    new_inputs: dict[tuple[int, int], dict] = {}
    new_notes: dict[tuple[int, int], str] = {}
    touched: set[int] = set()

    def commune_of(sheet, row_no, raw_code):
        code = _code(raw_code)
        commune = in_scope.get(code)
        if commune is None:
            error(
                sheet,
                row_no,
                "A",
                _("«%(code)s» is not a xã of %(district)s that you may change.")
                % {"code": code or "", "district": district},
            )
            return None
        assessment = assessments.get(commune.pk)
        if assessment is not None and not assessment.accepts_entry:
            reason = (
                _("it is approved and locked")
                if assessment.is_locked
                else _("it is waiting for review or its period is closed")
            )
            error(
                sheet,
                row_no,
                "A",
                _("%(commune)s cannot be changed: %(reason)s.")
                % {"commune": commune.name, "reason": reason},
            )
            return None
        if assessment is None and not period.is_open:
            error(sheet, row_no, "A", _("the period is closed."))
            return None
        return commune

    def start(commune, indicator):
        key = (commune.pk, indicator.pk)
        if key not in new_inputs:
            a = assessments.get(commune.pk)
            old = existing.get((a.pk, indicator.pk)) if a else None
            inputs = dict(old.inputs) if old else {}
            inputs = {k: (dict(v) if isinstance(v, dict) else v) for k, v in inputs.items()}
            new_inputs[key] = inputs
            new_notes[key] = old.note if old else ""
        return key

    for row_no, row in enumerate(commune_rows[1:], start=2):
        if not any(v not in (None, "") for v in row):
            continue
        commune = commune_of(COMMUNES, row_no, row[0])
        if commune is None:
            continue
        touched.add(commune.pk)
        for index, column in commune_map.items():
            raw = row[index] if index < len(row) else None
            key = start(commune, column.indicator)
            if column.is_note:
                new_notes[key] = "" if raw is None else str(raw).strip()
                continue
            value = _parse(
                column,
                raw,
                lambda m, i=index, r=row_no: error(COMMUNES, r, get_column_letter(i + 1), m),
            )
            if value is _BAD:
                continue
            if column.condition is None:
                new_inputs[key]["value"] = value
            else:
                new_inputs[key].setdefault("conditions", {})[column.condition.code] = value

    for row_no, row in enumerate(village_rows[1:], start=2):
        if not any(v not in (None, "") for v in row):
            continue
        commune = commune_of(VILLAGES, row_no, row[0])
        if commune is None:
            continue
        village = villages.get(_text(row[2]))
        if village is None or village.commune_id != commune.pk:
            error(
                VILLAGES,
                row_no,
                "C",
                _("«%(value)s» is not a village of %(commune)s.")
                % {"value": _text(row[2]), "commune": commune.name},
            )
            continue
        touched.add(commune.pk)
        for index, column in village_map.items():
            raw = row[index] if index < len(row) else None
            value = _parse(
                column,
                raw,
                lambda m, i=index, r=row_no: error(VILLAGES, r, get_column_letter(i + 1), m),
            )
            if value is _BAD:
                continue
            key = start(commune, column.indicator)
            grid = new_inputs[key].setdefault("villages", {})
            grid.setdefault(str(village.pk), {})[column.condition.code] = value
    if errors:
        raise WorkbookInvalid(errors)

    plan = Plan()
    communes_by_pk = {c.pk: c for c in in_scope.values()}
    indicator_by_pk = {i.pk: i for i in indicators}
    for (commune_pk, indicator_pk), inputs in new_inputs.items():
        a = assessments.get(commune_pk)
        old = existing.get((a.pk, indicator_pk)) if a else None
        old_inputs, old_note = (old.inputs, old.note) if old else ({}, "")
        if inputs == old_inputs and new_notes[(commune_pk, indicator_pk)] == old_note:
            continue
        if old is None and not _has_answer(inputs) and not new_notes[(commune_pk, indicator_pk)]:
            continue  # an empty row of a commune not yet scored is no change
        plan.changes.append(
            PlannedChange(
                commune=communes_by_pk[commune_pk],
                assessment=a,
                indicator=indicator_by_pk[indicator_pk],
                old_inputs=old_inputs,
                new_inputs=inputs,
                old_note=old_note,
                new_note=new_notes[(commune_pk, indicator_pk)],
            )
        )
        if a is not None:
            plan.versions[a.pk] = a.version
    return plan


_BAD = object()


def _parse(column: Column, raw, report):
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if column.is_yes_no:
        text = str(raw).strip().casefold()
        if text == YES.casefold():
            return True
        if text == NO.casefold():
            return False
        report(_("«%(value)s» is not Có or Không.") % {"value": raw})
        return _BAD
    try:
        number = Decimal(str(raw).strip().replace(",", "."))
    except InvalidOperation:
        report(_("«%(value)s» is not a number.") % {"value": raw})
        return _BAD
    if not number.is_finite() or number < 0:
        report(_("«%(value)s» is not a number.") % {"value": raw})
        return _BAD
    return f"{number.normalize():f}"


def _has_answer(inputs: dict) -> bool:
    if inputs.get("value") is not None:
        return True
    if any(v is not None for v in (inputs.get("conditions") or {}).values()):
        return True
    return any(v is not None for g in (inputs.get("villages") or {}).values() for v in g.values())


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _code(value) -> str:
    text = _text(value)
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
