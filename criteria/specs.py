"""A criteria set as plain data (a "spec"), and the one place that writes a spec to the database.

Shipped JSON files and uploaded workbooks both become a spec; a set in the database can be turned
back into one. Two specs are compared as plain data, which is how loading the same file twice
changes nothing and how a changed file for an active set is recognised and refused.
"""

from __future__ import annotations

import datetime
import json
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.db.backends.base.operations import BaseDatabaseOperations
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

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

DATA_DIR = Path(__file__).resolve().parent / "data"
REGIONS_FILE = DATA_DIR / "regions.json"


# The commune flags a special target rule may name: fields of assessments.Commune, which this app
# does not import, with what they mean.
COMMUNE_FLAGS = {
    "is_extremely_difficult": gettext_lazy("extremely difficult communes (ĐBKK)"),
    "is_safe_zone_poor": gettext_lazy(
        "safe-zone (ATK) communes of poor districts and of districts that left poverty in 2018–2020"
    ),
    "is_border": gettext_lazy("border communes"),
}


class SetLocked(Exception):
    """The spec differs from a set that is no longer a draft."""


class SpecInvalid(ValueError):
    """A spec holds values its fields cannot store; `problems` names each, in words."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def canonical_number(value: Any) -> str | None:
    """A threshold as a canonical string ("66.67", "100"), or None for no threshold.

    A number too large or too small to be a threshold stays in scientific notation ("1E+20"):
    written out, "1E+999999999" would be a billion characters. `value_problem` refuses it."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    number = Decimal(str(value).strip().replace(",", "."))
    if not number.is_finite():
        raise InvalidOperation(value)
    if not number.is_zero() and not -20 <= number.adjusted() <= 20:
        return str(number)
    return f"{number.normalize():f}"


# The longest text a text field of a set takes (notes, guidance, a legal title): a page shows
# every one of them at once.
TEXT_MAX = 4000


def value_problem(model: type[models.Model], name: str, value: Any) -> str | None:
    """Why `value` cannot be stored in the field `name` of `model`, in words; None if it can.

    The field's own validators judge (length, range, digits, slug), a text field takes
    TEXT_MAX characters, and no text may hold NUL (PostgreSQL cannot store it)."""
    if value is None or value == "":
        return None
    field = model._meta.get_field(name)
    if isinstance(value, str):
        if "\x00" in value:
            return _("it holds the NUL character")
        if isinstance(field, models.TextField) and len(value) > TEXT_MAX:
            return _("it has %(length)s characters; at most %(limit)s are allowed.") % {
                "length": len(value),
                "limit": TEXT_MAX,
            }
    try:
        value = field.to_python(value)
        field.run_validators(value)
        if isinstance(field, models.IntegerField):
            # the field's range on every database (SQLite's own reaches 64 bits)
            low, high = BaseDatabaseOperations.integer_field_ranges[field.get_internal_type()]
            MinValueValidator(low)(value)
            MaxValueValidator(high)(value)
    except ValidationError as error:
        return " ".join(error.messages)
    return None


def spec_problems(spec: dict) -> list[str]:
    """Every value of a canonical spec that its field cannot store, named by where it is."""
    problems = []

    def check(where: str, model: type[models.Model], row: dict, names: tuple[str, ...]) -> None:
        for name in names:
            problem = value_problem(model, name, row.get(name))
            if problem:
                problems.append(f"{where}, {name}: {problem}")

    notes = ("source", "to_confirm_note")
    set_fields = ("code", "version", "name", "year_from", "year_to", "national_target_percent")
    set_fields += ("notes", "to_confirm_note", "special_region_basis")
    check("set", CriteriaSet, spec, set_fields)
    legal = {f"legal_{key}": value for key, value in spec["legal"].items() if key != "date"}
    check("set", CriteriaSet, legal, tuple(legal))
    target = spec["national_target_percent"]
    if target is not None and not 0 <= Decimal(target) <= 100:
        problem = _("a percentage is from 0 to 100.")
        problems.append(f"set, national_target_percent: {problem}")
    for group in spec["commune_groups"]:
        check(f"commune group {group['code']}", CommuneGroup, group, ("code", "name", "definition"))
    for group in spec["groups"]:
        check(f"group {group['number']}", CriterionGroup, group, ("number", "name"))
        for criterion in group["criteria"]:
            where = f"criterion {criterion['number']}"
            check(where, Criterion, criterion, ("number", "name", "to_confirm_note"))
            for indicator in criterion["indicators"]:
                where = f"indicator {indicator['code']}"
                texts = ("code", "content", "guidance", "evidence_expected", "unit", *notes)
                check(where, Indicator, indicator, texts)
                for c in indicator["conditions"]:
                    texts = ("code", "text", "alternative_group", "threshold", *notes)
                    check(f"{where}, condition {c['code']}", Condition, c, texts)
                for t in indicator["targets"]:
                    column = t["region"] or t["commune_group"] or "general"
                    check(f"{where}, target {column}", Target, t, ("threshold", "text", *notes))
    return problems


