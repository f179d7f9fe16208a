"""Lists of communes by code that a province uploads: which communes a deciding document flags
(ĐBKK, border, ATK), and each commune's group for a criteria set whose targets go by group.

A list is a CSV or XLSX file whose first row names the columns: the communes' GSO codes ("Mã PX",
"Mã xã" or "Mã"), optionally their names ("Phường Xã", "Tên xã" — only to warn when a code names
another commune than the file thinks), and for groups the group ("Nhóm"). The upload is checked
before it is parsed (type, size, rows, columns); every row is checked before anything is saved,
so a file with any bad row changes nothing, and the errors give the row numbers. Excel turns
05971 into 5971: codes are padded back to five digits.

A plan (what would change) is shown before it is applied; applying it locks the communes and
refuses if they changed since, then decides the open assessments of the changed communes again.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from criteria import xlsx
from criteria.models import CommuneGroup, CriteriaSet
from criteria.signals import SetAction
from criteria.workbooks import WorkbookInvalid, check_xlsx_upload, megabytes

from . import services
from .models import Commune, CommuneFlagRecord, CommuneGroupAssignment, Province, User
from .unit_import import UnitFileInvalid

MAX_COLUMNS = 30
CODE_HEADERS = {"ma px", "ma xa", "ma", "ma don vi", "ma dvhc", "code"}
NAME_HEADERS = {"phuong xa", "ten xa", "ten", "ten don vi", "xa", "name"}
GROUP_HEADERS = {"nhom", "nhom xa", "group"}
FLAGS = CommuneFlagRecord.Flag
KIND_PREFIXES = ("thi tran ", "phuong ", "xa ")


class ListChanged(Exception):
    """The communes changed between the preview and the confirmation: nothing was saved."""


# ---------------------------------------------------------------- reading an upload


@dataclass(frozen=True)
class ListRow:
    number: int
    code: str
    name: str = ""
    group: str = ""


def plain(text: str) -> str:
    """Lower case without diacritics, words separated by single spaces: what a user means."""
    text = unicodedata.normalize("NFD", str(text).replace("đ", "d").replace("Đ", "D"))
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text).split())


def row_limit(province: Province) -> int:
    """The most data rows a list of the province's communes may have: twice every unit it has
    had (ended ones included), so a file of codes is never refused for being complete."""
    return 2 * Commune.objects.filter(province=province).count() + 20


def check_list_upload(upload: IO[bytes], *, size: int) -> str:
    """ "xlsx" or "csv", judged from the content before any parsing; refuses anything else, and
    anything larger than the upload limit."""
    if size > settings.UPLOAD_MAX_BYTES:
        raise UnitFileInvalid(
            [
                _("The file is %(size)s MB; the limit is %(limit)s MB.")
                % {"size": megabytes(size), "limit": megabytes(settings.UPLOAD_MAX_BYTES)}
            ]
        )
    upload.seek(0)
    head = upload.read(4)
    upload.seek(0)
    if head == b"PK\x03\x04":
        try:
            check_xlsx_upload(upload, size=size)
        except WorkbookInvalid as exc:
            raise UnitFileInvalid(exc.errors) from None
        return "xlsx"
    content = upload.read(size + 1)
    upload.seek(0)
    try:
        if b"\x00" in content:
            raise UnicodeDecodeError("utf-8", content, 0, 1, "binary")
        content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UnitFileInvalid(
            [
                _(
                    "The file is neither an Excel workbook (.xlsx) nor a CSV file saved as UTF-8. "
                    "Save it as one of them and upload again."
                )
            ]
        ) from None
    return "csv"


def read_list(
    upload: IO[bytes], *, size: int, max_rows: int, with_groups: bool = False
) -> list[ListRow]:
    """The checked rows of an uploaded list; raises UnitFileInvalid listing every bad row."""
    kind = check_list_upload(upload, size=size)
    lines = _xlsx_lines(upload, max_rows) if kind == "xlsx" else _csv_lines(upload, max_rows)
    header = next(lines, None) or []
    columns = _columns(header, with_groups)
    rows, errors, seen = [], [], {}
    data_rows = 0
    for number, cells in enumerate(lines, start=2):
        values = {key: _cell(cells[i]) if i < len(cells) else "" for key, i in columns.items()}
        if not any(values.values()):
            continue
        data_rows += 1
        if data_rows > max_rows:
            raise UnitFileInvalid([_too_many_rows(max_rows)])
        code, problems = _code(values["code"]), []
        if code is None:
            problems.append(
                _("«%(value)s» is not a commune code (5 digits)") % {"value": values["code"][:40]}
            )
        elif code in seen:
            problems.append(
                _("the code %(code)s is already on row %(row)s") % {"code": code, "row": seen[code]}
            )
        if with_groups and not values.get("group"):
            problems.append(_("the group is empty"))
        if problems:
            errors.append(
                _("Row %(row)s: %(problems)s.") % {"row": number, "problems": "; ".join(problems)}
            )
            continue
        seen[code] = number
        rows.append(
            ListRow(number, code, values.get("name", "")[:200], values.get("group", "")[:60])
        )
    if errors:
        raise UnitFileInvalid(xlsx.first_errors(errors))
    if not rows:
        raise UnitFileInvalid([_("The file lists no commune.")])
    return rows


def _too_many_rows(max_rows: int) -> str:
    return _(
        "The file has more than %(limit)s rows of data: a list of the province's communes is "
        "never that long. Check that it is the right file."
    ) % {"limit": max_rows}


def _xlsx_lines(upload: IO[bytes], max_rows: int) -> Iterator[tuple]:
    """The first sheet's rows, read within limits (see criteria.xlsx.read_sheet): the data rows
    with room for blank lines between them, and MAX_COLUMNS."""
    try:
        workbook = xlsx.open_upload(upload)
        try:
            sheet = workbook.sheetnames[0]
            rows = xlsx.read_sheet(
                workbook, sheet, max_rows=2 * max_rows + 100, max_columns=MAX_COLUMNS
            )
        finally:
            workbook.close()
    except WorkbookInvalid as exc:
        raise UnitFileInvalid(exc.errors) from None
    yield from rows


def _csv_lines(upload: IO[bytes], max_rows: int) -> Iterator[list[str]]:
    text = upload.read().decode("utf-8-sig")
    upload.seek(0)
    try:
        dialect = csv.Sniffer().sniff(text.split("\n", 1)[0][:1000], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = enumerate(csv.reader(io.StringIO(text), dialect), start=1)
    while True:
        try:
            number, cells = next(reader)
        except StopIteration:
            return
        except csv.Error:  # a field longer than the csv module takes, a stray quote
            raise UnitFileInvalid(
                [_("Row %(row)s cannot be read as CSV.") % {"row": number + 1}]
            ) from None
        if number > 10 * max_rows + 100:
            raise UnitFileInvalid([_too_many_rows(max_rows)])
        if len(cells) > MAX_COLUMNS:
            raise UnitFileInvalid([_too_many_columns()])
        yield cells


def _too_many_columns() -> str:
    return _("The file has more than %(limit)s columns; a list needs two or three.") % {
        "limit": MAX_COLUMNS
    }


def _columns(header: Iterable, with_groups: bool) -> dict[str, int]:
    positions: dict[str, int] = {}
    for i, label in enumerate(header):
        name = plain(_cell(label))
        for key, accepted in (
            ("code", CODE_HEADERS),
            ("name", NAME_HEADERS),
            ("group", GROUP_HEADERS if with_groups else set()),
        ):
            if name in accepted and key not in positions:
                positions[key] = i
    missing = []
    if "code" not in positions:
        missing.append(_("a column of commune codes named «Mã PX» (or «Mã xã»)"))
    if with_groups and "group" not in positions:
        missing.append(_("a column of groups named «Nhóm»"))
    if missing:
        raise UnitFileInvalid(
            [_("Row 1: the file needs %(missing)s.") % {"missing": _(" and ").join(missing)}]
        )
    return positions


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _code(value: str) -> str | None:
    value = value.replace(" ", "")
    if value.isdigit() and len(value) <= 5:
        return value.zfill(5)
    return None


# ---------------------------------------------------------------- codes → communes


def _resolve(
    rows: list[ListRow], *, province: Province, on: datetime.date
) -> tuple[dict[int, Commune], dict[int, list[str]]]:
    """The commune of each row (by row number) among the units in force on `on`, and the
    problems of each row whose code names no such unit or a unit of another province."""
    found = {
        c.code: c
        for c in Commune.objects.current(on)
        .filter(code__in=[r.code for r in rows])
        .select_related("province", "district")
    }
    communes, problems = {}, {}
    for row in rows:
        commune = found.get(row.code)
        if commune is None:
            problems[row.number] = [
                _("no unit has the code %(code)s on %(date)s")
                % {"code": row.code, "date": on.strftime("%d/%m/%Y")}
            ]
        elif commune.province_id != province.pk:
            problems[row.number] = [
                _("%(code)s is %(name)s of %(other)s, not of %(province)s")
                % {
                    "code": row.code,
                    "name": commune.name,
                    "other": commune.province.name,
                    "province": province.name,
                }
            ]
        else:
            communes[row.number] = commune
    return communes, problems


def _refuse(problems: dict[int, list[str]]) -> None:
    """All-or-nothing: every problem, in row order, and nothing saved."""
    if problems:
        raise UnitFileInvalid(
            xlsx.first_errors(
                [
                    _("Row %(row)s: %(problems)s.") % {"row": number, "problems": "; ".join(found)}
                    for number, found in sorted(problems.items())
                ]
            )
        )


def _name_warnings(rows: list[ListRow], communes: dict[int, Commune]) -> list[str]:
    """Rows whose name in the file is not the name of the commune their code names."""

    def bare(name: str) -> str:
        name = plain(name)
        return next((name[len(p) :] for p in KIND_PREFIXES if name.startswith(p)), name)

    return [
        _("Row %(row)s: the file says «%(file)s», but %(code)s is «%(name)s».")
        % {"row": r.number, "file": r.name, "code": r.code, "name": communes[r.number].name}
        for r in rows
        if r.name and bare(r.name) != bare(communes[r.number].name)
    ]


# ---------------------------------------------------------------- flags


@dataclass(frozen=True)
class FlagChange:
    commune: Commune
    value: bool


@dataclass
class FlagPlan:
    """What importing a list of flagged communes would change."""

    province: Province
    flag: str
    document: str
    valid_from: datetime.date
    valid_to: datetime.date | None
    complete: bool
    listed: int
    changes: list[FlagChange] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def flag_label(self) -> str:
        return FLAGS(self.flag).label

    @property
    def unchanged(self) -> int:
        return self.listed - sum(1 for c in self.changes if c.value)

    def fingerprint(self) -> list[list]:
        """What the preview showed, to compare with the plan at confirmation."""
        return sorted([c.commune.pk, c.value] for c in self.changes)


def plan_flags(
    rows: list[ListRow],
    *,
    province: Province,
    flag: str,
    document: str,
    valid_from: datetime.date,
    valid_to: datetime.date | None = None,
    complete: bool = False,
) -> FlagPlan:
    """Set `flag` on the listed communes of the province — the units in force on `valid_from`,
    the day the document takes effect — and, for a complete list, clear it on the others."""
    if flag not in FLAGS.values:
        raise ValueError(f"not a commune flag: {flag}")
    if valid_to is not None and valid_to < valid_from:
        raise UnitFileInvalid([_("The end date must not be before the start date.")])
    communes, problems = _resolve(rows, province=province, on=valid_from)
    _refuse(problems)
    plan = FlagPlan(province, flag, document, valid_from, valid_to, complete, listed=len(rows))
    plan.changes = [FlagChange(c, True) for c in communes.values() if not getattr(c, flag)]
    if complete:
        others = (
            Commune.objects.current(valid_from)
            .filter(province=province, **{flag: True})
            .exclude(pk__in=[c.pk for c in communes.values()])
            .select_related("district")
        )
        plan.changes += [FlagChange(c, False) for c in others]
    plan.warnings = _name_warnings(rows, communes)
    return plan


@transaction.atomic
def apply_flags(plan: FlagPlan, *, user: User) -> int:
    """Save the plan with a record of the deciding document per changed commune, and decide the
    changed communes' open assessments again. Raises ListChanged if a flag moved meanwhile."""
    locked = Commune.objects.select_for_update().in_bulk([c.commune.pk for c in plan.changes])
    if any(
        c.commune.pk not in locked or getattr(locked[c.commune.pk], plan.flag) == c.value
        for c in plan.changes
    ):
        raise ListChanged
    now = timezone.now()
    for change in plan.changes:
        commune = locked[change.commune.pk]
        setattr(commune, plan.flag, change.value)
        commune.updated_at = now
    Commune.objects.bulk_update(locked.values(), [plan.flag, "updated_at"], batch_size=500)
    CommuneFlagRecord.objects.bulk_create(
        CommuneFlagRecord(
            commune_id=c.commune.pk,
            flag=plan.flag,
            value=c.value,
            document=plan.document,
            valid_from=plan.valid_from,
            valid_to=plan.valid_to,
            recorded_by=user,
            recorded_at=now,
        )
        for c in plan.changes
    )
    if plan.changes:
        services.recompute_open_assessments(
            user=user, cause=services.Cause.FLAGS, communes=list(locked.values())
        )
    return len(plan.changes)


