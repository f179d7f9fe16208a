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

from django.db import transaction
from django.utils.translation import gettext as _

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


class SetLocked(Exception):
    """The spec differs from a set that is no longer a draft."""


def canonical_number(value: Any) -> str | None:
    """A threshold as a canonical string ("66.67", "100"), or None for no threshold."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    number = Decimal(str(value).strip().replace(",", "."))
    if not number.is_finite():
        raise InvalidOperation(value)
    text = f"{number.normalize():f}"
    return text


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
    """The canonical form of a spec: every key present, strings stripped, numbers as text."""
    legal = raw.get("legal") or {}

    def text(value: Any) -> str:
        return "" if value is None else str(value).strip()

    def target(t: dict) -> dict:
        return {
            "region": t.get("region") or None,
            "commune_group": t.get("commune_group") or None,
            "threshold": canonical_number(t.get("threshold")),
            "text": text(t.get("text")),
        }

    def condition(c: dict) -> dict:
        return {
            "code": text(c["code"]),
            "text": text(c["text"]),
            "scope": c.get("scope") or Condition.Scope.COMMUNE,
            "alternative_group": text(c.get("alternative_group")),
            "threshold": canonical_number(c.get("threshold")),
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
        "status": raw.get("status") or CriteriaSet.Status.DRAFT,
        "commune_groups": [
            {"code": text(g["code"]), "name": text(g["name"])}
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
    cs = CriteriaSet.objects.for_detail_page().get(pk=criteria_set.pk)
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
        "status": cs.status,
        "commune_groups": [{"code": g.code, "name": g.name} for g in cs.commune_groups.all()],
        "groups": [
            {
                "number": group.number,
                "name": group.name,
                "criteria": [
                    {
                        "number": criterion.number,
                        "name": criterion.name,
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
    return normalize_spec(raw)


def _indicator_as_dict(indicator: Indicator) -> dict:
    fields = ["code", "content", "guidance", "evidence_expected", "value_type", "unit"]
    fields += ["comparison", "to_confirm", "to_confirm_note"]
    data = {name: getattr(indicator, name) for name in fields}
    data["conditions"] = [
        {
            name: getattr(c, name)
            for name in ["code", "text", "scope", "alternative_group", "threshold"]
            + ["to_confirm", "to_confirm_note"]
        }
        for c in indicator.conditions.all()
    ]
    data["targets"] = [
        {
            "region": t.region.code if t.region else None,
            "commune_group": t.commune_group.code if t.commune_group else None,
            "threshold": t.threshold,
            "text": t.text,
        }
        for t in indicator.targets.all()
    ]
    return data


def content_of(spec: dict) -> dict:
    """The parts of a spec that a locked set may not change (everything but its status)."""
    return {key: value for key, value in spec.items() if key != "status"}


@transaction.atomic
def save_spec(spec: dict, *, status: str | None = None) -> tuple[CriteriaSet, str]:
    """Write a canonical spec; returns the set and "created", "updated" or "unchanged".

    A set that exists and is not a draft is never changed: a different spec raises SetLocked.
    `status` overrides the spec's status for a new set (uploads always arrive as drafts).
    """
    existing = (
        CriteriaSet.objects.select_for_update()
        .filter(code=spec["code"], version=spec["version"])
        .first()
    )
    if existing is not None:
        if content_of(spec_from_set(existing)) == content_of(spec):
            return existing, "unchanged"
        if not existing.is_editable:
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
        _write(existing, spec)
        return existing, "updated"
    criteria_set = CriteriaSet(code=spec["code"], version=spec["version"])
    criteria_set.status = status or spec["status"]
    _write(criteria_set, spec)
    return criteria_set, "created"


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
    cs.notes = spec["notes"]
    cs.save()
    # A draft is rewritten whole: nothing refers to a draft's rows yet.
    cs.groups.all().delete()
    cs.commune_groups.all().delete()
    regions = {r.code: r for r in Region.objects.all()}
    commune_groups = {
        g["code"]: CommuneGroup.objects.create(
            criteria_set=cs, code=g["code"], name=g["name"], order=order
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
                criteria_set=cs, group=group, number=c["number"], name=c["name"], order=c_order
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
                    )
                    for t in i["targets"]
                ]
    Condition.objects.bulk_create(conditions)
    Target.objects.bulk_create(targets)