def shipped_set_files() -> list[Path]:
    return sorted(p for p in DATA_DIR.glob("*.json") if p != REGIONS_FILE)


def load_regions() -> int:
    """Create or update the regions from the shipped file; returns how many changed."""
    changed = 0
    for row in json.loads(REGIONS_FILE.read_text(encoding="utf-8")):
        region, created = Region.objects.get_or_create(
            code=row["code"], defaults={"name": row["name"], "order": row["order"]}
        )
        if not created and (region.name, region.order) != (row["name"], row["order"]):
            region.name, region.order = row["name"], row["order"]
            region.save()
            changed += 1
        changed += created
    return changed


def read_spec_file(path: Path) -> dict:
    return normalize_spec(json.loads(path.read_text(encoding="utf-8")))


def normalize_spec(raw: dict) -> dict:
    """The canonical form of a spec: every key present, strings stripped, numbers as text.

    Raises SpecInvalid (a ValueError) if a value does not fit its field."""
    spec = _normalized(raw)
    problems = spec_problems(spec)
    if problems:
        raise SpecInvalid(problems)
    return spec


def _normalized(raw: dict) -> dict:
    legal = raw.get("legal") or {}

    def text(value: Any) -> str:
        return "" if value is None else str(value).strip()

    def target(t: dict) -> dict:
        to_confirm = bool(t.get("to_confirm"))
        return {
            "region": t.get("region") or None,
            "commune_group": t.get("commune_group") or None,
            "threshold": canonical_number(t.get("threshold")),
            "text": text(t.get("text")),
            "source": text(t.get("source")),
            "to_confirm": to_confirm,
            # a note explains a mark: without the mark it says nothing (and a workbook has no
            # cell for it)
            "to_confirm_note": text(t.get("to_confirm_note")) if to_confirm else "",
        }

    def condition(c: dict) -> dict:
        return {
            "code": text(c["code"]),
            "text": text(c["text"]),
            "scope": c.get("scope") or Condition.Scope.COMMUNE,
            "alternative_group": text(c.get("alternative_group")),
            "threshold": canonical_number(c.get("threshold")),
            "source": text(c.get("source")),
            "to_confirm": bool(c.get("to_confirm")),
            "to_confirm_note": text(c.get("to_confirm_note")),
        }

    def indicator(i: dict) -> dict:
        return {
            "code": text(i["code"]),
            "content": text(i["content"]),
            "guidance": text(i.get("guidance")),
            "evidence_expected": text(i.get("evidence_expected")),
            "value_type": i["value_type"],
            "unit": text(i.get("unit")),
            "comparison": i.get("comparison") or Indicator.Comparison.AT_LEAST,
            "source": text(i.get("source")),
            "to_confirm": bool(i.get("to_confirm")),
            "to_confirm_note": text(i.get("to_confirm_note")),
            "conditions": [condition(c) for c in i.get("conditions", [])],
            "targets": sorted(
                (target(t) for t in i.get("targets", [])),
                key=lambda t: (t["region"] or "", t["commune_group"] or ""),
            ),
        }

    return {
        "code": text(raw["code"]),
        "version": int(raw.get("version") or 1),
        "name": text(raw["name"]),
        "kind": raw["kind"],
        "year_from": int(raw["year_from"]),
        "year_to": int(raw["year_to"]),
        "target_basis": raw.get("target_basis") or CriteriaSet.TargetBasis.REGION,
        "includes_urban_units": bool(raw.get("includes_urban_units")),
        "national_target_percent": canonical_number(raw.get("national_target_percent")),
        "legal": {
            "number": text(legal.get("number")),
            "date": text(legal.get("date")) or None,
            "issuer": text(legal.get("issuer")),
            "title": text(legal.get("title")),
        },
        "notes": text(raw.get("notes")),
        "to_confirm": bool(raw.get("to_confirm")),
        "to_confirm_note": text(raw.get("to_confirm_note")),
        "special_region": text(raw.get("special_region")) or None,
        "special_region_flags": [text(f) for f in raw.get("special_region_flags") or []],
        "special_region_basis": text(raw.get("special_region_basis")),
        "status": raw.get("status") or CriteriaSet.Status.DRAFT,
        "commune_groups": [
            {
                "code": text(g["code"]),
                "name": text(g["name"]),
                "definition": text(g.get("definition")),
            }
            for g in raw.get("commune_groups", [])
        ],
        "groups": [
            {
                "number": text(g["number"]),
                "name": text(g["name"]),
                "criteria": [
                    {
                        "number": int(c["number"]),
                        "name": text(c["name"]),
                        "to_confirm": bool(c.get("to_confirm")),
                        "to_confirm_note": text(c.get("to_confirm_note")),
                        "indicators": [indicator(i) for i in c.get("indicators", [])],
                    }
                    for c in g.get("criteria", [])
                ],
            }
            for g in raw.get("groups", [])
        ],
    }