# ---------------------------------------------------------------- commune groups


def set_with_groups(set_code: str) -> CriteriaSet:
    """The version of a set whose groups a list names: the active one, else the latest."""
    versions = CriteriaSet.objects.filter(code=set_code).prefetch_related("commune_groups")
    criteria_set = min(
        versions, key=lambda s: (s.status != CriteriaSet.Status.ACTIVE, -s.version), default=None
    )
    if criteria_set is None:
        raise UnitFileInvalid([_("There is no criteria set %(code)s.") % {"code": set_code}])
    if criteria_set.target_basis != CriteriaSet.TargetBasis.COMMUNE_GROUP:
        raise UnitFileInvalid(
            [
                _("The targets of %(set)s go by region: it has no commune groups.")
                % {"set": criteria_set.name}
            ]
        )
    return criteria_set


def group_codes_by_typed_form(groups: Iterable[CommuneGroup]) -> dict[str, str]:
    """Each form a user may type for a group → the group's code: its code ("nhom-1"), its name
    ("Nhóm 1"), and its number ("1"), in any case, with or without diacritics. A form that
    two groups share names neither."""
    claims: dict[str, set[str]] = {}
    for group in groups:
        for form in (plain(group.code), plain(group.name)):
            claims.setdefault(form.replace(" ", ""), set()).add(group.code)
            number = re.search(r"(\d+)$", form)
            if number:
                claims.setdefault(str(int(number.group(1))), set()).add(group.code)
    return {form: codes.pop() for form, codes in claims.items() if len(codes) == 1}


