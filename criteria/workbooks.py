"""A criteria set as an Excel workbook, so a province can define its own set without a programmer.

Three sheets: the set's details ("Bộ tiêu chí"), its commune groups with their definitions
("Nhóm xã", for sets whose targets differ by group) and one row per group, criterion, indicator or
condition ("Chỉ tiêu"), with the targets by region (or commune group) in columns. Under an
indicator, an optional "Nguồn mục tiêu" row gives each target's source and an optional "Mục tiêu
cần xác nhận" row marks targets as to be confirmed (the cell holds the note, or just "Có"). The
sheet and column names are part of the file format and stay Vietnamese whatever the interface
language.
"""

from __future__ import annotations

import datetime
import zipfile
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import IO, Any

from django.conf import settings
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from . import xlsx
from .models import (
    CommuneGroup,
    Condition,
    CriteriaSet,
    Criterion,
    CriterionGroup,
    Indicator,
    Region,
    Target,
)
from .specs import canonical_number, value_problem
from .xlsx import WorkbookInvalid, quoted
from .xlsx import cell_text as _text

META_SHEET, GROUPS_SHEET, ROWS_SHEET = "Bộ tiêu chí", "Nhóm xã", "Chỉ tiêu"

META_FIELDS = [
    ("code", "Mã bộ tiêu chí"),
    ("version", "Phiên bản"),
    ("name", "Tên bộ tiêu chí"),
    ("kind", "Loại"),
    ("year_from", "Từ năm"),
    ("year_to", "Đến năm"),
    ("target_basis", "Mục tiêu khác nhau theo"),
    ("includes_urban_units", "Áp dụng cả phường, thị trấn"),
    ("national_target_percent", "Mục tiêu toàn quốc (% số xã đạt tiêu chí 8)"),
    ("legal_number", "Số văn bản"),
    ("legal_date", "Ngày ban hành"),
    ("legal_issuer", "Cơ quan ban hành"),
    ("legal_title", "Trích yếu"),
    ("notes", "Ghi chú"),
    ("to_confirm", "Cần xác nhận"),
    ("to_confirm_note", "Nội dung cần xác nhận"),
    ("special_region", "Quy tắc đặc biệt: áp dụng mức của vùng"),
    ("special_region_flags", "Quy tắc đặc biệt: xã thuộc diện"),
    ("special_region_basis", "Quy tắc đặc biệt: căn cứ"),
    ("status", "Trạng thái"),
]
REQUIRED_META = {"code", "name", "kind", "year_from", "year_to"}

COLUMNS = [
    ("row_type", "Loại dòng"),
    ("number", "Số / mã"),
    ("text", "Tên / nội dung"),
    ("guidance", "Hướng dẫn đánh giá"),
    ("evidence", "Hồ sơ minh chứng"),
    ("value_type", "Kiểu giá trị"),
    ("unit", "Đơn vị"),
    ("comparison", "So sánh"),
    ("scope", "Đánh giá cho"),
    ("alternative_group", "Nhóm lựa chọn"),
    ("threshold", "Ngưỡng"),
    ("to_confirm", "Cần xác nhận"),
    ("to_confirm_note", "Nội dung cần xác nhận"),
    ("source", "Nguồn"),
]
# Columns added after the first workbooks were made: a workbook without them still imports.
OPTIONAL_COLUMNS = {"source"}
GENERAL_TARGET = "Mục tiêu chung"
# An uploaded set is read within these: a national set has about fifty rows, and a column for
# each region or commune group after the fixed ones.
MAX_ROWS, MAX_COLUMNS = 1000, 80
LABELS = dict(COLUMNS)
# What is checked against the field it is stored in: the details sheet's keys (the set's field
# names), the groups sheet's columns, and (field, column key) for indicator and condition rows.
META_STORED = {"code", "version", "name", "year_from", "year_to", "national_target_percent"}
META_STORED |= {"legal_number", "legal_issuer", "legal_title", "notes", "to_confirm_note"}
META_STORED |= {"special_region_basis"}
GROUP_FIELDS = ("code", "name", "definition")
INDICATOR_FIELDS = (
    ("code", "number"),
    ("content", "text"),
    ("guidance", "guidance"),
    ("evidence_expected", "evidence"),
    ("unit", "unit"),
    ("source", "source"),
    ("to_confirm_note", "to_confirm_note"),
)
CONDITION_FIELDS = (
    ("code", "number"),
    ("text", "text"),
    ("alternative_group", "alternative_group"),
    ("threshold", "threshold"),
    ("source", "source"),
    ("to_confirm_note", "to_confirm_note"),
)
GROUP_COLUMNS = ["Mã", "Tên", "Định nghĩa"]

