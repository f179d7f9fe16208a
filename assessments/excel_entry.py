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

Each row carries the version of its xã's assessment when the template was made. A row that would
change something is refused, with its reason, if that assessment was saved again since (the file
would undo those changes) or may not be changed now (approved, waiting for review, period
closed); a row that changes nothing is skipped whatever its state.

A checked upload waits under MEDIA_ROOT/imports/<user>/ until it is applied; the user's next
upload, a cap per user and `expire_previews()` (the `expire_previews` command) remove the others.
"""

from __future__ import annotations

import copy
import datetime
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import IO

from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from criteria import xlsx
from criteria.models import Condition, CriteriaSet, Indicator
from criteria.xlsx import WorkbookInvalid, cell_text

from . import services
from .forms import TEXT_MAX, fits_number_field
from .models import Assessment, AssessmentPeriod, Commune, District, User, Village
from .scoring import impossible_number, is_share

GUIDE, COMMUNES, VILLAGES = "Hướng dẫn", "Xã", "Thôn"
CODE, NAME, VILLAGE_ID, VILLAGE_NAME = "Mã xã", "Tên xã", "Mã thôn", "Tên thôn"
YES, NO = "Có", "Không"
NOTE = "ghi chú"
VERSION = "Phiên bản hồ sơ"  # the assessment's version when the template was made
NEW_VERSION = 1  # an assessment's version before anything is saved in it
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
        xlsx.append_header(ws, fixed + [c.header for c in columns] + [VERSION])
        for values in rows:
            xlsx.append(ws, values)
        version = get_column_letter(len(fixed) + len(columns) + 1)
        ws.column_dimensions[version].width = 12
        for cell in ws[version][1:]:
            cell.font = Font(color="808080")
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
        version = str(assessment.version) if assessment else None  # None: not created yet

        def result(column, a=assessment):
            return results.get((a.pk, column.indicator.pk)) if a else None

        commune_rows.append(
            [commune.code, commune.name]
            + [_cell_value(c, result(c), None) for c in commune_columns]
            + [version]
        )
        for village in villages.get(commune.pk, []):
            village_rows.append(
                [commune.code, commune.name, str(village.pk), village.name]
                + [_cell_value(c, result(c), village) for c in village_columns]
                + [version]
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
        _(
            "8. The last column, “Phiên bản hồ sơ”, is the version of each xã's assessment when "
            "this file was made: do not change it. A row whose assessment was saved again since "
            "(on the web, or by another file) is refused if it would change anything, so that it "
            "does not undo those changes: download the template again and enter in the new one."
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


@dataclass(frozen=True)
class CellChange:
    """One cell the file would overwrite: what is saved now and what the file holds ("": not
    entered), as the template writes them."""

    sheet: str
    row: int
    commune: Commune
    village: Village | None
    column: Column
    old: str
    new: str
    new_assessment: bool = False  # the xã has no assessment yet: applying creates it


@dataclass
class Plan:
    changes: list[PlannedChange] = field(default_factory=list)  # one per (xã, indicator)
    cells: list[CellChange] = field(default_factory=list)  # the same changes, cell by cell
    versions: dict[int, int] = field(default_factory=dict)  # assessment pk → version seen


@dataclass(frozen=True)
class _Cell:
    """A cell read from a row: where its answer goes in the inputs (None: the indicator's note),
    and the answer (True / False, a number as text, NOT_ENTERED, or the note's text)."""

    column: Column
    path: tuple[str, ...] | None
    value: object

    def overwrites(self, saved) -> bool:
        """Whether the cell changes the saved answer (or note); see _put()."""
        if self.path is None:
            return self.value != saved
        if self.value is NOT_ENTERED:
            return saved not in (None, "")
        return not _same(saved, self.value)


def read_upload(
    upload: IO[bytes],
    *,
    user: User,
    district: District,
    period: AssessmentPeriod,
    criteria_set: CriteriaSet,
) -> Plan:
    """Check every cell and plan the changes; raises WorkbookInvalid listing every error."""
    planner = _Planner(user=user, district=district, period=period, criteria_set=criteria_set)
    limits = planner.sheet_limits()
    wb = xlsx.open_upload(upload)
    try:
        xlsx.require_sheets(wb, (COMMUNES, VILLAGES))
        commune_rows = xlsx.read_sheet(wb, COMMUNES, **limits[COMMUNES])
        village_rows = xlsx.read_sheet(wb, VILLAGES, **limits[VILLAGES])
    finally:
        wb.close()
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
        self.cells: list[CellChange] = []
        self.version_index: dict[str, int] = {}  # sheet → index of its version column

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
        found: dict[int, Column] = {}
        seen: dict[str, int] = {}  # key (or VERSION) → index of the first column holding it
        for index, text in enumerate(header[len(fixed) :], start=len(fixed)):
            if not text:
                continue
            key = VERSION if text == VERSION else text.split(":", 1)[0].strip()
            if key in seen:  # two columns for one answer: which one is meant is unknown
                self.error(
                    sheet,
                    1,
                    get_column_letter(index + 1),
                    _(
                        "the column «%(name)s» appears twice (columns %(first)s and %(again)s): "
                        "keep one of them."
                    )
                    % {
                        "name": text,
                        "first": get_column_letter(seen[key] + 1),
                        "again": get_column_letter(index + 1),
                    },
                )
                continue
            if key == VERSION:
                seen[key] = self.version_index[sheet] = index
                continue
            if key not in by_key:
                self.error(
                    sheet,
                    1,
                    get_column_letter(index + 1),
                    _("the column «%(name)s» is not part of this template.") % {"name": text},
                )
                continue
            seen[key] = index
            found[index] = by_key[key]
        # A column deleted (or renamed) would leave its answers unread while the rest is saved.
        for position, column in enumerate(columns, start=len(fixed) + 1):
            if column.key not in seen:
                self.error(
                    sheet,
                    1,
                    None,
                    _(
                        "the column «%(name)s» (column %(letter)s of the template) is missing: "
                        "put it back as it was downloaded, or download the template again."
                    )
                    % {"name": column.header, "letter": get_column_letter(position)},
                )
        if sheet not in self.version_index:
            self.error(
                sheet,
                1,
                None,
                _(
                    "the column «%(name)s» is missing: this file was not made from the current "
                    "template. Download the template again."
                )
                % {"name": VERSION},
            )
        return found

    def communes_in_scope(self):
        """The xã the user may enter for: the district's, in force on the reference date."""
        return (
            Commune.objects.for_user(self.user)
            .in_district(self.district)
            .current(self.period.reference_date)
            .rural()
        )

    def sheet_limits(self) -> dict[str, dict]:
        """The most rows and columns each sheet may use: a header and a row for each xã (or
        village) in scope, with room for rows added by mistake (each is named as an error), and
        the template's columns with room to spare. Read before any cell of the file."""
        self.load_scope()
        room = 100
        return {
            COMMUNES: {
                "max_rows": 1 + len(self.in_scope) + room,
                "max_columns": 2 + len(self.commune_columns) + 1 + room // 10,
            },
            VILLAGES: {
                "max_rows": 1 + len(self.villages) + room,
                "max_columns": 4 + len(self.village_columns) + 1 + room // 10,
            },
        }

    def load_scope(self) -> None:
        """The xã the user may enter for, and their villages."""
        self.in_scope = {c.code: c for c in self.communes_in_scope()}
        self.villages = {
            str(v.pk): v
            for v in Village.objects.filter(commune__in=self.in_scope.values(), is_active=True)
        }

    def load_saved(self) -> None:
        self.assessments = {
            a.commune_id: a
            for a in Assessment.objects.filter(
                period=self.period,
                criteria_set=self.criteria_set,
                commune__in=self.in_scope.values(),
            ).select_related("period")
        }
        commune_of = {a.pk: commune_pk for commune_pk, a in self.assessments.items()}
        self.saved = {  # by (xã, indicator): looked up for every cell of the file
            (commune_of[r.assessment_id], r.indicator_id): r
            for r in services.IndicatorResult.objects.filter(
                assessment__in=self.assessments.values()
            )
        }

    def saved_result(self, commune_pk: int, indicator_pk: int):
        return self.saved.get((commune_pk, indicator_pk))

    def commune_of(self, sheet: str, row_no: int, raw_code) -> Commune | None:
        """The row's xã, if it is one the user enters for; else None and an error."""
        code = _code(raw_code)
        commune = self.in_scope.get(code)
        if commune is None:
            self.error(
                sheet,
                row_no,
                "A",
                _("«%(code)s» is not a xã of %(district)s that you may change.")
                % {"code": xlsx.quoted(code), "district": self.district},
            )
        return commune

    def may_change(self, sheet: str, row_no: int, commune: Commune) -> bool:
        """Whether the xã's entries may change now; if not, an error says why."""
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
            return False
        if assessment is None and not self.period.is_open:
            self.error(sheet, row_no, "A", _("the period is closed."))
            return False
        return True

    def seen_current(self, sheet: str, row_no: int, row: tuple, commune: Commune) -> bool:
        """Whether the row was read from the assessment as it is saved now (its version cell);
        if not, an error says so: the row would undo what was saved since."""
        index = self.version_index[sheet]
        seen = cell_text(row[index]) if index < len(row) else ""
        assessment = self.assessments.get(commune.pk)
        now = assessment.version if assessment else NEW_VERSION
        if seen == str(now) or (not seen and now == NEW_VERSION):
            return True
        letter = get_column_letter(index + 1)
        if seen and not seen.isdigit():
            self.error(
                sheet,
                row_no,
                letter,
                _(
                    "«%(value)s» is not a version: this column must stay as it was downloaded. "
                    "Download the template again."
                )
                % {"value": seen},
            )
        else:
            self.error(
                sheet,
                row_no,
                letter,
                _(
                    "the assessment of %(commune)s was saved again after this file was downloaded "
                    "(version %(seen)s in the file, %(now)s now), and this row would undo those "
                    "changes. Download the template again and enter in the new one."
                )
                % {"commune": commune.name, "seen": seen or NEW_VERSION, "now": now},
            )
        return False

    def entry(self, commune_pk: int, indicator_pk: int) -> tuple[int, int]:
        """The key of the (xã, indicator) entry, started from what is saved."""
        key = (commune_pk, indicator_pk)
        if key not in self.inputs:
            saved = self.saved_result(commune_pk, indicator_pk)
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
        cells, commune_pk = [], commune.pk
        for index, column in columns.items():
            raw = row[index] if index < len(row) else None
            if column.is_note:
                note = cell_text(raw)
                saved = self.saved_result(commune_pk, column.indicator.pk)
                if len(note) > TEXT_MAX and note != (saved.note if saved else ""):
                    self.error(
                        COMMUNES,
                        row_no,
                        get_column_letter(index + 1),
                        _("the note has %(length)s characters; at most %(limit)s are allowed.")
                        % {"length": len(note), "limit": TEXT_MAX},
                    )
                    continue
                cells.append(_Cell(column, None, note))
                continue
            value = self.read_cell(COMMUNES, row_no, index, column, raw)
            if value is _BAD:
                continue
            if column.condition is None:
                cells.append(_Cell(column, ("value",), value))
            else:
                cells.append(_Cell(column, ("conditions", column.condition.code), value))
        self.take_row(COMMUNES, row_no, row, commune, None, cells)

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
                % {"value": xlsx.quoted(village_id), "commune": commune.name},
            )
            return
        cells = []
        for index, column in columns.items():
            raw = row[index] if index < len(row) else None
            value = self.read_cell(VILLAGES, row_no, index, column, raw)
            if value is _BAD:
                continue
            path = ("villages", village_id, column.condition.code)
            cells.append(_Cell(column, path, value))
        self.take_row(VILLAGES, row_no, row, commune, village, cells)

    def saved_answer(self, commune_pk: int, cell: _Cell):
        """What is saved where the cell's answer goes (the note, for a note cell)."""
        saved = self.saved_result(commune_pk, cell.column.indicator.pk)
        if cell.path is None:
            return saved.note if saved else ""
        answer = saved.inputs if saved else None
        for name in cell.path:
            answer = answer.get(name) if isinstance(answer, dict) else None
        return answer

    def take_row(
        self,
        sheet: str,
        row_no: int,
        row: tuple,
        commune: Commune,
        village: Village | None,
        cells: list[_Cell],
    ) -> None:
        """Plan the row's changed cells. A row that changes nothing is skipped whatever its xã's
        state or version; one that changes something must be allowed and read from the
        assessment as it is saved now."""
        changed, commune_pk = [], commune.pk  # (.pk is a property: read once a row)
        for cell in cells:
            old = self.saved_answer(commune_pk, cell)
            if cell.overwrites(old):
                changed.append((cell, old))
        if not changed:
            return
        if not self.may_change(sheet, row_no, commune):
            return
        if not self.seen_current(sheet, row_no, row, commune):
            return
        new_assessment = commune_pk not in self.assessments
        for cell, old in changed:
            key = self.entry(commune_pk, cell.column.indicator.pk)
            if cell.path is None:
                self.notes[key] = cell.value
            else:
                _put(self.inputs[key], cell.path, cell.value)
            self.cells.append(
                CellChange(
                    sheet,
                    row_no,
                    commune,
                    village,
                    cell.column,
                    old=_shown(old),
                    new=_shown(cell.value),
                    new_assessment=new_assessment,
                )
            )

    def changes(self) -> Plan:
        plan = Plan(cells=self.cells)
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
        report(_("«%(value)s» is not Có or Không.") % {"value": xlsx.quoted(text)})
        return _BAD
    return _number(column, text, report)


def _number(column: Column, text: str, report):
    try:
        number = Decimal(text.replace(",", "."))
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        report(_("«%(value)s» is not a number.") % {"value": xlsx.quoted(text)})
        return _BAD
    if not fits_number_field(number) or abs(number) >= 10**10:  # as the form's number fields
        report(_("«%(value)s» has too many digits.") % {"value": xlsx.quoted(text)})
        return _BAD
    problem = impossible_number(number, share=column.is_share)  # the form's rule too
    if problem:
        report(problem)
        return _BAD
    if number == 0:
        number = Decimal(0)  # not "-0"
    return f"{number.normalize():f}"


def _shown(answer) -> str:
    """A saved or read answer (or note) as the template writes it; "" for not entered."""
    if answer is None or answer is NOT_ENTERED:
        return ""
    if isinstance(answer, bool):
        return YES if answer else NO
    return str(answer)


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


# ---------------------------------------------------------------- checked files awaiting apply
# A checked upload is kept until the user confirms its preview. It is removed when it is applied,
# at the user's next upload, beyond PREVIEWS_PER_USER (other browsers, abandoned tabs) and, by
# `expire_previews()` (the daily `expire_previews` command), once older than PREVIEW_LIFETIME;
# an older one is no longer applied.

PREVIEW_DIR = "imports"
PREVIEW_LIFETIME = datetime.timedelta(hours=24)
PREVIEWS_PER_USER = 3


def save_preview(upload: IO[bytes], *, user: User) -> str:
    """Keep a checked upload in the user's folder until it is applied; its storage path.

    The user's older files beyond PREVIEWS_PER_USER are removed."""
    folder = f"{PREVIEW_DIR}/{user.pk}"
    path = default_storage.save(f"{folder}/{uuid.uuid4().hex}.xlsx", upload)
    others = [p for p in _files_in(folder) if p != path]
    for old in sorted(others, key=_modified_or_epoch, reverse=True)[PREVIEWS_PER_USER - 1 :]:
        drop_preview(old)
    return path


def drop_preview(path: str | None) -> None:
    """Remove a checked file (nothing else: only paths under PREVIEW_DIR are removed)."""
    if path and path.startswith(f"{PREVIEW_DIR}/") and ".." not in path.split("/"):
        default_storage.delete(path)


def preview_is_live(path: str) -> bool:
    """Whether a checked file is still kept and younger than PREVIEW_LIFETIME."""
    return _modified_or_epoch(path) >= timezone.now() - PREVIEW_LIFETIME


def expire_previews(older_than: datetime.timedelta = PREVIEW_LIFETIME) -> int:
    """Remove every checked file saved more than `older_than` ago; how many were removed."""
    cutoff = timezone.now() - older_than
    removed = 0
    if not default_storage.exists(PREVIEW_DIR):
        return 0
    folders, files = default_storage.listdir(PREVIEW_DIR)
    paths = [f"{PREVIEW_DIR}/{name}" for name in files]  # files kept before per-user folders
    for folder in folders:
        paths += _files_in(f"{PREVIEW_DIR}/{folder}")
    for path in paths:
        if _modified_or_epoch(path) < cutoff:
            drop_preview(path)
            removed += 1
    return removed


def _files_in(folder: str) -> list[str]:
    if not default_storage.exists(folder):
        return []
    return [f"{folder}/{name}" for name in default_storage.listdir(folder)[1]]


def _modified_or_epoch(path: str) -> datetime.datetime:
    """When the file was saved; the epoch if it is gone (so it counts as expired)."""
    try:
        return default_storage.get_modified_time(path)
    except OSError:
        return datetime.datetime.fromtimestamp(0, tz=datetime.UTC)