def _group_code(typed: str, forms: dict[str, str]) -> str | None:
    form = plain(typed).replace(" ", "")
    if form in forms:
        return forms[form]
    number = re.fullmatch(r"(?:nhom|nhomxa|group|n)?0*(\d+)", form)
    return forms.get(str(int(number.group(1)))) if number else None


@dataclass(frozen=True)
class GroupChange:
    commune: Commune
    old: str  # the group code before, "" for none
    new: str


@dataclass
class GroupPlan:
    """What importing a list of commune groups would change."""

    province: Province
    criteria_set: CriteriaSet
    document: str
    listed: int
    changes: list[GroupChange] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def unchanged(self) -> int:
        return self.listed - len(self.changes)

    def changes_with_names(self) -> list[tuple[GroupChange, str, str]]:
        """Each change with the names of the groups before ("" for none) and after."""
        names = {g.code: g.name for g in self.criteria_set.commune_groups.all()}
        return [(c, names.get(c.old, c.old), names.get(c.new, c.new)) for c in self.changes]

    def fingerprint(self) -> list[list]:
        return sorted([c.commune.pk, c.old, c.new] for c in self.changes)


def plan_groups(
    rows: list[ListRow], *, province: Province, set_code: str, document: str = ""
) -> GroupPlan:
    """Put each listed commune of the province (the units in force today) in its group of the
    set; communes not listed keep theirs."""
    criteria_set = set_with_groups(set_code)
    groups = list(criteria_set.commune_groups.all())
    forms = group_codes_by_typed_form(groups)
    communes, problems = _resolve(rows, province=province, on=timezone.localdate())
    accepted = ", ".join(f"{g.code} ({g.name})" for g in groups)
    for row in rows:
        commune = communes.get(row.number)
        found = problems.setdefault(row.number, [])
        if _group_code(row.group, forms) is None:
            found.append(
                _("«%(group)s» is not a group of %(set)s; write one of: %(groups)s")
                % {"group": row.group, "set": criteria_set.name, "groups": accepted}
            )
        if commune and commune.kind != Commune.Kind.RURAL and not criteria_set.includes_urban_units:
            found.append(
                _("%(name)s is not a xã, and %(set)s scores xã only")
                % {"name": commune.name, "set": criteria_set.name}
            )
    _refuse({number: found for number, found in problems.items() if found})
    before = dict(
        CommuneGroupAssignment.objects.filter(
            set_code=criteria_set.code, commune__in=list(communes.values())
        ).values_list("commune_id", "group_code")
    )
    plan = GroupPlan(province, criteria_set, document, listed=len(rows))
    for row in rows:
        commune, new = communes[row.number], _group_code(row.group, forms)
        if before.get(commune.pk, "") != new:
            plan.changes.append(GroupChange(commune, before.get(commune.pk, ""), new))
    plan.warnings = _name_warnings(rows, communes)
    return plan


