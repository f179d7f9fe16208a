"""Dashboards, scorecards and meeting workbooks. Read-only: nothing here writes."""

from __future__ import annotations

import hashlib
import logging

from django import forms
from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from assessments.models import (
    Assessment,
    AssessmentPeriod,
    Commune,
    District,
    Evidence,
    IndicatorResult,
    Role,
)
from assessments.scoring import entered, target_for
from assessments.services import indicators_of as indicators_with_targets
from assessments.services import target_keys
from criteria import xlsx
from criteria.marks import footnotes, to_confirm_marks
from criteria.models import Condition, CriteriaSet

from .exports import Report, add_marks, build_workbook
from .rollups import (
    Filters,
    Grouping,
    Selection,
    comparison_notes,
    gap_list,
    grouped_rows,
    regressions,
    reorganisation,
    scored_criterion,
    selection_lines,
    stamp,
    units_basis,
)

CHECKBOX = forms.CheckboxInput(attrs={"class": "form-check-input"})

logger = logging.getLogger(__name__)


class ReportForm(forms.Form):
    period = forms.ModelChoiceField(
        label=gettext_lazy("Period"),
        queryset=AssessmentPeriod.objects.none(),
        required=False,
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )
    set = forms.ChoiceField(
        label=gettext_lazy("Criteria set"),
        required=False,
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )
    district = forms.ModelChoiceField(
        label=gettext_lazy("District"),
        queryset=District.objects.none(),
        required=False,
        empty_label=gettext_lazy("All districts"),
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )
    pilot = forms.BooleanField(
        label=gettext_lazy("Pilot communes only"), required=False, widget=CHECKBOX
    )
    border = forms.BooleanField(label=gettext_lazy("Border only"), required=False, widget=CHECKBOX)
    difficult = forms.BooleanField(label=gettext_lazy("ĐBKK only"), required=False, widget=CHECKBOX)
    submitted = forms.BooleanField(
        label=gettext_lazy("Also count submitted results (not yet approved)"),
        required=False,
        widget=CHECKBOX,
    )

    def __init__(self, data, *, user, district: District | None = None):
        super().__init__(data)
        self.periods = list(
            AssessmentPeriod.objects.for_user(user)
            .select_related("province")
            .prefetch_related("criteria_sets")
        )
        self.fields["period"].queryset = AssessmentPeriod.objects.for_user(user)
        sets = {s.pk: s for p in self.periods for s in p.criteria_sets.all()}
        self.fields["set"].choices = [(pk, s.name) for pk, s in sets.items()]
        self.fields["district"].queryset = District.objects.for_user(user)
        if district is not None:
            del self.fields["district"]
            # a district exists only in the periods before the two-tier reform
            self.periods = [p for p in self.periods if p.has_districts]
        self.fixed_district = district

    @property
    def left_out(self) -> list[str]:
        """The labels of the filters whose values could not be read (and were left out)."""
        return [str(self.fields[name].label) for name in self.errors if name in self.fields]

    def choice(self) -> tuple[AssessmentPeriod | None, object, Filters]:
        data = self.cleaned_data if self.is_valid() else {}
        chosen_period = data.get("period")
        period = (
            next((p for p in self.periods if chosen_period and p.pk == chosen_period.pk), None)
            or next((p for p in self.periods if p.is_open), None)
            or (self.periods[0] if self.periods else None)
        )
        sets = list(period.criteria_sets.all()) if period else []
        chosen = next((s for s in sets if str(s.pk) == str(data.get("set"))), None)
        district = self.fixed_district
        if "district" in self.fields:
            if period is not None and period.has_districts:
                field = self.fields["district"]
                field.queryset = field.queryset.current(period.reference_date)
                district = data.get("district")
            else:  # no district filter where there are no districts
                del self.fields["district"]
        filters = Filters(
            district=district,
            pilot=bool(data.get("pilot")),
            border=bool(data.get("border")),
            difficult=bool(data.get("difficult")),
            include_submitted=bool(data.get("submitted")),
        )
        return period, chosen or (sets[0] if sets else None), filters


class PeriodChoiceForm(forms.Form):
    """The period a district's page is asked for: one of the user's periods, or none."""

    period = forms.ModelChoiceField(queryset=AssessmentPeriod.objects.none(), required=False)

    def __init__(self, data, *, user):
        super().__init__(data)
        self.fields["period"].queryset = AssessmentPeriod.objects.for_user(user)


class NationalForm(forms.Form):
    """The year and set of the national roll-up."""

    year = forms.IntegerField(required=False, min_value=1, max_value=9999)
    set = forms.CharField(required=False, max_length=20)
    submitted = forms.BooleanField(required=False)


def _basis(filters: Filters) -> str:
    if filters.include_submitted:
        return _("Counted: approved and submitted (not yet approved) results.")
    return _("Counted: approved results only.")