def spec_from_set(criteria_set: CriteriaSet) -> dict:
    """The set as a canonical spec (reads it with the detail page's prefetches)."""
    cs = (
        CriteriaSet.objects.for_detail_page()
        .select_related("special_region")
        .get(pk=criteria_set.pk)
    )
    raw = {
        "code": cs.code,
        "version": cs.version,
        "name": cs.name,
        "kind": cs.kind,
        "year_from": cs.year_from,
        "year_to": cs.year_to,
        "target_basis": cs.target_basis,
        "includes_urban_units": cs.includes_urban_units,
        "national_target_percent": cs.national_target_percent,
        "legal": {
            "number": cs.legal_number,
            "date": cs.legal_date.isoformat() if cs.legal_date else None,
            "issuer": cs.legal_issuer,
            "title": cs.legal_title,
        },
        "notes": cs.notes,
        "to_confirm": cs.to_confirm,
        "to_confirm_note": cs.to_confirm_note,
        "special_region": cs.special_region.code if cs.special_region else None,
        "special_region_flags": cs.special_region_flags,
        "special_region_basis": cs.special_region_basis,
        "status": cs.status,
        "commune_groups": [
            {"code": g.code, "name": g.name, "definition": g.definition}
            for g in cs.commune_groups.all()
        ],
        "groups": [
            {
                "number": group.number,
                "name": group.name,
                "criteria": [
                    {
                        "number": criterion.number,
                        "name": criterion.name,
                        "to_confirm": criterion.to_confirm,
                        "to_confirm_note": criterion.to_confirm_note,
                        "indicators": [
                            _indicator_as_dict(indicator)
                            for indicator in criterion.indicators.all()
                        ],
                    }
                    for criterion in group.criteria.all()
                ],
            }
            for group in cs.groups.all()
        ],
    }
    return _normalized(raw)  # what is stored is what it is, even where a spec would be refused


def _indicator_as_dict(indicator: Indicator) -> dict:
    fields = ["code", "content", "guidance", "evidence_expected", "value_type", "unit"]
    fields += ["comparison", "source", "to_confirm", "to_confirm_note"]
    data = {name: getattr(indicator, name) for name in fields}
    data["conditions"] = [
        {
            name: getattr(c, name)
            for name in ["code", "text", "scope", "alternative_group", "threshold"]
            + ["source", "to_confirm", "to_confirm_note"]
        }
        for c in indicator.conditions.all()
    ]
    data["targets"] = [
        {
            "region": t.region.code if t.region else None,
            "commune_group": t.commune_group.code if t.commune_group else None,
            "threshold": t.threshold,
            "text": t.text,
            "source": t.source,
            "to_confirm": t.to_confirm,
            "to_confirm_note": t.to_confirm_note,
        }
        for t in indicator.targets.all()
    ]
    return data