ROW_GROUP, ROW_CRITERION, ROW_INDICATOR, ROW_CONDITION = (
    "Nhóm tiêu chí",
    "Tiêu chí",
    "Chỉ tiêu",
    "Điều kiện",
)
ROW_TARGET_SOURCE, ROW_TARGET_TO_CONFIRM = "Nguồn mục tiêu", "Mục tiêu cần xác nhận"
ROW_TYPES = [
    ROW_GROUP,
    ROW_CRITERION,
    ROW_INDICATOR,
    ROW_TARGET_SOURCE,
    ROW_TARGET_TO_CONFIRM,
    ROW_CONDITION,
]
# Fixed Vietnamese labels of the file format for each stored value.
KIND_LABELS = {
    CriteriaSet.Kind.COMMUNE_NTM: "Xã nông thôn mới",
    CriteriaSet.Kind.COMMUNE_ADVANCED: "Xã nông thôn mới nâng cao",
    CriteriaSet.Kind.COMMUNE_MODEL: "Xã nông thôn mới kiểu mẫu",
    CriteriaSet.Kind.PROVINCE: "Bộ tiêu chí riêng của tỉnh",
    CriteriaSet.Kind.VILLAGE: "Thôn, khu dân cư kiểu mẫu",
}
BASIS_LABELS = {
    CriteriaSet.TargetBasis.REGION: "Vùng",
    CriteriaSet.TargetBasis.COMMUNE_GROUP: "Nhóm xã",
}
STATUS_LABELS = {
    CriteriaSet.Status.DRAFT: "Bản nháp",
    CriteriaSet.Status.ACTIVE: "Đang áp dụng",
    CriteriaSet.Status.RETIRED: "Hết hiệu lực",
}
VALUE_TYPE_LABELS = {
    Indicator.ValueType.YES_NO: "Có/Không",
    Indicator.ValueType.NUMBER: "Số",
    Indicator.ValueType.PERCENTAGE: "Tỷ lệ %",
    Indicator.ValueType.CHECKLIST: "Danh sách điều kiện",
    Indicator.ValueType.VILLAGE_CHECKLIST: "Danh sách điều kiện theo thôn",
}
COMPARISON_LABELS = {
    Indicator.Comparison.AT_LEAST: "Tối thiểu",
    Indicator.Comparison.AT_MOST: "Tối đa",
}
SCOPE_LABELS = {Condition.Scope.COMMUNE: "Xã", Condition.Scope.VILLAGE: "Từng thôn"}
FLAG_LABELS = {
    "is_extremely_difficult": "Xã đặc biệt khó khăn",
    "is_safe_zone_poor": "Xã an toàn khu thuộc huyện nghèo, huyện thoát nghèo",
    "is_border": "Xã biên giới",
}
FLAG_SEPARATOR = "; "
YES = "Có"
TARGET_SEPARATOR = " | "


# ---------------------------------------------------------------- uploads


def check_xlsx_upload(upload: IO[bytes], *, size: int) -> None:
    """Refuse an upload that is too large, is not an xlsx file, or would unpack too large.

    Judged from the content before any parsing, never from the file's name.
    """
    limit = settings.UPLOAD_MAX_BYTES
    if size > limit:
        raise WorkbookInvalid(
            [
                _("The file is %(size)s MB; the limit is %(limit)s MB.")
                % {"size": megabytes(size), "limit": megabytes(limit)}
            ]
        )
    upload.seek(0)
    head = upload.read(4)
    upload.seek(0)
    not_xlsx = _("The file is not an Excel workbook (.xlsx). Save it as .xlsx and upload again.")
    if head != b"PK\x03\x04":
        raise WorkbookInvalid([not_xlsx])
    try:
        with zipfile.ZipFile(upload) as archive:
            names = set(archive.namelist())
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise WorkbookInvalid([not_xlsx]) from None
    finally:
        upload.seek(0)
    if "xl/workbook.xml" not in names or "[Content_Types].xml" not in names:
        raise WorkbookInvalid([not_xlsx])
    if unpacked > settings.UPLOAD_MAX_UNCOMPRESSED_BYTES:
        raise WorkbookInvalid(
            [
                _("The workbook unpacks to more than %(limit)s MB and is refused.")
                % {"limit": megabytes(settings.UPLOAD_MAX_UNCOMPRESSED_BYTES)}
            ]
        )


def megabytes(size: int) -> str:
    """A size in MB with at most one decimal, for messages about upload limits."""
    return f"{size / (1024 * 1024):.1f}".rstrip("0").rstrip(".")


# ---------------------------------------------------------------- spec → sheets


def _target_columns(spec: dict, regions: list[Region]) -> list[tuple[str, str]]:
    """(code, header) for each target column after the general one."""
    if spec["target_basis"] == CriteriaSet.TargetBasis.COMMUNE_GROUP:
        return [(g["code"], g["name"]) for g in spec["commune_groups"]]
    return [(r.code, r.name) for r in regions]


