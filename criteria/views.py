from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.db.models import Count
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import services, xlsx
from .forms import CriteriaSetImportForm
from .models import CriteriaSet, Region
from .specs import SetLocked, save_spec, spec_from_set
from .workbooks import export_workbook

can_manage = permission_required("criteria.change_criteriaset", raise_exception=True)


def set_list(request: HttpRequest) -> HttpResponse:
    sets = CriteriaSet.objects.annotate(
        criterion_count=Count("criteria", distinct=True),
        indicator_count=Count("criteria__indicators", distinct=True),
    )
    return render(request, "criteria/set_list.html", {"sets": sets})


def set_detail(request: HttpRequest, pk: int) -> HttpResponse:
    criteria_set = get_object_or_404(CriteriaSet.objects.for_detail_page(), pk=pk)
    if criteria_set.target_basis == CriteriaSet.TargetBasis.COMMUNE_GROUP:
        columns = list(criteria_set.commune_groups.all())
    else:
        columns = list(Region.objects.all())
    groups = []
    for group in criteria_set.groups.all():
        criteria = []
        for criterion in group.criteria.all():
            indicators = []
            for indicator in criterion.indicators.all():
                targets = list(indicator.targets.all())
                by_column = {t.commune_group_id or t.region_id: t for t in targets}
                general = next(
                    (t for t in targets if t.region_id is None and t.commune_group_id is None),
                    None,
                )
                indicators.append(
                    {
                        "indicator": indicator,
                        "general_target": general,
                        "column_targets": [by_column.get(c.pk) for c in columns],
                    }
                )
            criteria.append({"criterion": criterion, "indicators": indicators})
        groups.append({"group": group, "criteria": criteria})
    unconfirmed = any(
        row["indicator"].to_confirm or any(c.to_confirm for c in row["indicator"].conditions.all())
        for g in groups
        for c in g["criteria"]
        for row in c["indicators"]
    )
    context = {
        "set": criteria_set,
        "groups": groups,
        "columns": columns,
        "unconfirmed": unconfirmed,
        "can_manage": request.user.has_perm("criteria.change_criteriaset"),
    }
    return render(request, "criteria/set_detail.html", context)


def set_export(request: HttpRequest, pk: int) -> FileResponse:
    criteria_set = get_object_or_404(CriteriaSet, pk=pk)
    content = export_workbook(spec_from_set(criteria_set))
    today = timezone.localdate().strftime("%d-%m-%Y")
    filename = f"Bộ tiêu chí {criteria_set.code} phiên bản {criteria_set.version} {today}.xlsx"
    return xlsx.download(content, filename)


@can_manage
def set_import(request: HttpRequest) -> HttpResponse:
    form = CriteriaSetImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            criteria_set, outcome = save_spec(form.spec, status=CriteriaSet.Status.DRAFT)
        except SetLocked as exc:
            form.add_error("workbook", str(exc))
        else:
            text = {
                "created": _("The set was imported as a draft. Check it, then activate it."),
                "updated": _("The draft was updated from the workbook."),
                "unchanged": _("The workbook is the same as the set: nothing changed."),
            }[outcome]
            messages.success(request, text)
            return redirect("criteria:set_detail", pk=criteria_set.pk)
    return render(request, "criteria/set_import.html", {"form": form})


@require_POST
@can_manage
def set_copy(request: HttpRequest, pk: int) -> HttpResponse:
    criteria_set = get_object_or_404(CriteriaSet, pk=pk)
    copy = services.copy_as_new_version(criteria_set=criteria_set)
    messages.success(
        request,
        _("Version %(version)s was created as a draft. Edit it, then activate it.")
        % {"version": copy.version},
    )
    return redirect("criteria:set_detail", pk=copy.pk)


@require_POST
@can_manage
def set_activate(request: HttpRequest, pk: int) -> HttpResponse:
    criteria_set = get_object_or_404(CriteriaSet, pk=pk)
    if not criteria_set.is_editable:
        messages.error(request, _("Only a draft can be activated."))
    else:
        services.activate(criteria_set=criteria_set)
        messages.success(
            request,
            _("Version %(version)s is now the active version; the previous one is retired.")
            % {"version": criteria_set.version},
        )
    return redirect("criteria:set_detail", pk=criteria_set.pk)
