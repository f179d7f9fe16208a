"""Administrative units from the statistics office's list, their history, and the 2025 reform.

The list layout is the GSO's: "Mã TP, Tỉnh / Thành Phố, Mã QH, Quận Huyện, Mã PX, Phường Xã, Cấp"
(the list after 01/07/2025 has no district columns). A list describes the units in force on one
day, and its rows are matched by code with the units in force that day: a code can name another
unit before or after (05977, 06040). Units that ended before the list's day come from a file of
ended units, each with its district and main successor. A file with any bad row imports nothing.
"""

from __future__ import annotations

import csv
import datetime
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import load_workbook

from criteria.models import Region

from .collation import sort_key
from .models import Commune, District, Province

COLUMNS = {
    "province_code": "Mã TP",
    "province_name": "Tỉnh / Thành Phố",
    "district_code": "Mã QH",
    "district_name": "Quận Huyện",
    "commune_code": "Mã PX",
    "commune_name": "Phường Xã",
    "level": "Cấp",
}
DISTRICT_COLUMNS = {"district_code", "district_name"}
LEVELS = {"xã": Commune.Kind.RURAL, "phường": Commune.Kind.WARD, "thị trấn": Commune.Kind.TOWNSHIP}
DISTRICT_KINDS = {
    "huyện": District.Kind.RURAL,
    "thành phố": District.Kind.CITY,
    "thị xã": District.Kind.TOWN,
    "quận": District.Kind.URBAN,
}
CODE_WIDTHS = {"province_code": 2, "district_code": 3, "commune_code": 5}


class UnitFileInvalid(Exception):
    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass
class Tally:
    """Created / updated / unchanged counts for each kind of unit, and what was renamed."""

    counts: dict[str, Counter] = field(default_factory=dict)
    renamed: list[tuple[str, str, str]] = field(default_factory=list)  # code, old, new
    started: list[tuple[str, str, datetime.date]] = field(default_factory=list)  # code, name, day

    def add(self, kind: str, outcome: str) -> None:
        self.counts.setdefault(kind, Counter())[outcome] += 1

    def __getitem__(self, kind: str) -> Counter:
        return self.counts.get(kind, Counter())


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """(row number, values by column key) for each data row of a CSV or XLSX file."""
    if path.suffix.lower() == ".xlsx":
        wb = load_workbook(path, read_only=True, data_only=True)
        try:
            rows = wb.worksheets[0].iter_rows(values_only=True)
            header = [str(c).strip() if c is not None else "" for c in next(rows, ())]
            keys = _keys(header)
            for number, row in enumerate(rows, start=2):
                yield number, {k: _cell(row[i] if i < len(row) else None) for k, i in keys.items()}
        finally:
            wb.close()
        return
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = [c.strip() for c in next(reader, [])]
        keys = _keys(header)
        for number, row in enumerate(reader, start=2):
            yield number, {k: (row[i].strip() if i < len(row) else "") for k, i in keys.items()}


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _keys(header: list[str]) -> dict[str, int]:
    positions = {name: i for i, name in enumerate(header)}
    required = [k for k in COLUMNS if k not in DISTRICT_COLUMNS]
    missing = [COLUMNS[k] for k in required if COLUMNS[k] not in positions]
    if missing:
        raise UnitFileInvalid(
            [
                _("Row 1: the columns %(missing)s are missing; the header must be: %(header)s.")
                % {"missing": ", ".join(missing), "header": ", ".join(COLUMNS.values())}
            ]
        )
    return {k: positions[label] for k, label in COLUMNS.items() if label in positions}