def _target_cell(target: dict | None) -> Any:
    if target is None:
        return None
    if target["threshold"] is not None and target["text"]:
        return f"{target['threshold']}{TARGET_SEPARATOR}{target['text']}"
    if target["threshold"] is not None:
        return float(target["threshold"])
    return target["text"]


def _target_source(target: dict | None) -> str | None:
    return (target["source"] or None) if target else None


def _target_mark(target: dict | None) -> str | None:
    if not target or not target["to_confirm"]:
        return None
    return target["to_confirm_note"] or YES


def spec_to_rows(spec: dict, regions: list[Region]) -> tuple[list[str], list[list[Any]]]:
    """The header and the rows of the "Chỉ tiêu" sheet."""
    columns = _target_columns(spec, regions)
    by_group = spec["target_basis"] == CriteriaSet.TargetBasis.COMMUNE_GROUP
    header = [label for _, label in COLUMNS] + [GENERAL_TARGET] + [name for _, name in columns]
    blank = dict.fromkeys(key for key, _ in COLUMNS)
    rows = []

    def row(values: dict, targets: list[dict] | None = None, cell=_target_cell) -> list[Any]:
        cells = [{**blank, **values}[key] for key, _ in COLUMNS]
        if targets is None:
            return cells + [None] * (1 + len(columns))
        keyed = {(t["commune_group"] if by_group else t["region"]): t for t in targets}
        return cells + [cell(keyed.get(None))] + [cell(keyed.get(code)) for code, _ in columns]

    for group in spec["groups"]:
        rows.append(row({"row_type": ROW_GROUP, "number": group["number"], "text": group["name"]}))
        for criterion in group["criteria"]:
            rows.append(
                row(
                    {
                        "row_type": ROW_CRITERION,
                        "number": criterion["number"],
                        "text": criterion["name"],
                        "to_confirm": YES if criterion["to_confirm"] else None,
                        "to_confirm_note": criterion["to_confirm_note"] or None,
                    }
                )
            )
            for ind in criterion["indicators"]:
                values = {
                    "row_type": ROW_INDICATOR,
                    "number": ind["code"],
                    "text": ind["content"],
                    "guidance": ind["guidance"] or None,
                    "evidence": ind["evidence_expected"] or None,
                    "value_type": VALUE_TYPE_LABELS[ind["value_type"]],
                    "unit": ind["unit"] or None,
                    "comparison": COMPARISON_LABELS[ind["comparison"]],
                    "to_confirm": YES if ind["to_confirm"] else None,
                    "to_confirm_note": ind["to_confirm_note"] or None,
                    "source": ind["source"] or None,
                }
                rows.append(row(values, ind["targets"]))
                for row_type, cell, present in (
                    (ROW_TARGET_SOURCE, _target_source, "source"),
                    (ROW_TARGET_TO_CONFIRM, _target_mark, "to_confirm"),
                ):
                    if any(t[present] for t in ind["targets"]):
                        values = {"row_type": row_type, "number": ind["code"]}
                        rows.append(row(values, ind["targets"], cell))
                for cond in ind["conditions"]:
                    threshold = cond["threshold"]
                    values = {
                        "row_type": ROW_CONDITION,
                        "number": cond["code"],
                        "text": cond["text"],
                        "scope": SCOPE_LABELS[cond["scope"]],
                        "alternative_group": cond["alternative_group"] or None,
                        "threshold": float(threshold) if threshold is not None else None,
                        "to_confirm": YES if cond["to_confirm"] else None,
                        "to_confirm_note": cond["to_confirm_note"] or None,
                        "source": cond["source"] or None,
                    }
                    rows.append(row(values))
    return header, rows


def spec_to_meta(spec: dict, regions: list[Region]) -> list[tuple[str, Any]]:
    legal = spec["legal"]
    region_names = {r.code: r.name for r in regions}
    special = spec["special_region"]
    values = {
        "code": spec["code"],
        "version": spec["version"],
        "name": spec["name"],
        "kind": KIND_LABELS[spec["kind"]],
        "year_from": spec["year_from"],
        "year_to": spec["year_to"],
        "target_basis": BASIS_LABELS[spec["target_basis"]],
        "includes_urban_units": YES if spec["includes_urban_units"] else None,
        "national_target_percent": float(spec["national_target_percent"])
        if spec["national_target_percent"] is not None
        else None,
        "legal_number": legal["number"] or None,
        "legal_date": datetime.date.fromisoformat(legal["date"]) if legal["date"] else None,
        "legal_issuer": legal["issuer"] or None,
        "legal_title": legal["title"] or None,
        "notes": spec["notes"] or None,
        "to_confirm": YES if spec["to_confirm"] else None,
        "to_confirm_note": spec["to_confirm_note"] or None,
        "special_region": region_names.get(special, special),
        "special_region_flags": FLAG_SEPARATOR.join(
            FLAG_LABELS.get(flag, flag) for flag in spec["special_region_flags"]
        )
        or None,
        "special_region_basis": spec["special_region_basis"] or None,
        "status": STATUS_LABELS[spec["status"]],
    }
    return [(label, values[key]) for key, label in META_FIELDS]


