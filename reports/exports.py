"""The meeting workbook: a summary by district (by commune group in a period without districts),
the detail by xã, and the gap list.

It is written from the same rows as the dashboard, so the numbers agree cell for cell. Sheets are
written in openpyxl's write-only mode (streamed, little memory) and formatted for printing on A4
landscape, one page wide, with the header rows repeated and page numbers in the footer.
"""

from __future__ import annotations

import functools
import math
import textwrap
from collections.abc import Iterable
from copy import copy
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from assessments.models import State
from criteria import xlsx
from criteria.marks import Mark, footnotes
from criteria.xlsx import HEADER_FILL

from .rollups import CommuneLine, Gap, Grouping, Row

FONT = "Times New Roman"
THIN = Side(style="thin", color="999999")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
MET_FILL = PatternFill("solid", fgColor="C6EFCE")
NOT_MET_FILL = PatternFill("solid", fgColor="FFC7CE")
WRAP = Alignment(wrap_text=True, vertical="top")
NO_WRAP = Alignment(wrap_text=False, vertical="top")
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)


@functools.cache
def _font(bold: bool, size: int, italic: bool) -> Font:
    # One Font object per look: openpyxl hashes a style each time it is assigned, and a shared
    # object makes that cheap (the detail sheet assigns one per cell).
    return Font(name=FONT, bold=bold, size=size, italic=italic)


@dataclass
class Report:
    """What a workbook shows: the chosen filters' rows, as on the dashboard."""

    title: str
    province_name: str
    period_name: str
    set_name: str
    basis: str  # which results are counted, in words
    indicators: list
    rows: list[Row]
    total: Row
    lines: list[CommuneLine]
    gaps: list[Gap]
    grouping: Grouping | None = None  # how the rows are cut; None: by district
    notes: list[str] = field(default_factory=list)  # why some changes are not given
    marks: list[Mark] = field(default_factory=list)  # what of the set is "to confirm"

    @property
    def group_title(self) -> str:
        return self.grouping.title if self.grouping else _("District")