def parse_units(rows: Iterator[tuple[int, dict[str, str]]]) -> list[dict]:
    """Check every row; returns clean rows or raises UnitFileInvalid listing every bad row."""
    errors, clean = [], []
    seen: dict[str, int] = {}
    names: dict[tuple[str, str], str] = {}
    for number, row in rows:
        if not any(row.values()):
            continue
        problems = []
        for key, width in CODE_WIDTHS.items():
            if key not in row:
                continue
            value = row[key]
            # Excel turns 05971 into the number 5971: pad it back.
            if value.isdigit() and len(value) < width:
                value = value.zfill(width)
            row[key] = value
            if not (value.isdigit() and len(value) == width):
                problems.append(
                    _("«%(column)s» must be a code of %(width)s digits, not «%(value)s»")
                    % {"column": COLUMNS[key], "width": width, "value": value}
                )
        for key in ("province_name", "commune_name", "district_name"):
            if key in row and not row[key]:
                problems.append(_("«%(column)s» is empty") % {"column": COLUMNS[key]})
        kind = LEVELS.get(row["level"].casefold())
        if kind is None:
            problems.append(
                _("«Cấp» must be Xã, Phường or Thị trấn, not «%(value)s»") % {"value": row["level"]}
            )
        code = row["commune_code"]
        if code in seen:
            problems.append(
                _("the code %(code)s is already on row %(row)s") % {"code": code, "row": seen[code]}
            )
        for key, name_key in (
            ("province_code", "province_name"),
            ("district_code", "district_name"),
        ):
            if key in row and row[key] and row[name_key]:
                known = names.setdefault((key, row[key]), row[name_key])
                if known != row[name_key]:
                    problems.append(
                        _("the code %(code)s is named «%(name)s» on an earlier row")
                        % {"code": row[key], "name": known}
                    )
        if "district_name" in row and row["district_name"] and _district_kind(row) is None:
            problems.append(_("«Quận Huyện» must start with Huyện, Thành phố, Thị xã or Quận"))
        if problems:
            errors.append(
                _("Row %(row)s: %(problems)s.") % {"row": number, "problems": "; ".join(problems)}
            )
            continue
        seen[code] = number
        clean.append({**row, "kind": kind, "row": number})
    if errors:
        raise UnitFileInvalid(errors)
    if not clean:
        raise UnitFileInvalid([_("The file has no units.")])
    return clean


def _district_kind(row: dict) -> str | None:
    lowered = row["district_name"].casefold()
    return next(
        (kind for prefix, kind in DISTRICT_KINDS.items() if lowered.startswith(prefix)), None
    )


def _apply(obj, values: dict, tally: Tally, kind: str, created: bool) -> None:
    if created:
        tally.add(kind, "created")
        return
    changed = {k: v for k, v in values.items() if getattr(obj, k) != v}
    if changed:
        if "name" in changed:
            tally.renamed.append((obj.code, obj.name, changed["name"]))
        for k, v in changed.items():
            setattr(obj, k, v)
        obj.save()
        tally.add(kind, "updated")
    else:
        tally.add(kind, "unchanged")


def _in_force(units, on: datetime.date):
    """The first of `units` in force on a day, or None (the Python twin of .current(on))."""
    return next(
        (
            u
            for u in units
            if (u.valid_from is None or u.valid_from <= on)
            and (u.valid_to is None or u.valid_to >= on)
        ),
        None,
    )