def export_workbook(spec: dict) -> bytes:
    """The spec as a formatted xlsx workbook."""
    regions = list(Region.objects.all())
    wb = Workbook()
    bold = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")

    meta = wb.active
    meta.title = META_SHEET
    xlsx.append_header(meta, ["Trường", "Giá trị"])
    for label, value in spec_to_meta(spec, regions):
        xlsx.append(meta, [label, value])
    meta.column_dimensions["A"].width = 28
    meta.column_dimensions["B"].width = 90
    for cell in meta["B"]:
        cell.alignment = wrap
        if isinstance(cell.value, datetime.date):
            cell.number_format = "DD/MM/YYYY"
        elif isinstance(cell.value, str):
            cell.number_format = "@"  # what is typed over it later stays text too

    groups = wb.create_sheet(GROUPS_SHEET)
    xlsx.append_header(groups, GROUP_COLUMNS)
    for group in spec["commune_groups"]:
        xlsx.append(groups, [group["code"], group["name"], group["definition"] or None])
    groups.column_dimensions["B"].width, groups.column_dimensions["C"].width = 20, 90

    sheet = wb.create_sheet(ROWS_SHEET)
    header, rows = spec_to_rows(spec, regions)
    xlsx.append_header(sheet, header)
    for values in rows:
        xlsx.append(sheet, values)
    widths = {"A": 14, "B": 9, "C": 50, "D": 60, "E": 40, "F": 22, "M": 40, "N": 30}
    for index in range(1, len(header) + 1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = widths.get(letter, 16)
    for ws in (meta, groups, sheet):
        ws.freeze_panes = "A2"
    for line in sheet.iter_rows(min_row=2):
        for cell in line:
            cell.alignment = wrap
            if isinstance(cell.value, str):
                cell.number_format = "@"  # what is typed over it later stays text too
        if line[0].value in (ROW_GROUP, ROW_CRITERION):
            for cell in line:
                cell.font = bold
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = "1:1"
    return xlsx.to_bytes(wb)


# ---------------------------------------------------------------- sheets → spec


def read_workbook(upload: IO[bytes]) -> dict:
    """Parse an uploaded workbook into a canonical spec, or raise WorkbookInvalid with every error.

    The caller has already passed the upload through check_xlsx_upload.
    """
    wb = xlsx.open_upload(upload)
    try:
        xlsx.require_sheets(wb, (META_SHEET, ROWS_SHEET))
        meta_rows = xlsx.read_sheet(wb, META_SHEET, max_rows=100, max_columns=10)
        group_rows = (
            xlsx.read_sheet(wb, GROUPS_SHEET, max_rows=MAX_ROWS, max_columns=10)
            if GROUPS_SHEET in wb.sheetnames
            else []
        )
        set_rows = xlsx.read_sheet(wb, ROWS_SHEET, max_rows=MAX_ROWS, max_columns=MAX_COLUMNS)
    finally:
        wb.close()
    meta = {
        (label.strip() if isinstance(label, str) else label): (row_no, value)
        for row_no, (label, value, *_rest) in enumerate(_padded(meta_rows[1:], 2), start=2)
    }
    commune_groups = [
        (row_no, code, name, definition)
        for row_no, (code, name, definition, *_rest) in enumerate(
            _padded(group_rows[1:], 3), start=2
        )
        if code is not None or name is not None or definition is not None
    ]
    header = list(set_rows[0]) if set_rows else []
    return sheets_to_spec(meta, commune_groups, header, list(enumerate(set_rows[1:], start=2)))


def _padded(rows: Iterable[tuple], width: int) -> Iterable[tuple]:
    for row in rows:
        yield tuple(row) + (None,) * (width - len(row))


def _choice(value: Any, labels: dict) -> str | None:
    """The stored value for a label (or for the stored value itself), or None if unknown."""
    text = _text(value).casefold()
    for stored, label in labels.items():
        if text in (label.casefold(), str(stored).casefold()):
            return str(stored)
    return None


def check_spec(spec: dict) -> None:
    """Validate a spec from a JSON file by the same rules as a workbook; raises WorkbookInvalid."""
    regions = list(Region.objects.all())
    region_codes = {r.code for r in regions}
    group_codes = {g["code"] for g in spec["commune_groups"]}
    unknown = sorted(
        {
            t["region"] or t["commune_group"]
            for g in spec["groups"]
            for c in g["criteria"]
            for i in c["indicators"]
            for t in i["targets"]
            if (t["region"] and t["region"] not in region_codes)
            or (t["commune_group"] and t["commune_group"] not in group_codes)
        }
    )
    if unknown:
        raise WorkbookInvalid(
            [_("Unknown region or commune group: %(codes)s.") % {"codes": ", ".join(unknown)}]
        )
    header, rows = spec_to_rows(spec, regions)
    meta = {
        label: (n, value) for n, (label, value) in enumerate(spec_to_meta(spec, regions), start=2)
    }
    groups = [
        (n, g["code"], g["name"], g["definition"])
        for n, g in enumerate(spec["commune_groups"], start=2)
    ]
    sheets_to_spec(meta, groups, header, list(enumerate(rows, start=2)))


def sheets_to_spec(
    meta: dict, commune_groups: list[tuple], header: list, rows: list[tuple[int, tuple]]
) -> dict:
    errors: list[str] = []

    def error(sheet: str, row: int, message: str) -> None:
        errors.append(
            _("Sheet «%(sheet)s», row %(row)s: %(message)s")
            % {"sheet": sheet, "row": row, "message": message}
        )

    def fits(sheet: str, row: int, model, name: str, value: Any, label: str) -> None:
        """An error on the row when the value cannot be stored in the field it goes to."""
        problem = value_problem(model, name, value)
        if problem:
            error(sheet, row, _("«%(label)s»: %(problem)s") % {"label": label, "problem": problem})

    # --- the set's details
    values: dict[str, Any] = {}
    for key, label in META_FIELDS:
        row_no, value = meta.get(label, (None, None))
        if row_no is None:
            if key in REQUIRED_META:
                errors.append(
                    _("Sheet «%(sheet)s»: the row «%(label)s» is missing.")
                    % {"sheet": META_SHEET, "label": label}
                )
            continue
        if key in REQUIRED_META and _text(value) == "":
            error(META_SHEET, row_no, _("«%(label)s» must not be empty.") % {"label": label})
            continue
        values[key] = (row_no, value)

    def meta_choice(key: str, labels: dict, default: str) -> str:
        row_no, value = values.get(key, (None, None))
        if _text(value) == "":
            return default
        stored = _choice(value, labels)
        if stored is None:
            label = dict(META_FIELDS)[key]
            error(
                META_SHEET,
                row_no,
                _("«%(value)s» is not a valid %(label)s; use one of: %(choices)s.")
                % {"value": quoted(value), "label": label, "choices": ", ".join(labels.values())},
            )
            return default
        return stored

    def meta_int(key: str, default: int | None = None) -> int | None:
        row_no, value = values.get(key, (None, None))
        if _text(value) == "":
            return default
        try:
            return int(_text(value))
        except ValueError:
            error(
                META_SHEET,
                row_no,
                _("«%(label)s» must be a whole number.") % {"label": dict(META_FIELDS)[key]},
            )
            return default

    kind = meta_choice("kind", KIND_LABELS, CriteriaSet.Kind.PROVINCE)
    basis = meta_choice("target_basis", BASIS_LABELS, CriteriaSet.TargetBasis.REGION)
    status = meta_choice("status", STATUS_LABELS, CriteriaSet.Status.DRAFT)
    special_region, special_flags = _special_rule(values, error)
    version = meta_int("version", 1)
    year_from, year_to = meta_int("year_from"), meta_int("year_to")
    if year_from and year_to and year_to < year_from:
        error(META_SHEET, values["year_to"][0], _("«Đến năm» must not be before «Từ năm»."))
    national_target = None
    if "national_target_percent" in values:
        row_no, value = values["national_target_percent"]
        try:
            national_target = canonical_number(value)
        except (InvalidOperation, ValueError):
            error(META_SHEET, row_no, _("«Mục tiêu toàn quốc» must be a number."))
    legal_date = None
    if "legal_date" in values:
        row_no, value = values["legal_date"]
        legal_date = _date(value)
        if legal_date is False:
            error(META_SHEET, row_no, _("The date must be written as dd/mm/yyyy."))
            legal_date = None
    read = {"version": version, "year_from": year_from, "year_to": year_to}
    read["national_target_percent"] = national_target
    for key, label in META_FIELDS:
        if key in values and key in META_STORED:
            row_no, value = values[key]
            value = read[key] if key in read else _text(value)
            fits(META_SHEET, row_no, CriteriaSet, key, value, label)
    if national_target is not None and not 0 <= Decimal(national_target) <= 100:
        row_no = values["national_target_percent"][0]
        error(META_SHEET, row_no, _("«Mục tiêu toàn quốc» is a percentage, from 0 to 100."))

    # --- commune groups
    group_codes: dict[str, str] = {}
    definitions: dict[str, str] = {}
    for row_no, code, name, definition in commune_groups:
        code, name = _text(code), _text(name)
        definitions[code] = _text(definition)
        read = (code, name, definitions[code])
        for field, value, label in zip(GROUP_FIELDS, read, GROUP_COLUMNS, strict=True):
            fits(GROUPS_SHEET, row_no, CommuneGroup, field, value, label)
        if not code or not name:
            error(GROUPS_SHEET, row_no, _("Both the code and the name are required."))
        elif code in group_codes:
            message = _("The code %(code)s appears twice.") % {"code": quoted(code)}
            error(GROUPS_SHEET, row_no, message)
        else:
            group_codes[code] = name

    # --- the header of the rows sheet
    header = [_text(cell) for cell in header]
    columns = [(k, label) for k, label in COLUMNS if k not in OPTIONAL_COLUMNS or label in header]
    expected = [label for _, label in columns] + [GENERAL_TARGET]
    if header[: len(expected)] != expected:
        error(
            ROWS_SHEET,
            1,
            _("the columns must be, in this order: %(columns)s.")
            % {"columns": ", ".join(expected)},
        )
        raise WorkbookInvalid(errors)
    if basis == CriteriaSet.TargetBasis.COMMUNE_GROUP:
        known = {name.casefold(): code for code, name in group_codes.items()}
        known.update({code.casefold(): code for code in group_codes})
        unknown_message = _("the column «%(name)s» names no commune group of the sheet «Nhóm xã».")
    else:
        known = {r.name.casefold(): r.code for r in Region.objects.all()}
        known.update({code: code for code in known.values()})
        unknown_message = _("the column «%(name)s» names no known region.")
    target_keys: list[str | None] = [None]
    for name in header[len(expected) :]:
        if not name:
            target_keys.append("")
            continue
        code = known.get(name.casefold())
        if code is None:
            error(ROWS_SHEET, 1, unknown_message % {"name": quoted(name)})
        target_keys.append(code)

    # --- the rows
    groups: list[dict] = []
    criterion_numbers: set[int] = set()
    indicator_codes: set[str] = set()
    group_numbers: set[str] = set()
    criterion = indicator = None

    def required(cells: dict, row_no: int, key: str, label: str) -> bool:
        if _text(cells[key]) == "":
            error(ROWS_SHEET, row_no, _("«%(label)s» must not be empty.") % {"label": label})
            return False
        return True

    for row_no, raw in rows:
        raw = tuple(raw) + (None,) * (len(header) - len(raw))
        if all(_text(cell) == "" for cell in raw):
            continue
        cells = {key: raw[i] for i, (key, _label) in enumerate(columns)}
        row_type = _text(cells["row_type"])
        number, text = _text(cells["number"]), _text(cells["text"])

        if row_type == ROW_GROUP:
            criterion = indicator = None
            if required(cells, row_no, "number", "Số / mã") & required(
                cells, row_no, "text", "Tên / nội dung"
            ):
                if number in group_numbers:
                    message = _("The group %(n)s appears twice.") % {"n": quoted(number)}
                    error(ROWS_SHEET, row_no, message)
                group_numbers.add(number)
            fits(ROWS_SHEET, row_no, CriterionGroup, "number", number, LABELS["number"])
            fits(ROWS_SHEET, row_no, CriterionGroup, "name", text, LABELS["text"])
            groups.append({"number": number, "name": text, "criteria": []})
        elif row_type == ROW_CRITERION:
            indicator = None
            if not groups:
                error(ROWS_SHEET, row_no, _("A criterion must come after its group's row."))
                continue
            ok = required(cells, row_no, "number", "Số / mã") & required(
                cells, row_no, "text", "Tên / nội dung"
            )
            try:
                as_int = int(number) if ok else 0
            except ValueError:
                error(ROWS_SHEET, row_no, _("A criterion's number must be a whole number."))
                as_int = 0
            if as_int and as_int in criterion_numbers:
                error(ROWS_SHEET, row_no, _("The criterion %(n)s appears twice.") % {"n": as_int})
            criterion_numbers.add(as_int)
            criterion = {
                "number": as_int,
                "name": text,
                "to_confirm": _is_yes(cells["to_confirm"]),
                "to_confirm_note": _text(cells["to_confirm_note"]),
                "indicators": [],
            }
            groups[-1]["criteria"].append(criterion)
            fits(ROWS_SHEET, row_no, Criterion, "number", as_int or None, LABELS["number"])
            fits(ROWS_SHEET, row_no, Criterion, "name", text, LABELS["text"])
            note = criterion["to_confirm_note"]
            fits(ROWS_SHEET, row_no, Criterion, "to_confirm_note", note, LABELS["to_confirm_note"])
        elif row_type == ROW_INDICATOR:
            if criterion is None:
                error(ROWS_SHEET, row_no, _("An indicator must come after its criterion's row."))
                continue
            required(cells, row_no, "number", "Số / mã")
            required(cells, row_no, "text", "Tên / nội dung")
            if number and number in indicator_codes:
                error(
                    ROWS_SHEET,
                    row_no,
                    _("The indicator %(code)s appears twice.") % {"code": quoted(number)},
                )
            indicator_codes.add(number)
            value_type = _choice(cells["value_type"], VALUE_TYPE_LABELS)
            if value_type is None:
                error(
                    ROWS_SHEET,
                    row_no,
                    _("«Kiểu giá trị» must be one of: %(choices)s.")
                    % {"choices": ", ".join(VALUE_TYPE_LABELS.values())},
                )
            comparison = (
                _choice(cells["comparison"], COMPARISON_LABELS)
                if _text(cells["comparison"])
                else Indicator.Comparison.AT_LEAST
            )
            if comparison is None:
                error(
                    ROWS_SHEET,
                    row_no,
                    _("«So sánh» must be one of: %(choices)s.")
                    % {"choices": ", ".join(COMPARISON_LABELS.values())},
                )
            targets = []
            target_cells = zip(
                target_keys, header[len(columns) :], raw[len(columns) :], strict=False
            )
            for key, name, cell in target_cells:
                if _text(cell) == "" or key == "":
                    continue
                target = _target(cell)
                if target is None:
                    error(
                        ROWS_SHEET,
                        row_no,
                        _("the target «%(value)s» must be a number, a text, or «number | text».")
                        % {"value": quoted(cell)},
                    )
                    continue
                fits(ROWS_SHEET, row_no, Target, "threshold", target["threshold"], name)
                fits(ROWS_SHEET, row_no, Target, "text", target["text"], name)
                scope_key = "commune_group" if basis == "commune_group" else "region"
                targets.append(
                    {
                        "region": None,
                        "commune_group": None,
                        **target,
                        scope_key: key,
                        "source": "",
                        "to_confirm": False,
                        "to_confirm_note": "",
                    }
                )
            indicator = {
                "code": number,
                "content": text,
                "guidance": _text(cells["guidance"]),
                "evidence_expected": _text(cells["evidence"]),
                "value_type": value_type,
                "unit": _text(cells["unit"]),
                "comparison": comparison,
                "source": _text(cells.get("source")),
                "to_confirm": _is_yes(cells["to_confirm"]),
                "to_confirm_note": _text(cells["to_confirm_note"]),
                "conditions": [],
                "targets": targets,
            }
            criterion["indicators"].append(indicator)
            for field, key in INDICATOR_FIELDS:
                fits(ROWS_SHEET, row_no, Indicator, field, indicator[field], LABELS[key])
        elif row_type in (ROW_TARGET_SOURCE, ROW_TARGET_TO_CONFIRM):
            if indicator is None or number not in ("", indicator["code"]):
                error(
                    ROWS_SHEET,
                    row_no,
                    _("A «%(type)s» row must come right under its indicator's rows.")
                    % {"type": row_type},
                )
                continue
            target_cells = zip(
                target_keys, header[len(columns) :], raw[len(columns) :], strict=False
            )
            for key, name, cell in target_cells:
                if _text(cell) == "" or key == "":
                    continue
                scope_key = "commune_group" if basis == "commune_group" else "region"
                target = next((t for t in indicator["targets"] if t[scope_key] == key), None)
                if target is None:
                    error(
                        ROWS_SHEET,
                        row_no,
                        _("the indicator has no target in the column «%(name)s».")
                        % {"name": quoted(name)},
                    )
                elif row_type == ROW_TARGET_SOURCE:
                    target["source"] = _text(cell)
                    fits(ROWS_SHEET, row_no, Target, "source", target["source"], name)
                else:
                    target["to_confirm"] = True
                    target["to_confirm_note"] = "" if _is_yes(cell) else _text(cell)
                    note = target["to_confirm_note"]
                    fits(ROWS_SHEET, row_no, Target, "to_confirm_note", note, name)
        elif row_type == ROW_CONDITION:
            if indicator is None:
                error(ROWS_SHEET, row_no, _("A condition must come after its indicator's row."))
                continue
            required(cells, row_no, "number", "Số / mã")
            required(cells, row_no, "text", "Tên / nội dung")
            if number and number in {c["code"] for c in indicator["conditions"]}:
                error(
                    ROWS_SHEET,
                    row_no,
                    _("The condition %(code)s of indicator %(indicator)s appears twice.")
                    % {"code": quoted(number), "indicator": quoted(indicator["code"])},
                )
            scope = (
                _choice(cells["scope"], SCOPE_LABELS)
                if _text(cells["scope"])
                else Condition.Scope.COMMUNE
            )
            if scope is None:
                error(
                    ROWS_SHEET,
                    row_no,
                    _("«Đánh giá cho» must be one of: %(choices)s.")
                    % {"choices": ", ".join(SCOPE_LABELS.values())},
                )
            try:
                threshold = canonical_number(cells["threshold"])
            except (InvalidOperation, ValueError):
                error(ROWS_SHEET, row_no, _("«Ngưỡng» must be a number."))
                threshold = None
            indicator["conditions"].append(
                {
                    "code": number,
                    "text": text,
                    "scope": scope,
                    "alternative_group": _text(cells["alternative_group"]),
                    "threshold": threshold,
                    "source": _text(cells.get("source")),
                    "to_confirm": _is_yes(cells["to_confirm"]),
                    "to_confirm_note": _text(cells["to_confirm_note"]),
                }
            )
            for field, key in CONDITION_FIELDS:
                value = indicator["conditions"][-1][field]
                fits(ROWS_SHEET, row_no, Condition, field, value, LABELS[key])
        else:
            error(
                ROWS_SHEET,
                row_no,
                _("«Loại dòng» must be one of: %(choices)s.") % {"choices": ", ".join(ROW_TYPES)},
            )
    if not groups and not errors:
        error(ROWS_SHEET, 2, _("the sheet has no criteria."))
    if errors:
        raise WorkbookInvalid(errors)

    def meta_text(key: str) -> str:
        return _text(values.get(key, (None, None))[1])

    return {
        "code": meta_text("code"),
        "version": version,
        "name": meta_text("name"),
        "kind": kind,
        "year_from": year_from,
        "year_to": year_to,
        "target_basis": basis,
        "includes_urban_units": _is_yes(values.get("includes_urban_units", (None, None))[1]),
        "national_target_percent": national_target,
        "legal": {
            "number": meta_text("legal_number"),
            "date": legal_date.isoformat() if legal_date else None,
            "issuer": meta_text("legal_issuer"),
            "title": meta_text("legal_title"),
        },
        "notes": meta_text("notes"),
        "to_confirm": _is_yes(values.get("to_confirm", (None, None))[1]),
        "to_confirm_note": meta_text("to_confirm_note"),
        "special_region": special_region,
        "special_region_flags": special_flags,
        "special_region_basis": meta_text("special_region_basis"),
        "status": status,
        "commune_groups": [
            {"code": c, "name": n, "definition": definitions[c]} for c, n in group_codes.items()
        ],
        "groups": [
            {**g, "criteria": [{**c, "indicators": _sorted_targets(c)} for c in g["criteria"]]}
            for g in groups
        ],
    }


def _special_rule(values: dict, error) -> tuple[str | None, list[str]]:
    """The special target rule of the details sheet: (region code, commune flags)."""
    region_row, region_cell = values.get("special_region", (None, None))
    flags_row, flags_cell = values.get("special_region_flags", (None, None))
    region = None
    if _text(region_cell):
        names = {r.name.casefold(): r.code for r in Region.objects.all()}
        names.update({code: code for code in names.values()})
        region = names.get(_text(region_cell).casefold())
        if region is None:
            error(
                META_SHEET,
                region_row,
                _("«%(value)s» names no known region.") % {"value": quoted(region_cell)},
            )
    flags = []
    for part in _text(flags_cell).split(FLAG_SEPARATOR.strip()):
        if not part.strip():
            continue
        flag = _choice(part, FLAG_LABELS)
        if flag is None:
            error(
                META_SHEET,
                flags_row,
                _("«%(value)s» is not a commune flag; use: %(choices)s.")
                % {"value": quoted(part), "choices": FLAG_SEPARATOR.join(FLAG_LABELS.values())},
            )
        elif flag not in flags:
            flags.append(flag)
    if bool(_text(region_cell)) != bool(_text(flags_cell)):
        error(
            META_SHEET,
            region_row or flags_row,
            _("The special rule needs both the region and the communes it applies to."),
        )
    return region, flags


def _sorted_targets(criterion: dict) -> list[dict]:
    return [
        {
            **ind,
            "targets": sorted(
                ind["targets"], key=lambda t: (t["region"] or "", t["commune_group"] or "")
            ),
        }
        for ind in criterion["indicators"]
    ]


def _target(cell: Any) -> dict | None:
    """A target cell as a threshold and a text; None if it is neither (an infinite number)."""
    if isinstance(cell, int | float):
        try:
            return {"threshold": canonical_number(cell), "text": ""}
        except (InvalidOperation, ValueError):
            return None
    text = _text(cell)
    if TARGET_SEPARATOR.strip() in text:
        number, _sep, words = text.partition(TARGET_SEPARATOR.strip())
        try:
            return {"threshold": canonical_number(number), "text": words.strip()}
        except (InvalidOperation, ValueError):
            return None
    return {"threshold": None, "text": text}


def _is_yes(value: Any) -> bool:
    return _text(value).casefold() in {YES.casefold(), "x", "1", "true"}


def _date(value: Any) -> datetime.date | None | bool:
    """A date from a date cell or from dd/mm/yyyy text; None if empty; False if unreadable."""
    if value is None or _text(value) == "":
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    for pattern in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.datetime.strptime(_text(value), pattern).date()
        except ValueError:
            continue
    return False