def _report(request: HttpRequest, district: District | None = None, form=None):
    """Everything a dashboard and its workbook show, for the request's filters."""
    form = form or ReportForm(request.GET or None, user=request.user, district=district)
    period, criteria_set, filters = form.choice()
    context = {
        "form": form,
        "period": period,
        "criteria_set": criteria_set,
        "filters": filters,
        "basis": _basis(filters),
        "district": district,
    }
    if period is None or criteria_set is None:
        return context, None
    communes = Commune.objects.for_user(request.user)
    selection = Selection.for_period(period, criteria_set)
    grouping = Grouping.for_selection(selection)
    indicators, rows, total = grouped_rows(communes, selection, filters, grouping)
    total.label = _("Province total")
    lines = selection_lines(communes, selection, filters, indicators, grouping)
    basis = f"{_basis(filters)} {units_basis(selection)}"
    report = Report(
        title=_("Results of criterion %(number)s (%(name)s)") % scored_criterion(indicators),
        province_name=period.province.name,
        period_name=period.name,
        set_name=criteria_set.name,
        basis=basis,
        indicators=indicators,
        rows=rows,
        total=total,
        lines=lines,
        gaps=gap_list(lines, indicators),
        grouping=grouping,
        notes=comparison_notes(rows, total),
    )
    context.update(
        basis=basis,
        report=report,
        previous=selection.previous.period if selection.previous else None,
        regressions=regressions(lines, selection, filters),
        reorganisation=None if district else reorganisation(communes, lines, selection),
        chart=_chart(report, criteria_set),
        criterion=scored_criterion(indicators),
        query=request.GET.urlencode(),
    )
    return context, report


def _chart(report: Report, criteria_set) -> dict:
    target = criteria_set.national_target_percent
    return {
        "districts": [row.label for row in report.rows],
        "criterion": [_float(row.criterion_share) for row in report.rows],
        "previous": [_float(row.comparable_previous_share) for row in report.rows],
        "target": float(target) if target is not None else None,
        "indicators": [i.code for i in report.indicators],
        "indicatorShares": [_float(pct) for _n, pct in report.total.indicator_shares],
        "labels": {
            "criterion": _("Xã meeting criterion %(number)s (%%)")
            % scored_criterion(report.indicators),
            "previous": _("Previous period (%)"),
            "target": _("National target (%)"),
            "indicator": _("Xã meeting the indicator (%)"),
        },
    }


def _float(value):
    return None if value is None else float(value)


def _scope_key(user) -> str:
    """Users who see the same communes see the same dashboards."""
    if user.is_superuser:
        return "all"
    return f"{user.province_id}:{user.district_id or ''}:{user.commune_id or ''}:" + (
        "p" if user.is_province_level else "d"
    )


def _cached(request: HttpRequest, parts: list, build) -> str:
    """The HTML `build()` renders, reused while nothing a report shows has changed.

    The key holds rollups.stamp(), which every write changes in its own transaction, so a save
    or an approval shows on the next page load; and who sees what, the query and the language.
    """
    parts = [*parts, _scope_key(request.user), sorted(request.GET.lists()), get_language(), stamp()]
    key = "report:" + hashlib.sha256(repr(parts).encode()).hexdigest()
    try:
        html = cache.get(key)
    except Exception:  # a shared cache (Redis) that does not answer: build the page, say so
        logger.warning("the report cache did not answer: %s built without it", key, exc_info=True)
        return build()
    if html is None:
        html = build()
        try:
            cache.set(key, html, timeout=24 * 3600)
        except Exception:
            logger.warning("the report cache did not answer: %s not kept", key, exc_info=True)
    return html


def _dashboard(request: HttpRequest, page: str, body: str, district=None) -> HttpResponse:
    """Render a dashboard page around its (cached) body; a cached body needs no form at all."""

    def build() -> str:
        form = ReportForm(request.GET or None, user=request.user, district=district)
        context, _report_obj = _report(request, district, form)
        return render_to_string(body, context, request)

    html = _cached(request, [body, district.pk if district else ""], build)
    return render(request, page, {"body": html, "district": district})


