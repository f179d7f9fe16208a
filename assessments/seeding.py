"""Plausible assessments in bulk, for the demo province and for benchmarks at national scale.

Entries are generated per indicator type and decided by the same `decide()` as a form save, so the
stored results are what the application would have computed. Rows are written with bulk_create:
this is how data *arrives* for a demo, not a way around the workflow's checks. The workflow
steps are recorded as transitions; the change history starts after seeding.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from criteria.models import Condition, CriteriaSet, Indicator
from criteria.specs import DATA_DIR, read_spec_file, save_spec

from .models import (
    Assessment,
    AssessmentPeriod,
    Commune,
    CommuneGroupAssignment,
    Evidence,
    IndicatorResult,
    State,
    Transition,
    User,
    Village,
)
from .scoring import decide, target_key
from .services import indicators_of

# The order a state is reached in, with the step that reaches it.
PATH = {
    State.DRAFT: [("create", State.DRAFT)],
    State.SUBMITTED: [("create", State.DRAFT), ("submit", State.SUBMITTED)],
    State.RETURNED: [
        ("create", State.DRAFT),
        ("submit", State.SUBMITTED),
        ("return", State.RETURNED),
    ],
    State.APPROVED: [
        ("create", State.DRAFT),
        ("submit", State.SUBMITTED),
        ("approve", State.APPROVED),
    ],
}
RETURN_REASONS = [
    "Bổ sung ảnh chụp biển tên điểm phục vụ bưu chính.",
    "Số liệu thuê bao Internet của thôn chưa khớp với xác nhận của doanh nghiệp.",
    "Thiếu biên bản kiểm tra cụm loa các thôn.",
]
OVERRIDE_REASONS = [
    "Đoàn kiểm tra thực tế xác nhận khác với số liệu tổng hợp.",
    "Điểm bưu chính tạm ngừng hoạt động từ tháng 10.",
]


@dataclass
class Mix:
    """How a period's assessments are spread over states, and how often indicators pass."""

    states: dict[str | None, float]  # None: not started
    pass_rate: float = 0.9
    override_rate: float = 0.03


def ensure_villages(communes: list[Commune], rng: random.Random, low=5, high=12) -> None:
    """Give every commune without villages a numbered list ("Thôn 1" …)."""
    have = set(Village.objects.filter(commune__in=communes).values_list("commune_id", flat=True))
    Village.objects.bulk_create(
        Village(commune=c, name=f"Thôn {n}", sort_key=f"THON {n:03d}")
        for c in communes
        if c.pk not in have
        for n in range(1, rng.randint(low, high) + 1)
    )


def _answer(condition: Condition, passing: bool, rng: random.Random):
    if condition.threshold is None:
        return passing
    base = condition.threshold
    delta = Decimal(rng.randint(1, 15))
    return str(base + delta if passing else max(base - delta, Decimal(0)))


def _conditions(conditions: list[Condition], passing: bool, rng: random.Random) -> dict:
    answers = {c.code: _answer(c, True, rng) for c in conditions}
    if not passing and conditions:
        failing = rng.choice(conditions)
        group = failing.alternative_group
        for c in conditions:
            if c is failing or (group and c.alternative_group == group):
                answers[c.code] = _answer(c, False, rng)
    return answers