class SheetWriter:
    """Appends styled rows to a write-only sheet; every value goes through `xlsx.cell`, so user
    text always goes in as text."""

    def __init__(self, workbook: Workbook, title: str, widths: list[float]):
        self.workbook = workbook
        # named styles are per workbook: sheets of one workbook share them
        self.styles = workbook.__dict__.setdefault("_ntm_styles", {})
        self.arrays = workbook.__dict__.setdefault("_ntm_style_arrays", {})
        self.ws = workbook.create_sheet(title)
        # words repeated on every row, translated once
        self.words = {"met": _("Met"), "not_met": _("Not met"), "not_started": _("Not started")}
        self.words.update({state: str(label) for state, label in State.choices})
        self.width, self.widths = len(widths), widths
        self.characters = int(sum(widths))  # about how many characters a line of the sheet holds
        for index, width in enumerate(widths, start=1):
            self.ws.column_dimensions[get_column_letter(index)].width = width
        setup = self.ws.page_setup
        setup.orientation = "landscape"
        setup.paperSize = Worksheet.PAPERSIZE_A4
        setup.fitToWidth, setup.fitToHeight = 1, 0
        self.ws.sheet_properties.pageSetUpPr.fitToPage = True
        self.ws.print_options.horizontalCentered = True
        self.ws.page_margins.left = self.ws.page_margins.right = 0.4
        self.ws.oddFooter.center.text = _("Page &P of &N")
        self.ws.oddFooter.center.font = FONT
        self.row = 0

    def _style(self, bold, size, italic, align, border, fill, fmt) -> str:
        """The name of a registered style for this look: assigning a named style is one lookup,
        where setting font, fill, border, alignment and format is five (the detail sheet sets
        one per cell)."""
        key = (bold, size, italic, id(align), border, id(fill) if fill else None, fmt)
        name = self.styles.get(key)
        if name is None:
            name = f"ntm-{len(self.styles)}"
            style = NamedStyle(
                name=name, font=_font(bold, size, italic), alignment=align, number_format=fmt
            )
            if border:
                style.border = BORDER
            if fill is not None:
                style.fill = fill
            self.workbook.add_named_style(style)
            self.styles[key] = name
        return name

    def cell(
        self,
        value: Any,
        *,
        bold=False,
        fill=None,
        align=WRAP,
        border=True,
        size=11,
        number_format: str | None = None,
        italic=False,
    ) -> WriteOnlyCell:
        fmt = "General"
        if isinstance(value, str):
            fmt = "@"
        elif isinstance(value, Decimal):
            value = float(value)
            fmt = number_format or "0.0"
        cell = xlsx.cell(self.ws, value)  # text stays text, whatever it starts with
        name = self._style(bold, size, italic, align, border, fill, fmt)
        array = self.arrays.get(name)
        if array is None:
            cell.style = name
            self.arrays[name] = copy(cell._style)
        else:
            # The same style indices again: copying the array the named style produced once is
            # what openpyxl's own style assignment ends with, minus its lookups (one per cell).
            cell._style = copy(array)
        return cell

    def note(self, text: str, *, bold: bool = False, italic: bool = True) -> None:
        """A line of text under a table, broken into rows as wide as the table: a wrapped
        cell does not grow its row when printed, and text running past the table is cut."""
        for line in textwrap.wrap(text, self.characters) or [""]:
            self.append([self.cell(line, border=False, italic=italic, bold=bold, align=NO_WRAP)])

    def append(self, cells: Iterable) -> None:
        xlsx.append(self.ws, cells)
        self.row += 1

    def title_block(self, report: Report, subtitle: str) -> None:
        """The official-looking header: issuing unit and national motto, title, period, date."""
        half = max(self.width // 2, 1)
        issuer = settings.REPORT_ISSUING_UNIT
        lines = [
            (f"UBND {report.province_name.upper()}", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"),
            (issuer.upper(), "Độc lập - Tự do - Hạnh phúc"),
        ]
        for left, right in lines:
            row = [self.cell(left, bold=True, align=CENTER, border=False)]
            row += [None] * (half - 1)
            row += [self.cell(right, bold=True, align=CENTER, border=False)]
            self.append(row)
            self._merge(1, half)
            self._merge(half + 1, self.width)
        self.append([])
        for text, bold, size in (
            (report.title, True, 14),
            (subtitle, True, 12),
            (f"{report.set_name} · {report.period_name}", False, 11),
            (report.basis, False, 11),
            (
                _("Exported on %(date)s")
                % {"date": timezone.localtime().strftime("%d/%m/%Y %H:%M")},
                False,
                10,
            ),
        ):
            self.append(
                [self.cell(text, bold=bold, size=size, align=CENTER, border=False, italic=not bold)]
            )
            self._merge(1, self.width)
        self.append([])

    def _merge(self, first: int, last: int) -> None:
        if last > first:
            self.ws.merged_cells.add(
                f"{get_column_letter(first)}{self.row}:{get_column_letter(last)}{self.row}"
            )

    def header(self, labels: list[str]) -> None:
        # a printed row does not grow for wrapped text: make room for the longest label's lines
        lines = max(
            (
                math.ceil(len(label) / max(width - 2, 1))
                for label, width in zip(labels, self.widths, strict=False)
            ),
            default=1,
        )
        self.ws.row_dimensions[self.row + 1].height = 15 * max(lines, 1) + 3
        self.append(self.cell(label, bold=True, fill=HEADER_FILL, align=CENTER) for label in labels)
        self.ws.print_title_rows = f"{self.row}:{self.row}"

    def freeze(self, rows_above: int, columns_left: int = 0) -> None:
        self.ws.freeze_panes = f"{get_column_letter(columns_left + 1)}{rows_above + 1}"


def met_cell(writer: SheetWriter, result) -> WriteOnlyCell:
    if result is None or result.is_met is None:
        return writer.cell("", align=CENTER)
    text = writer.words["met"] if result.is_met else writer.words["not_met"]
    if result.override_met is not None:
        text += " *"
    return writer.cell(text, align=CENTER, fill=MET_FILL if result.is_met else NOT_MET_FILL)


TITLE_ROWS = 9  # the header block written by title_block


def summary_widths(indicator_count: int) -> list[float]:
    return [26, 8, 8, 8, 8, 8, 8, 9] + [10] * (2 * indicator_count + 2) + [22]


def refs(marks: list[Mark], matches) -> str:
    """' [1, 3]': the footnote numbers of the marks whose item `matches`, or ''."""
    numbers = sorted({mark.number for mark in marks if matches(mark.item)})
    return f" [{', '.join(map(str, numbers))}]" if numbers else ""


def indicator_refs(marks: list[Mark], indicator) -> str:
    """The footnote numbers of an indicator's marks: its own, its conditions' and targets'."""
    return refs(
        marks,
        lambda item: item == indicator or getattr(item, "indicator_id", None) == indicator.pk,
    )


def criterion_refs(marks: list[Mark], indicators) -> str:
    """The footnote numbers of the criteria the indicators belong to."""
    criteria = {indicator.criterion_id for indicator in indicators}
    return refs(marks, lambda item: item._meta.model_name == "criterion" and item.pk in criteria)


def add_marks(report: Report, marks: list[Mark], criteria_set) -> None:
    """Carry the set's "to confirm" marks: numbers on the marked lines, notes below."""
    report.marks = marks
    report.set_name += refs(marks, lambda item: item == criteria_set)


def write_footnotes(writer: SheetWriter, report: Report) -> None:
    """The numbered notes of the "to confirm" marks, each with the lines it applies to."""
    if not report.marks:
        return
    writer.append([])
    writer.note(_("To confirm"), bold=True, italic=False)
    for footnote in footnotes(report.marks):
        writer.note(f"[{footnote.number}] {footnote.note} ({'; '.join(footnote.labels)})")


def summary_labels(
    indicators, group_title: str | None = None, marks: list[Mark] | None = None
) -> list[str]:
    marks = marks or []
    labels = [
        group_title or _("District"),
        _("Xã in scope"),
        _("Not started"),
        _("Draft"),
        _("Submitted"),
        _("Returned"),
        _("Approved"),
        _("% approved"),
    ]
    for indicator in indicators:
        met = _("%(code)s met") % {"code": indicator.code}
        labels += [met + indicator_refs(marks, indicator), "%"]
    labels += [_("Criterion met") + criterion_refs(marks, indicators), "%", _("Change")]
    return labels


def change_value(row: Row) -> Decimal | str | None:
    """The change since the previous period, or why it is not given."""
    basis = row.not_comparable
    return basis.note if basis is not None else row.change


def summary_values(row: Row) -> list:
    values = [
        row.label,
        row.in_scope,
        row.not_started,
        row.draft,
        row.submitted,
        row.returned,
        row.approved,
        row.approved_share,
    ]
    for n, pct in row.indicator_shares:
        values += [n, pct]
    values += [row.criterion_met, row.criterion_share, change_value(row)]
    return values


def write_summary(wb: Workbook, report: Report) -> None:
    writer = SheetWriter(wb, _("Summary"), summary_widths(len(report.indicators)))
    writer.freeze(TITLE_ROWS + 1)
    grouping = report.grouping or Grouping(Grouping.DISTRICT)
    writer.title_block(report, grouping.summary_title)
    writer.header(summary_labels(report.indicators, report.group_title, report.marks))
    for row in report.rows:
        writer.append(writer.cell(v) for v in summary_values(row))
    writer.append(writer.cell(v, bold=True) for v in summary_values(report.total))
    writer.append([])
    writer.note(
        _(
            "Shares are of the xã in scope. * marks a result set by an "
            "officer with a written reason."
        )
    )
    for note in report.notes:
        writer.note(note)
    write_footnotes(writer, report)


def detail_labels(
    indicators, group_title: str | None = None, marks: list[Mark] | None = None
) -> list[str]:
    marks = marks or []
    return [
        _("Code"),
        _("Commune"),
        group_title or _("District"),
        _("Region"),
        _("Flags"),
        _("State"),
        *[indicator.code + indicator_refs(marks, indicator) for indicator in indicators],
        _("Criterion") + criterion_refs(marks, indicators),
        _("Overrides"),
    ]


def write_detail(wb: Workbook, report: Report) -> None:
    writer = SheetWriter(
        wb, _("Detail"), [8, 24, 20, 22, 16, 14] + [10] * len(report.indicators) + [11, 30]
    )
    writer.freeze(TITLE_ROWS + 1, columns_left=2)
    writer.title_block(report, _("Every xã, indicator by indicator"))
    writer.header(detail_labels(report.indicators, report.group_title, report.marks))
    for line in report.lines:
        writer.append(detail_cells(writer, line, report.indicators))


def flags_text(commune) -> str:
    flags = []
    if commune.is_extremely_difficult:
        flags.append(_("ĐBKK"))
    if commune.is_border:
        flags.append(_("Border"))
    if commune.pilot_ntm_year or commune.pilot_advanced_year:
        flags.append(_("Pilot"))
    return ", ".join(flags)


def detail_cells(writer: SheetWriter, line: CommuneLine, indicators) -> list:
    """One xã's row. A file whose state the report does not count (a draft, a return; one sent
    to the province unless the report counts those too) shows its state and no verdict, so that
    nothing in a meeting reads an uncounted "Đạt" as counted."""
    commune, assessment, counted = line.commune, line.assessment, line.counted
    results = line.results if counted else [None] * len(line.results)
    region = commune.province.region.name if commune.province.region_id else ""
    state = writer.words[assessment.state] if assessment else writer.words["not_started"]
    overrides = "; ".join(
        f"{indicator.code}: {result.override_reason}"
        for indicator, result in zip(indicators, results, strict=True)
        if result is not None and result.override_met is not None
    )
    criterion = writer.cell("", align=CENTER)
    if counted and assessment.all_met is not None:
        criterion = writer.cell(
            writer.words["met"] if assessment.all_met else writer.words["not_met"],
            align=CENTER,
            fill=MET_FILL if assessment.all_met else NOT_MET_FILL,
        )
    return [
        writer.cell(commune.code),
        writer.cell(commune.name),
        writer.cell(line.group),  # its district, or its commune group where there are none
        writer.cell(region),
        writer.cell(flags_text(commune)),
        writer.cell(str(state)),
        *[met_cell(writer, result) for result in results],
        criterion,
        writer.cell(overrides),
    ]


def write_gaps(wb: Workbook, report: Report) -> None:
    writer = SheetWriter(wb, _("Gap list"), [8, 24, 20, 10, 70])
    writer.freeze(TITLE_ROWS + 1)
    writer.title_block(report, _("Xã not meeting the criterion, and why"))
    writer.header([_("Code"), _("Commune"), report.group_title, _("Indicator"), _("Why")])
    for gap in report.gaps:
        failing = gap.failing or [(None, None)]
        for indicator, result in failing:
            reason = ""
            if result is not None:
                reason = (
                    result.override_reason
                    if result.override_met is not None
                    else (result.computed_reason)
                )
            writer.append(
                [
                    writer.cell(gap.commune.code),
                    writer.cell(gap.commune.name),
                    writer.cell(gap.group),
                    writer.cell(indicator.code if indicator else ""),
                    writer.cell(reason),
                ]
            )


def build_workbook(report: Report) -> bytes:
    wb = Workbook(write_only=True)
    write_summary(wb, report)
    write_detail(wb, report)
    write_gaps(wb, report)
    return xlsx.to_bytes(wb)