@transaction.atomic
def import_units(
    rows: list[dict],
    *,
    region: Region | None = None,
    valid_from: datetime.date | None = None,
    on: datetime.date | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Tally:
    """Create or update the units of clean rows, matched with the units in force on `on` (the
    day the list describes, today by default); the same rows twice change nothing."""
    on = on or timezone.localdate()
    tally = Tally()
    provinces: dict[str, Province] = {}
    districts: dict[str, District] = {}
    current = {c.code: c for c in Commune.objects.current(on)}
    _refuse_codes_held_by_later_units([r for r in rows if r["commune_code"] not in current], on)
    for index, row in enumerate(rows, start=1):
        code = row["province_code"]
        if code not in provinces:
            province, created = Province.objects.get_or_create(
                code=code, defaults={"name": row["province_name"], "region": region}
            )
            values = {"name": row["province_name"]}
            if region is not None:
                values["region"] = region
            _apply(province, values, tally, "province", created)
            provinces[code] = province
        district = None
        if row.get("district_code"):
            dcode = row["district_code"]
            if dcode not in districts:
                values = {
                    "name": row["district_name"],
                    "province": provinces[code],
                    "kind": _district_kind(row),
                }
                district, created = District.objects.get_or_create(code=dcode, defaults=values)
                _apply(district, values, tally, "district", created)
                districts[dcode] = district
            district = districts[dcode]
        values = {
            "name": row["commune_name"],
            "province": provinces[code],
            "district": district,
            "kind": row["kind"],
        }
        commune = current.get(row["commune_code"])
        if commune is None:
            Commune.objects.create(code=row["commune_code"], valid_from=valid_from, **values)
            tally.add("commune", "created")
        else:
            _apply(commune, values, tally, "commune", created=False)
        if progress:
            progress(index, len(rows))
    return tally


def _refuse_codes_held_by_later_units(new_rows: list[dict], on: datetime.date) -> None:
    """A list of an earlier day cannot add a unit under a code that a later unit holds now."""
    held = {
        c.code: c
        for c in Commune.objects.filter(
            valid_to__isnull=True, code__in=[r["commune_code"] for r in new_rows]
        )
    }
    errors = [
        _(
            "Row %(row)s: the code %(code)s belongs to «%(name)s», in force from %(start)s; a list "
            "of %(on)s cannot add another unit under it."
        )
        % {
            "row": r["row"],
            "code": r["commune_code"],
            "name": held[r["commune_code"]].name,
            "start": held[r["commune_code"]].valid_from.strftime("%d/%m/%Y"),
            "on": on.strftime("%d/%m/%Y"),
        }
        for r in new_rows
        if r["commune_code"] in held
    ]
    if errors:
        raise UnitFileInvalid(errors)


@transaction.atomic
def refresh_names(rows: list[dict], *, valid_from: datetime.date) -> Tally | None:
    """Correct the names of the units a reorganisation created (those in force from
    `valid_from`) from a corrected list; None when it is not applied yet. Creates nothing."""
    codes = [row["commune_code"] for row in rows]
    units = {
        c.code: c
        for c in Commune.objects.filter(
            valid_from=valid_from, code__in=codes, province__code=rows[0]["province_code"]
        )
    }
    if not units:
        return None
    tally = Tally()
    for row in rows:
        if row["commune_code"] in units:
            _apply(
                units[row["commune_code"]], {"name": row["commune_name"]}, tally, "commune", False
            )
    return tally


# ---------------------------------------------------------------- units that ended earlier

ENDED_COLUMNS = {
    "commune_code": "Mã PX",
    "commune_name": "Phường Xã",
    "district_code": "Mã QH",
    "level": "Cấp",
    "valid_to": "Hiệu lực đến",
    "successor_code": "Mã PX kế thừa",
    "source": "Nguồn",
}


def read_ended_units(path: Path) -> list[dict]:
    """Rows of a file of ended units (the columns of ENDED_COLUMNS, plus "Cần xác nhận" for a
    row whose facts are not all confirmed), checked; raises UnitFileInvalid listing bad rows."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in ENDED_COLUMNS.values() if c not in (reader.fieldnames or [])]
        if missing:
            raise UnitFileInvalid(
                [
                    _("Row 1: the columns %(missing)s are missing; the header must be: %(header)s.")
                    % {"missing": ", ".join(missing), "header": ", ".join(ENDED_COLUMNS.values())}
                ]
            )
        rows, errors = [], []
        for number, raw in enumerate(reader, start=2):
            row = {key: (raw[label] or "").strip() for key, label in ENDED_COLUMNS.items()}
            problems = []
            for key, width in (("commune_code", 5), ("district_code", 3), ("successor_code", 5)):
                value = row[key].zfill(width) if row[key].isdigit() else row[key]
                row[key] = value
                if not (value.isdigit() and len(value) == width):
                    problems.append(
                        _("«%(column)s» must be a code of %(width)s digits, not «%(value)s»")
                        % {"column": ENDED_COLUMNS[key], "width": width, "value": value}
                    )
            if not row["commune_name"]:
                problems.append(
                    _("«%(column)s» is empty") % {"column": ENDED_COLUMNS["commune_name"]}
                )
            row["kind"] = LEVELS.get(row["level"].casefold())
            if row["kind"] is None:
                problems.append(
                    _("«Cấp» must be Xã, Phường or Thị trấn, not «%(value)s»")
                    % {"value": row["level"]}
                )
            try:
                row["valid_to"] = datetime.date.fromisoformat(row["valid_to"])
            except ValueError:
                problems.append(
                    _("«%(column)s» must be a date (YYYY-MM-DD), not «%(value)s»")
                    % {"column": ENDED_COLUMNS["valid_to"], "value": row["valid_to"]}
                )
            if problems:
                errors.append(
                    _("Row %(row)s: %(problems)s.")
                    % {"row": number, "problems": "; ".join(problems)}
                )
            rows.append({**row, "row": number})
    if errors:
        raise UnitFileInvalid(errors)
    return rows


@transaction.atomic
def import_ended_units(rows: list[dict]) -> Tally:
    """Record units that ended before the list in force, each under its district and pointing at
    its main successor (the unit holding the successor code the day after it ended).

    Matched by code and end date, so the same rows twice change nothing. When another unit holds
    the ended unit's code from the day after (06040 passed from Xã Đại Đồng to Thị trấn Thất Khê
    on 01/12/2024), that unit is marked in force from that day, so that a code names one unit on
    any day. Works before and after later reorganisations.
    """
    districts = District.objects.in_bulk({r["district_code"] for r in rows}, field_name="code")
    codes = {r["commune_code"] for r in rows} | {r["successor_code"] for r in rows}
    by_code: dict[str, list[Commune]] = {}
    for commune in Commune.objects.filter(code__in=codes).order_by("pk"):
        by_code.setdefault(commune.code, []).append(commune)
    errors, plans = [], []
    for row in rows:
        day_after = row["valid_to"] + datetime.timedelta(days=1)
        district = districts.get(row["district_code"])
        successor = _in_force(by_code.get(row["successor_code"], []), day_after)
        if district is None:
            errors.append(
                _(
                    "Row %(row)s: the district %(code)s is not loaded; import the list of "
                    "units first."
                )
                % {"row": row["row"], "code": row["district_code"]}
            )
        if successor is None:
            errors.append(
                _("Row %(row)s: no unit with the code %(code)s was in force on %(date)s.")
                % {
                    "row": row["row"],
                    "code": row["successor_code"],
                    "date": day_after.strftime("%d/%m/%Y"),
                }
            )
        plans.append((row, district, successor, day_after))
    if errors:
        raise UnitFileInvalid(errors)
    tally = Tally()
    for row, district, successor, day_after in plans:
        ended = next(
            (c for c in by_code.get(row["commune_code"], []) if c.valid_to == row["valid_to"]),
            None,
        )
        values = {
            "name": row["commune_name"],
            "province": district.province,
            "district": district,
            "kind": row["kind"],
            "successor": successor,
        }
        if ended is None:
            Commune.objects.create(code=row["commune_code"], valid_to=row["valid_to"], **values)
            tally.add("ended", "created")
        else:
            _apply(ended, values, tally, "ended", created=False)
        holder = _in_force(by_code.get(row["commune_code"], []), day_after)
        if holder is not None and holder.valid_from is None:
            holder.valid_from = day_after
            holder.save(update_fields=["valid_from", "sort_key", "updated_at"])
            tally.started.append((holder.code, holder.name, day_after))
    return tally


# ---------------------------------------------------------------- reorganisation


def read_mapping(path: Path) -> list[dict]:
    """Rows of the old → new mapping: old code, old name, old district, new code, new name."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        expected = ["Mã PX cũ", "Phường Xã cũ", "Mã QH cũ", "Mã PX mới", "Phường Xã mới"]
        if reader.fieldnames != expected:
            raise UnitFileInvalid(
                [_("Row 1: the header must be: %(header)s.") % {"header": ", ".join(expected)}]
            )
        return [
            {
                "old": row["Mã PX cũ"].strip().zfill(5),
                "new": row["Mã PX mới"].strip().zfill(5),
                "row": number,
            }
            for number, row in enumerate(reader, start=2)
        ]


