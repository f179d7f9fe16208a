"""The province administrator's setup checklist: what must be in place before officers can score.

Each step says whether it is done, what is missing, and where to fix it. A fixed number of
queries whatever the number of communes (one or two per open period).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Exists, OuterRef, Q, Window
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from criteria.models import CriteriaSet, Indicator

from .models import (
    AssessmentPeriod,
    Commune,
    CommuneGroupAssignment,
    Province,
    ReviewAssignment,
    Role,
    User,
    Village,
)

SHOWN = 12  # names listed under a step; the rest are counted


@dataclass
class Step:
    title: str
    done: bool
    detail: str
    url: str
    action: str
    names: list[str] = field(default_factory=list)
    more: int = 0


def setup_checklist(province: Province) -> list[Step]:
    periods = list(
        AssessmentPeriod.objects.filter(province=province, is_open=True).prefetch_related(
            "criteria_sets"
        )
    )
    return [
        _active_sets(province),
        _open_periods(periods),
        _accounts(province),
        _review_assignments(province),
        *_units(province, periods),
    ]


def _active_sets(province: Province) -> Step:
    sets = CriteriaSet.objects.filter(status=CriteriaSet.Status.ACTIVE).filter(
        Q(owner_province_code="") | Q(owner_province_code=province.code)
    )
    names = [s.name for s in sets.order_by("code", "-version")]
    return Step(
        title=_("An active criteria set"),
        done=bool(names),
        detail=", ".join(names) if names else _("No criteria set is active yet."),
        url=reverse("criteria:set_list"),
        action=_("Criteria sets"),
    )


def _open_periods(periods: list[AssessmentPeriod]) -> Step:
    without_sets = [p.name for p in periods if not p.criteria_sets.all()]
    if not periods:
        detail = _("No period is open for entry.")
    elif without_sets:
        detail = _("No criteria set is assessed in: %(names)s.") % {
            "names": ", ".join(without_sets)
        }
    else:
        detail = "; ".join(
            f"{p.name}: {', '.join(s.name for s in p.criteria_sets.all())}" for p in periods
        )
    return Step(
        title=_("An open period with its criteria sets"),
        done=bool(periods) and not without_sets,
        detail=detail,
        url=reverse("assessments:period_list"),
        action=_("Periods"),
    )


def _accounts(province: Province) -> Step:
    by_role = dict(
        User.objects.filter(province=province, is_active=True)
        .values("role")
        .annotate(n=Count("pk"))
        .values_list("role", "n")
    )
    reviewers = by_role.get(Role.PROVINCE_REVIEWER, 0)
    officers = by_role.get(Role.DISTRICT_OFFICER, 0) + by_role.get(Role.COMMUNE_OFFICER, 0)
    detail = _("%(reviewers)s province reviewers, %(officers)s district or commune officers.") % {
        "reviewers": reviewers,
        "officers": officers,
    }
    return Step(
        title=_("Accounts for reviewers and officers"),
        done=reviewers > 0 and officers > 0,
        detail=detail,
        url=reverse("assessments:user_list"),
        action=_("Accounts"),
    )


def _review_assignments(province: Province) -> Step:
    reviewers = User.objects.filter(
        province=province, role=Role.PROVINCE_REVIEWER, is_active=True
    ).annotate(assigned=Exists(ReviewAssignment.objects.filter(reviewer=OuterRef("pk"))))
    idle = [r.get_full_name() or r.username for r in reviewers if not r.assigned]
    assignments = ReviewAssignment.objects.filter(province=province, reviewer__is_active=True)
    whole = assignments.filter(commune__isnull=True).exists()
    uncovered = 0
    if not whole:
        uncovered = (
            Commune.objects.filter(province=province)
            .current()
            .exclude(pk__in=assignments.values("commune_id"))
            .count()
        )
    parts = []
    if idle:
        parts.append(_("Reviewers without communes: %(names)s.") % {"names": ", ".join(idle)})
    if uncovered:
        parts.append(
            ngettext(
                "%(n)s commune has no reviewer.", "%(n)s communes have no reviewer.", uncovered
            )
            % {"n": uncovered}
        )
    return Step(
        title=_("Every commune has a reviewer"),
        done=not idle and not uncovered,
        detail=" ".join(parts) or _("Every reviewer has communes and every commune a reviewer."),
        url=reverse("assessments:review_assignments"),
        action=_("Reviewers"),
    )


def _units(province: Province, periods: list[AssessmentPeriod]) -> list[Step]:
    """For each open period: the units it scores that have no group (for a set whose targets go
    by commune group), or no villages (for a set judged village by village)."""
    steps = []
    for period in periods:
        for criteria_set in period.criteria_sets.all():
            communes = Commune.objects.filter(province=province).current(period.reference_date)
            if not criteria_set.includes_urban_units:
                communes = communes.rural()
            if criteria_set.target_basis == CriteriaSet.TargetBasis.COMMUNE_GROUP:
                ungrouped = communes.exclude(
                    Exists(
                        CommuneGroupAssignment.objects.filter(
                            commune=OuterRef("pk"), set_code=criteria_set.code
                        )
                    )
                )
                steps.append(
                    _unit_step(
                        ungrouped,
                        title=_("%(period)s · %(set)s: every commune has its group")
                        % {"period": period.name, "set": criteria_set.name},
                        # the list page opens with this step's set chosen
                        url=reverse("assessments:group_import")
                        + "?"
                        + urlencode({"set": criteria_set.code}),
                        action=_("Commune groups from a list"),
                        problem=_("without a group"),
                    )
                )
            if not Indicator.objects.filter(
                criterion__criteria_set=criteria_set,
                value_type=Indicator.ValueType.VILLAGE_CHECKLIST,
            ).exists():
                continue
            no_villages = communes.exclude(
                Exists(Village.objects.filter(commune=OuterRef("pk"), is_active=True))
            )
            steps.append(
                _unit_step(
                    no_villages,
                    title=_("%(period)s · %(set)s: every commune has its villages")
                    % {"period": period.name, "set": criteria_set.name},
                    url=reverse("assessments:province"),
                    action=_("Communes"),
                    problem=_("without villages"),
                )
            )
    return steps


def _unit_step(communes, *, title: str, url: str, action: str, problem: str) -> Step:
    # the first names and how many there are in all, in one query
    rows = list(
        communes.annotate(total=Window(Count("pk")))
        .order_by("sort_key", "code")
        .values_list("name", "district__name", "total")[:SHOWN]
    )
    total = rows[0][2] if rows else 0
    names = [(name, district) for name, district, _total in rows]
    return Step(
        title=title,
        done=total == 0,
        detail=(
            ngettext("%(n)s commune %(problem)s.", "%(n)s communes %(problem)s.", total)
            % {"n": total, "problem": problem}
        )
        if total
        else _("None is missing."),
        url=url,
        action=action,
        names=[f"{name} ({district})" if district else name for name, district in names],
        more=max(total - SHOWN, 0),
    )