@transaction.atomic
def apply_groups(plan: GroupPlan, *, user: User) -> int:
    """Save the plan and decide the changed communes' open assessments again. Raises ListChanged
    if a listed commune's group moved meanwhile."""
    pks = [c.commune.pk for c in plan.changes]
    code = plan.criteria_set.code
    list(Commune.objects.select_for_update().filter(pk__in=pks).values_list("pk", flat=True))
    existing = {
        a.commune_id: a
        for a in CommuneGroupAssignment.objects.select_for_update().filter(
            set_code=code, commune_id__in=pks
        )
    }
    if any(
        (existing[c.commune.pk].group_code if c.commune.pk in existing else "") != c.old
        for c in plan.changes
    ):
        raise ListChanged
    now = timezone.now()
    updated = []
    for change in plan.changes:
        if change.commune.pk in existing:
            assignment = existing[change.commune.pk]
            assignment.group_code, assignment.document = change.new, plan.document
            assignment.updated_by, assignment.updated_at = user, now
            updated.append(assignment)
    CommuneGroupAssignment.objects.bulk_update(
        updated, ["group_code", "document", "updated_by", "updated_at"], batch_size=500
    )
    CommuneGroupAssignment.objects.bulk_create(
        CommuneGroupAssignment(
            commune_id=c.commune.pk,
            set_code=code,
            group_code=c.new,
            document=plan.document,
            updated_by=user,
        )
        for c in plan.changes
        if c.commune.pk not in existing
    )
    if plan.changes:
        services.recompute_open_assessments(
            user=user, cause=services.Cause.GROUP, communes=[c.commune for c in plan.changes]
        )
    return len(plan.changes)