@transaction.atomic
def apply_reorganisation(
    *, units: list[dict], mapping: list[dict], effective: datetime.date
) -> dict[str, int]:
    """End the old units the day before `effective`, create the new ones, link successors.

    Nothing else recorded about an old unit changes. Applying it twice changes nothing.
    """
    province_code = units[0]["province_code"]
    province = Province.objects.get(code=province_code)
    already = Commune.objects.filter(province=province, valid_from=effective)
    if already.exists():
        return {"ended": 0, "created": 0, "unchanged": already.count()}
    ended_on = effective - datetime.timedelta(days=1)
    old = {c.code: c for c in Commune.objects.filter(province=province, valid_to__isnull=True)}
    new_codes = {row["commune_code"] for row in units}
    errors = [
        _("Mapping row %(row)s: the old code %(code)s is not a current unit of the province.")
        % {"row": m["row"], "code": m["old"]}
        for m in mapping
        if m["old"] not in old
    ]
    errors += [
        _("Mapping row %(row)s: the new code %(code)s is not in the list of new units.")
        % {"row": m["row"], "code": m["new"]}
        for m in mapping
        if m["new"] not in new_codes
    ]
    unmapped = sorted(set(old) - {m["old"] for m in mapping})
    if unmapped:
        errors.append(
            _("These current units have no successor in the mapping: %(codes)s.")
            % {"codes": ", ".join(unmapped)}
        )
    if errors:
        raise UnitFileInvalid(errors)
    Commune.objects.filter(pk__in=[c.pk for c in old.values()]).update(
        valid_to=ended_on, updated_at=timezone.now()
    )
    District.objects.filter(province=province, valid_to__isnull=True).update(
        valid_to=ended_on, updated_at=timezone.now()
    )
    created = {
        row["commune_code"]: Commune(
            code=row["commune_code"],
            name=row["commune_name"],
            sort_key=sort_key(row["commune_name"]),
            kind=row["kind"],
            province=province,
            district=None,
            valid_from=effective,
        )
        for row in units
    }
    Commune.objects.bulk_create(created.values())
    for m in mapping:
        old[m["old"]].successor = created[m["new"]]
    Commune.objects.bulk_update(old.values(), ["successor"])
    return {"ended": len(old), "created": len(created), "unchanged": 0}


def read_unit_file(path: Path) -> list[dict]:
    return parse_units(read_rows(path))