def province_dashboard(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not (user.is_superuser or user.is_province_level):
        if user.district_id and user.role != Role.COMMUNE_OFFICER:
            return redirect("reports:district", pk=user.district_id)
        return redirect("assessments:worklist")  # a commune's own scorecards are there
    return _dashboard(request, "reports/province.html", "reports/_province_body.html")


def _without_districts(request: HttpRequest) -> HttpResponse | None:
    """A district's page asked for a period without districts (from 01/07/2025): the province
    dashboard for those who may see it, with a word why; a 404 for everyone else."""
    form = PeriodChoiceForm(request.GET, user=request.user)
    period = form.cleaned_data["period"] if form.is_valid() else None
    if period is None or period.has_districts:
        return None
    if not (request.user.is_superuser or request.user.is_province_level):
        raise Http404
    messages.info(
        request,
        _(
            "%(period)s has no districts (two-tier local government from 01/07/2025): "
            "here is the province dashboard."
        )
        % {"period": period.name},
    )
    return redirect(f"{reverse('reports:province')}?{request.GET.urlencode()}")


def district_dashboard(request: HttpRequest, pk: int) -> HttpResponse:
    district = get_object_or_404(District.objects.for_user(request.user), pk=pk)
    if (elsewhere := _without_districts(request)) is not None:
        return elsewhere
    return _dashboard(request, "reports/district.html", "reports/_district_body.html", district)


def _download(report: Report, district: District | None) -> FileResponse:
    today = timezone.localdate().strftime("%d-%m-%Y")
    where = district.name if district else report.province_name
    number = scored_criterion(report.indicators)["number"]
    filename = f"Báo cáo tiêu chí {number} - {where} - {report.period_name} - {today}.xlsx"
    return xlsx.download(build_workbook(report), filename)


def province_export(request: HttpRequest) -> HttpResponse:
    if not (request.user.is_superuser or request.user.is_province_level):
        raise PermissionDenied
    context, report = _report(request)
    if report is None:
        raise Http404
    add_marks(report, to_confirm_marks(context["criteria_set"]), context["criteria_set"])
    return _download(report, None)


def district_export(request: HttpRequest, pk: int) -> HttpResponse:
    district = get_object_or_404(District.objects.for_user(request.user), pk=pk)
    if (elsewhere := _without_districts(request)) is not None:
        return elsewhere
    context, report = _report(request, district)
    if report is None:
        raise Http404
    add_marks(report, to_confirm_marks(context["criteria_set"]), context["criteria_set"])
    return _download(report, district)


def scorecard(request: HttpRequest, pk: int) -> HttpResponse:
    """A commune's printable scorecard for one assessment."""
    assessment = get_object_or_404(Assessment.objects.for_user(request.user), pk=pk)
    indicators = indicators_with_targets(assessment.criteria_set)
    results = {
        r.indicator_id: r
        for r in IndicatorResult.objects.filter(assessment=assessment).prefetch_related(
            Prefetch("evidence", queryset=Evidence.objects.filter(is_removed=False))
        )
    }
    key = target_keys([assessment])[assessment.pk]
    villages = []  # read once, and only when an indicator is judged village by village
    if any(c.scope == Condition.Scope.VILLAGE for i in indicators for c in i.conditions.all()):
        villages = list(assessment.commune.villages.filter(is_active=True))
    sections = []
    for i in indicators:
        result, target = results.get(i.pk), target_for(i, key)
        answers = entered(i, target, villages, result.inputs) if result else None
        sections.append({"indicator": i, "result": result, "target": target, "answers": answers})
    marks = to_confirm_marks(assessment.criteria_set)
    criteria = list({i.criterion_id: i.criterion for i in indicators}.values())
    shown = {assessment.criteria_set, *criteria, *indicators}
    shown.update(s["target"] for s in sections if s["target"] is not None)
    for section in sections:  # a marked condition shows under its indicator
        section["condition_marks"] = [
            m
            for m in marks
            if isinstance(m.item, Condition) and m.item.indicator_id == section["indicator"].pk
        ]
        shown.update(m.item for m in section["condition_marks"])
    history = (
        Assessment.objects.filter(
            commune=assessment.commune, criteria_set__code=assessment.criteria_set.code
        )
        .select_related("period")
        .order_by("-period__reference_date", "-period__opens_on")[:5]
    )
    context = {
        "assessment": assessment,
        "sections": sections,
        "criteria": criteria,
        "marks": marks,
        "other_marks": [m for m in marks if m.item not in shown],
        "footnotes": footnotes(marks),
        "transitions": assessment.transitions.select_related("actor"),
        "history": history,
        "printed": timezone.localtime(),
    }
    return render(request, "reports/scorecard.html", context)


def national_rollup(request: HttpRequest) -> HttpResponse:
    """Every province's figures for a year (for the national level; superusers only)."""
    if not request.user.is_superuser:
        raise PermissionDenied
    form = NationalForm(request.GET)
    if not form.is_valid():
        messages.warning(request, _("Some filters could not be read and were left out."))
    chosen = form.cleaned_data  # the fields that were read
    years = sorted(set(AssessmentPeriod.objects.values_list("year", flat=True)), reverse=True)
    year = chosen.get("year") or (years[0] if years else None)
    sets = list(CriteriaSet.objects.filter(status=CriteriaSet.Status.ACTIVE))
    criteria_set = next((s for s in sets if str(s.pk) == chosen.get("set")), None) or (
        sets[0] if sets else None
    )
    filters = Filters(include_submitted=bool(chosen.get("submitted")))
    context = {
        "years": years,
        "year": year,
        "sets": sets,
        "criteria_set": criteria_set,
        "filters": filters,
        "basis": _basis(filters),
        "query": "",
    }
    if year is not None and criteria_set is not None:

        def build() -> str:
            selection = Selection.for_year(year, criteria_set)
            indicators, rows, total = grouped_rows(Commune.objects.all(), selection, filters)
            total.label = _("National total")
            report = {
                "indicators": indicators,
                "rows": rows,
                "total": total,
                "grouping": Grouping.for_selection(selection),
                "notes": comparison_notes(rows, total),
            }
            return render_to_string(
                "reports/_summary_table.html", {**context, "report": report}, request
            )

        context["table"] = _cached(request, ["national", year, criteria_set.pk], build)
    return render(request, "reports/national.html", context)