def entry_for(indicator: Indicator, villages: list, passing: bool, rng: random.Random) -> dict:
    """A plausible entry of the indicator's type that passes or fails."""
    target = next(iter(indicator.targets.all()), None)
    if indicator.value_type == Indicator.ValueType.YES_NO:
        return {"value": passing}
    if indicator.value_type in (Indicator.ValueType.NUMBER, Indicator.ValueType.PERCENTAGE):
        threshold = target.threshold if target and target.threshold is not None else Decimal(50)
        step = Decimal(rng.randint(1, 20))
        value = threshold + step if passing else max(threshold - step, Decimal(0))
        if indicator.value_type == Indicator.ValueType.PERCENTAGE:
            value = min(value, Decimal(100))
        return {"value": str(value)}
    conditions = list(indicator.conditions.all())
    commune_conditions = [c for c in conditions if c.scope == Condition.Scope.COMMUNE]
    village_conditions = [c for c in conditions if c.scope == Condition.Scope.VILLAGE]
    fail_commune = not passing and (not village_conditions or rng.random() < 0.3)
    entry = {"conditions": _conditions(commune_conditions, not fail_commune, rng)}
    if village_conditions:
        failing_villages = set()
        if not passing and not fail_commune and villages:
            count = max(1, len(villages) // rng.randint(2, 4))
            failing_villages = {v.pk for v in rng.sample(villages, count)}
        entry["villages"] = {
            str(v.pk): _conditions(village_conditions, v.pk not in failing_villages, rng)
            for v in villages
        }
    return entry


def _pick(weights: dict, rng: random.Random):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


@transaction.atomic
def seed_period(
    *,
    communes: list[Commune],
    period: AssessmentPeriod,
    criteria_set: CriteriaSet,
    officer_for: Callable[[Commune], User],
    reviewer: User,
    mix: Mix,
    seed: str,
    villages_by_commune: dict[int, list[Village]] | None = None,
    with_evidence: bool = True,
) -> int:
    """Assessments for the communes that have none in the period; returns how many were made.

    Each commune draws from its own generator (seed and code), so a second run makes the same
    choices: the communes left "not started" stay so, and nothing is added.
    """
    indicators = indicators_of(criteria_set)
    groups = dict(
        CommuneGroupAssignment.objects.filter(
            commune__in=communes, set_code=criteria_set.code
        ).values_list("commune_id", "group_code")
    )
    taken = set(
        Assessment.objects.filter(period=period, criteria_set=criteria_set).values_list(
            "commune_id", flat=True
        )
    )
    if villages_by_commune is None:
        villages_by_commune = {}
        for village in Village.objects.filter(commune__in=communes, is_active=True):
            villages_by_commune.setdefault(village.commune_id, []).append(village)
    planned = []
    for commune in communes:
        if commune.pk in taken:
            continue
        rng = random.Random(f"{seed}-{commune.code}")
        state = _pick(mix.states, rng)
        if state is None:
            continue
        villages = villages_by_commune.get(commune.pk, [])
        region = target_key(commune, criteria_set, groups.get(commune.pk))
        results = []
        for indicator in indicators:
            inputs = entry_for(indicator, villages, rng.random() < mix.pass_rate, rng)
            decision = decide(indicator, region, villages, inputs)
            override = None
            if rng.random() < mix.override_rate:
                override = not decision.met if decision.met is not None else False
            results.append((indicator, inputs, decision, override))
        planned.append((commune, state, results, rng))
    assessments = []
    for commune, state, results, _rng in planned:
        met = [o if o is not None else d.met for _i, _in, d, o in results]
        all_met = False if False in met else (None if None in met else True)
        assessments.append(
            Assessment(
                commune=commune,
                criteria_set=criteria_set,
                period=period,
                state=state,
                version=len(results) + len(PATH[state]),
                all_met=all_met,
                created_by=officer_for(commune),
            )
        )
    Assessment.objects.bulk_create(assessments, batch_size=1000)
    rows, transitions = [], []
    for assessment, (commune, state, results, rng) in zip(assessments, planned, strict=True):
        officer = officer_for(commune)
        for indicator, inputs, decision, override in results:
            rows.append(
                IndicatorResult(
                    assessment=assessment,
                    indicator=indicator,
                    inputs=inputs,
                    computed_met=decision.met,
                    computed_reason=decision.reason,
                    override_met=override,
                    override_reason=rng.choice(OVERRIDE_REASONS) if override is not None else "",
                    is_met=override if override is not None else decision.met,
                    no_evidence_explanation="Đã kiểm tra thực tế tại xã.",
                    updated_by=officer,
                )
            )
        for action, to_state in PATH[state]:
            actor = reviewer if action in ("approve", "return") else officer
            transitions.append(
                Transition(
                    assessment=assessment,
                    to_state=to_state,
                    action=action,
                    actor=actor,
                    from_state=""
                    if action == "create"
                    else State.SUBMITTED
                    if action in ("approve", "return")
                    else State.DRAFT,
                    reason=rng.choice(RETURN_REASONS) if action == "return" else "",
                )
            )
    IndicatorResult.objects.bulk_create(rows, batch_size=2000)
    Transition.objects.bulk_create(transitions, batch_size=2000)
    if with_evidence:
        rng = random.Random(seed)
        Evidence.objects.bulk_create(
            (
                Evidence(
                    result=row,
                    doc_number=f"{rng.randint(1, 300)}/BC-UBND",
                    doc_issuer=f"UBND {row.assessment.commune.name}",
                    description="Báo cáo hiện trạng",
                    added_by=row.updated_by,
                )
                for n, row in enumerate(rows)
                if row.is_met and n % 3 == 0  # a document for one met result in three
            ),
            batch_size=2000,
        )
    return len(assessments)


# ---------------------------------------------------------------- the 2026–2030 demo set

DEMO_SET_CODE = "xa-ntm-2026-2030-minh-hoa"
DEMO_LABEL = "minh họa — không phải văn bản chính thức"


def demo_copy_of_2026_set() -> CriteriaSet:
    """A copy of the shipped 2026–2030 draft whose criterion 7 carries the 2021–2025 ICT
    indicators (8.1–8.4 renumbered 7.1–7.4) with the same target for every commune group, so
    that the 2026 demo has something to score. Every indicator, the criterion and the set say
    "minh họa — không phải văn bản chính thức": nobody can take it for the official text.
    Active, so that a period can use it; loading it again changes nothing."""
    spec = read_spec_file(DATA_DIR / "xa-ntm-2026-2030.json")
    ict = read_spec_file(DATA_DIR / "xa-ntm-2021-2025.json")
    eight = next(c for g in ict["groups"] for c in g["criteria"] if c["number"] == 8)
    groups = [g["code"] for g in spec["commune_groups"]]
    note = (
        f"{DEMO_LABEL}: chỉ tiêu mượn từ tiêu chí 8 của bộ 2021–2025 để có dữ liệu trình diễn; "
        "chỉ tiêu chính thức của tiêu chí 7 chưa được xác nhận."
    )
    indicators = []
    for indicator in eight["indicators"]:
        general = next(
            (t for t in indicator["targets"] if not t["region"] and not t["commune_group"]),
            indicator["targets"][0],
        )
        indicators.append(
            {
                **indicator,
                "code": indicator["code"].replace("8.", "7.", 1),
                "to_confirm": True,
                "to_confirm_note": note,
                "targets": [
                    {
                        **general,
                        "region": None,
                        "commune_group": code,
                        "to_confirm": True,
                        "to_confirm_note": note,
                    }
                    for code in groups
                ],
            }
        )
    for group in spec["groups"]:
        for criterion in group["criteria"]:
            if criterion["number"] == 7:
                criterion["indicators"] = indicators
                criterion["to_confirm"] = True
                criterion["to_confirm_note"] = note
    spec.update(
        code=DEMO_SET_CODE,
        name=f"{spec['name']} ({DEMO_LABEL})",
        to_confirm=True,
        to_confirm_note=f"{DEMO_LABEL}. {spec.get('to_confirm_note', '')}".strip(),
        status=CriteriaSet.Status.ACTIVE,
    )
    return save_spec(spec)[0]


# Demo commune groups of the new communes (by GSO code); the rest are nhóm 3, the mountain
# communes of khu vực II–III, except two left ungrouped so the "chưa xếp nhóm" row shows.
DEMO_GROUPS = {"06526": "nhom-1", "06529": "nhom-2", "06001": "nhom-2"}
DEMO_UNGROUPED = 2


def assign_demo_groups(communes: list[Commune], criteria_set: CriteriaSet) -> None:
    """Groups for the demo's new communes: a few named ones, most nhóm 3, two left out."""
    have = set(
        CommuneGroupAssignment.objects.filter(
            commune__in=communes, set_code=criteria_set.code
        ).values_list("commune_id", flat=True)
    )
    ordered = sorted(communes, key=lambda c: c.code)
    left_out = {c.pk for c in ordered[-DEMO_UNGROUPED:]}
    CommuneGroupAssignment.objects.bulk_create(
        CommuneGroupAssignment(
            commune=c,
            set_code=criteria_set.code,
            group_code=DEMO_GROUPS.get(c.code, "nhom-3"),
            document="minh họa",
        )
        for c in ordered
        if c.pk not in have and c.pk not in left_out
    )