# Fields that say where a part of the set comes from or that it is not confirmed yet. They change
# no result, so shipped data may correct them on a set that is already in use (see save_spec).
SET_ANNOTATIONS = ("notes", "to_confirm", "to_confirm_note", "special_region_basis")
ROW_ANNOTATIONS = ("source", "to_confirm", "to_confirm_note")
CRITERION_ANNOTATIONS = ("to_confirm", "to_confirm_note")
GROUP_ANNOTATIONS = ("definition",)
# The special target rule changes results: on a set in use it may only be filled in where it is
# still empty (the rule used to live in the scoring code), never changed.
SPECIAL_RULE = ("special_region", "special_region_flags")


def content_of(spec: dict) -> dict:
    """The parts of a spec that decide results: all but the status, the annotations and the
    special rule."""

    def strip(row: dict, names: tuple[str, ...]) -> dict:
        return {key: value for key, value in row.items() if key not in names}

    def indicator(i: dict) -> dict:
        return {
            **strip(i, ROW_ANNOTATIONS),
            "conditions": [strip(c, ROW_ANNOTATIONS) for c in i["conditions"]],
            "targets": [strip(t, ROW_ANNOTATIONS) for t in i["targets"]],
        }

    content = strip(spec, ("status", *SET_ANNOTATIONS, *SPECIAL_RULE))
    content["commune_groups"] = [strip(g, GROUP_ANNOTATIONS) for g in spec["commune_groups"]]
    content["groups"] = [
        {
            **g,
            "criteria": [
                {
                    **strip(c, CRITERION_ANNOTATIONS),
                    "indicators": [indicator(i) for i in c["indicators"]],
                }
                for c in g["criteria"]
            ],
        }
        for g in spec["groups"]
    ]
    return content


def _without_status(spec: dict) -> dict:
    return {key: value for key, value in spec.items() if key != "status"}


def _rule_of(spec: dict) -> tuple:
    return spec["special_region"], spec["special_region_flags"]


@transaction.atomic
def save_spec(
    spec: dict,
    *,
    status: str | None = None,
    replace_draft: bool = True,
    annotate_locked: bool = False,
) -> tuple[CriteriaSet, str]:
    """Write a canonical spec; returns the set and what happened to it.

    The outcome is "created", "updated" (a draft rewritten), "unchanged", "kept" (a draft that
    differs, left alone because `replace_draft` is false) or "annotated" (a set in use whose
    sources, marks and notes were corrected, with `annotate_locked`). Otherwise a set that is
    not a draft is never changed: a different spec raises SetLocked. `status` overrides the
    spec's status for a new set (uploads always arrive as drafts).
    """
    existing = (
        CriteriaSet.objects.select_for_update()
        .filter(code=spec["code"], version=spec["version"])
        .first()
    )
    if existing is None:
        criteria_set = CriteriaSet(code=spec["code"], version=spec["version"])
        criteria_set.status = status or spec["status"]
        _write(criteria_set, spec)
        return criteria_set, "created"
    current = spec_from_set(existing)
    if _without_status(current) == _without_status(spec):
        return existing, "unchanged"
    if existing.is_editable:
        if not replace_draft:
            return existing, "kept"
        _write(existing, spec)
        return existing, "updated"
    rule_changes = _rule_of(current) != _rule_of(spec) and current["special_region"] is not None
    if annotate_locked and content_of(current) == content_of(spec) and not rule_changes:
        _annotate(existing, spec)
        return existing, "annotated"
    raise SetLocked(
        _(
            "The set %(code)s version %(version)s is %(status)s and cannot be changed. "
            "Copy it as a new version, change the copy, then activate it."
        )
        % {
            "code": existing.code,
            "version": existing.version,
            "status": existing.get_status_display().lower(),
        }
    )


def _set_fields(cs: CriteriaSet, spec: dict) -> None:
    cs.notes = spec["notes"]
    cs.to_confirm, cs.to_confirm_note = spec["to_confirm"], spec["to_confirm_note"]
    cs.special_region = (
        Region.objects.get(code=spec["special_region"]) if spec["special_region"] else None
    )
    cs.special_region_flags = spec["special_region_flags"]
    cs.special_region_basis = spec["special_region_basis"]