def keep_groups_in_province_copy(
    sender, *, criteria_set: CriteriaSet, user=None, action: str, details=None, **kwargs
) -> None:
    """criteria.signals.set_changed: a province copied a national set into its own (a new code).
    Groups are kept by set code, so the province's communes would have none for the copy: they
    get the groups they have for the national set. Groups already given for the copy stay."""
    if (
        action != SetAction.COPY_TO_PROVINCE
        or criteria_set.target_basis != CriteriaSet.TargetBasis.COMMUNE_GROUP
    ):
        return
    have = CommuneGroupAssignment.objects.filter(set_code=criteria_set.code)
    added = CommuneGroupAssignment.objects.bulk_create(
        CommuneGroupAssignment(
            commune_id=a.commune_id,
            set_code=criteria_set.code,
            group_code=a.group_code,
            document=a.document,
            updated_by=user,
        )
        for a in CommuneGroupAssignment.objects.filter(
            set_code=details["from_code"],
            commune__province__code=criteria_set.owner_province_code,
        ).exclude(commune_id__in=have.values("commune_id"))
    )
    if added and user is not None:  # an earlier version of the copy may be in use already
        services.recompute_open_assessments(
            user=user,
            cause=services.Cause.GROUP,
            communes=[a.commune_id for a in added],
        )