def _annotate(cs: CriteriaSet, spec: dict) -> None:
    """Copy the annotations (and a special rule that was empty) of a spec onto a set of the
    same content, row by row, keeping every row: assessments refer to them."""
    _set_fields(cs, spec)
    cs.save()
    cs = CriteriaSet.objects.for_detail_page().get(pk=cs.pk)

    def copy(rows: list, specs: list[dict], names: tuple[str, ...]) -> list:
        for row, row_spec in zip(rows, specs, strict=True):
            for name in names:
                setattr(row, name, row_spec[name])
        return rows

    def target_key(t: Target | dict) -> tuple:
        if isinstance(t, dict):
            return t["region"] or "", t["commune_group"] or ""
        return (
            t.region.code if t.region else "",
            t.commune_group.code if t.commune_group else "",
        )

    groups = copy(list(cs.commune_groups.all()), spec["commune_groups"], GROUP_ANNOTATIONS)
    criteria, indicators, conditions, targets = [], [], [], []
    for group, group_spec in zip(cs.groups.all(), spec["groups"], strict=True):
        for criterion, c_spec in zip(group.criteria.all(), group_spec["criteria"], strict=True):
            criteria += copy([criterion], [c_spec], CRITERION_ANNOTATIONS)
            for indicator, i_spec in zip(
                criterion.indicators.all(), c_spec["indicators"], strict=True
            ):
                indicators += copy([indicator], [i_spec], ROW_ANNOTATIONS)
                conditions += copy(
                    list(indicator.conditions.all()), i_spec["conditions"], ROW_ANNOTATIONS
                )
                targets += copy(
                    sorted(indicator.targets.all(), key=target_key),
                    sorted(i_spec["targets"], key=target_key),
                    ROW_ANNOTATIONS,
                )
    CommuneGroup.objects.bulk_update(groups, list(GROUP_ANNOTATIONS))
    Criterion.objects.bulk_update(criteria, list(CRITERION_ANNOTATIONS))
    for model, rows in ((Indicator, indicators), (Condition, conditions), (Target, targets)):
        model.objects.bulk_update(rows, list(ROW_ANNOTATIONS))


def _write(cs: CriteriaSet, spec: dict) -> None:
    legal = spec["legal"]
    cs.name = spec["name"]
    cs.kind = spec["kind"]
    cs.year_from, cs.year_to = spec["year_from"], spec["year_to"]
    cs.target_basis = spec["target_basis"]
    cs.includes_urban_units = spec["includes_urban_units"]
    cs.national_target_percent = spec["national_target_percent"]
    cs.legal_number, cs.legal_issuer, cs.legal_title = (
        legal["number"],
        legal["issuer"],
        legal["title"],
    )
    cs.legal_date = datetime.date.fromisoformat(legal["date"]) if legal["date"] else None
    _set_fields(cs, spec)
    cs.save()
    # A draft is rewritten whole: nothing refers to a draft's rows yet.
    cs.groups.all().delete()
    cs.commune_groups.all().delete()
    regions = {r.code: r for r in Region.objects.all()}
    commune_groups = {
        g["code"]: CommuneGroup.objects.create(
            criteria_set=cs,
            code=g["code"],
            name=g["name"],
            definition=g["definition"],
            order=order,
        )
        for order, g in enumerate(spec["commune_groups"], start=1)
    }
    conditions, targets = [], []
    for g_order, g in enumerate(spec["groups"], start=1):
        group = CriterionGroup.objects.create(
            criteria_set=cs, number=g["number"], name=g["name"], order=g_order
        )
        for c_order, c in enumerate(g["criteria"], start=1):
            criterion = Criterion.objects.create(
                criteria_set=cs,
                group=group,
                number=c["number"],
                name=c["name"],
                to_confirm=c["to_confirm"],
                to_confirm_note=c["to_confirm_note"],
                order=c_order,
            )
            for i_order, i in enumerate(c["indicators"], start=1):
                fields = {k: v for k, v in i.items() if k not in {"conditions", "targets"}}
                indicator = Indicator.objects.create(criterion=criterion, order=i_order, **fields)
                conditions += [
                    Condition(indicator=indicator, order=order, **condition)
                    for order, condition in enumerate(i["conditions"], start=1)
                ]
                targets += [
                    Target(
                        indicator=indicator,
                        region=regions[t["region"]] if t["region"] else None,
                        commune_group=commune_groups[t["commune_group"]]
                        if t["commune_group"]
                        else None,
                        threshold=t["threshold"],
                        text=t["text"],
                        source=t["source"],
                        to_confirm=t["to_confirm"],
                        to_confirm_note=t["to_confirm_note"],
                    )
                    for t in i["targets"]
                ]
    Condition.objects.bulk_create(conditions)
    Target.objects.bulk_create(targets)
