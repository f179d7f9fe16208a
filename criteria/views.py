from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef, ProtectedError, Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import permissions, services, xlsx
from .forms import (
    ConditionFormSet,
    CriteriaSetImportForm,
    IndicatorForm,
    conditions_fit,
    target_forms,
)
from .marks import footnotes, to_confirm_marks
from .models import Condition, CriteriaSet, Criterion, Indicator, Region, Target
from .signals import client_address
from .specs import COMMUNE_FLAGS, SetLocked, spec_from_set
from .workbooks import export_workbook


def _visible_set(request: HttpRequest, pk: int) -> CriteriaSet:
    """A set the user sees (else 404): the national sets and their own province's."""
    return get_object_or_404(permissions.visible_sets(request.user), pk=pk)


def _changeable_set(request: HttpRequest, pk: int) -> CriteriaSet:
    """A set the user sees (else 404) and may change (else 403)."""
    criteria_set = _visible_set(request, pk)
    if not permissions.may_change_set(request.user, criteria_set):
        raise PermissionDenied
    return criteria_set


def set_list(request: HttpRequest) -> HttpResponse:
    def marked(model, path: str) -> Exists:
        return Exists(model.objects.filter(**{path: OuterRef("pk"), "to_confirm": True}))

    sets = permissions.visible_sets(request.user).annotate(
        criterion_count=Count("criteria", distinct=True),
        indicator_count=Count("criteria__indicators", distinct=True),
        has_marks=Q(to_confirm=True)
        | marked(Criterion, "criteria_set")
        | marked(Indicator, "criterion__criteria_set")
        | marked(Condition, "indicator__criterion__criteria_set")
        | marked(Target, "indicator__criterion__criteria_set"),
    )
    context = {"sets": sets, "may_import": permissions.may_import_sets(request.user)}
    return render(request, "criteria/set_list.html", context)


def set_detail(request: HttpRequest, pk: int) -> HttpResponse:
    criteria_set = get_object_or_404(
        permissions.visible_sets(request.user)
        .for_detail_page()
        .select_related("special_region", "previous_version"),
        pk=pk,
    )
    if criteria_set.target_basis == CriteriaSet.TargetBasis.COMMUNE_GROUP:
        columns = list(criteria_set.commune_groups.all())
    else:
        columns = list(Region.objects.all())
    marks = to_confirm_marks(criteria_set)
    numbers = {(m.item._meta.label, m.item.pk): m.number for m in marks}

    def marked(item) -> tuple:
        """The item with its footnote number (None when it is not marked)."""
        return item, numbers.get((item._meta.label, item.pk)) if item is not None else None

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
                        "indicator": marked(indicator),
                        "conditions": [marked(c) for c in indicator.conditions.all()],
                        "general_target": marked(general),
                        "column_targets": [marked(by_column.get(c.pk)) for c in columns],
                    }
                )
            criteria.append({"criterion": marked(criterion), "indicators": indicators})
        groups.append({"group": group, "criteria": criteria})
    context = {
        "set": criteria_set,
        "set_mark": numbers.get((criteria_set._meta.label, criteria_set.pk)),
        "special_flags": [COMMUNE_FLAGS.get(f, f) for f in criteria_set.special_region_flags],
        "groups": groups,
        "columns": columns,
        "footnotes": footnotes(marks),
        "can_manage": permissions.may_change_set(request.user, criteria_set),
        "can_copy_into_province": permissions.may_copy_into_province(request.user, criteria_set),
    }
    return render(request, "criteria/set_detail.html", context)


def set_export(request: HttpRequest, pk: int) -> FileResponse:
    criteria_set = _visible_set(request, pk)
    content = export_workbook(spec_from_set(criteria_set))
    today = timezone.localdate().strftime("%d-%m-%Y")
    filename = f"Bộ tiêu chí {criteria_set.code} phiên bản {criteria_set.version} {today}.xlsx"
    return xlsx.download(content, filename)


def set_import(request: HttpRequest) -> HttpResponse:
    """A workbook becomes a draft: a new set (the importer's), or over a set they may change."""
    if not permissions.may_import_sets(request.user):
        raise PermissionDenied
    form = CriteriaSetImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        if not permissions.may_import_as(request.user, form.spec["code"]):
            raise PermissionDenied
        try:
            criteria_set, outcome = services.import_spec(
                spec=form.spec, user=request.user, ip=client_address(request)
            )
        except SetLocked as exc:
            form.add_error("workbook", str(exc))
        except ProtectedError:
            form.add_error(
                "workbook",
                _(
                    "Results were already entered with this draft, so the workbook cannot "
                    "replace it whole: change its indicators on the set's page."
                ),
            )
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
def set_copy(request: HttpRequest, pk: int) -> HttpResponse:
    criteria_set = _changeable_set(request, pk)
    copy = services.copy_as_new_version(
        criteria_set=criteria_set, user=request.user, ip=client_address(request)
    )
    messages.success(
        request,
        _("Version %(version)s was created as a draft. Edit it, then activate it.")
        % {"version": copy.version},
    )
    return redirect("criteria:set_detail", pk=copy.pk)


@require_POST
def set_copy_into_province(request: HttpRequest, pk: int) -> HttpResponse:
    """A province administrator makes a national set their province's own, as a draft."""
    criteria_set = _visible_set(request, pk)
    if not permissions.may_copy_into_province(request.user, criteria_set):
        raise PermissionDenied
    copy = services.copy_into_province(
        criteria_set=criteria_set, user=request.user, ip=client_address(request)
    )
    messages.success(
        request,
        _(
            "The set was copied as your province's own set %(code)s (version %(version)s), "
            "a draft. Edit it, then activate it: the national set stays as it is."
        )
        % {"code": copy.code, "version": copy.version},
    )
    return redirect("criteria:set_detail", pk=copy.pk)


@require_POST
def set_activate(request: HttpRequest, pk: int) -> HttpResponse:
    criteria_set = _changeable_set(request, pk)
    if not criteria_set.is_editable:
        messages.error(request, _("Only a draft can be activated."))
    else:
        try:
            services.activate(
                criteria_set=criteria_set, user=request.user, ip=client_address(request)
            )
        except services.SetNotReady as exc:
            messages.error(
                request,
                _("This version cannot be activated yet: %(problems)s")
                % {"problems": " ".join(exc.problems)},
            )
        else:
            messages.success(
                request,
                _("Version %(version)s is now the active version; the previous one is retired.")
                % {"version": criteria_set.version},
            )
    return redirect("criteria:set_detail", pk=criteria_set.pk)


# ---------------------------------------------------------------- a draft's indicators


def _draft_only(criteria_set: CriteriaSet) -> None:
    if not criteria_set.is_editable:
        raise PermissionDenied(_("Only a draft can be changed. Copy the set as a new version."))


def _require_change(request: HttpRequest, criteria_set: CriteriaSet) -> None:
    """The set's indicators: 404 for a set the user does not see, 403 for one they may not
    change, 403 for a set that is no longer a draft."""
    if not permissions.may_see_set(request.user, criteria_set):
        raise Http404
    if not permissions.may_change_set(request.user, criteria_set):
        raise PermissionDenied
    _draft_only(criteria_set)


def indicator_add(request: HttpRequest, pk: int) -> HttpResponse:
    criterion = get_object_or_404(Criterion.objects.select_related("criteria_set"), pk=pk)
    return _indicator_page(request, criterion, Indicator(criterion=criterion))


def indicator_edit(request: HttpRequest, pk: int) -> HttpResponse:
    indicator = get_object_or_404(
        Indicator.objects.select_related("criterion__criteria_set"), pk=pk
    )
    return _indicator_page(request, indicator.criterion, indicator)


def _indicator_page(request: HttpRequest, criterion: Criterion, indicator: Indicator):
    """The indicator with its conditions and its targets, on one page; saved all together."""
    criteria_set = criterion.criteria_set
    _require_change(request, criteria_set)
    data = request.POST if request.method == "POST" else None
    form = IndicatorForm(data, instance=indicator, criterion=criterion)
    conditions = ConditionFormSet(
        data,
        queryset=indicator.conditions.all() if indicator.pk else Condition.objects.none(),
        prefix="conditions",
    )
    targets = target_forms(criteria_set, indicator, data)
    if (
        data is not None
        and all([form.is_valid(), conditions.is_valid(), *(t.is_valid() for t in targets)])
        and conditions_fit(form, conditions)
    ):
        try:
            saved = services.save_indicator(
                indicator=form.save(commit=False),
                conditions=conditions.conditions(),
                targets=[t.values() for t in targets if not t.is_blank],
                user=request.user,
                ip=client_address(request),
            )
        except services.SetNotEditable as exc:
            raise PermissionDenied(str(exc)) from None
        messages.success(request, _("Indicator %(code)s was saved.") % {"code": saved.code})
        url = reverse("criteria:set_detail", args=[criteria_set.pk])
        return redirect(f"{url}#indicator-{saved.code}")
    context = {
        "set": criteria_set,
        "criterion": criterion,
        "indicator": indicator,
        "form": form,
        "conditions": conditions,
        "targets": targets,
    }
    return render(request, "criteria/indicator_form.html", context)


@require_POST
def indicator_delete(request: HttpRequest, pk: int) -> HttpResponse:
    indicator = get_object_or_404(
        Indicator.objects.select_related("criterion__criteria_set"), pk=pk
    )
    criteria_set = indicator.criterion.criteria_set
    _require_change(request, criteria_set)
    try:
        services.delete_indicator(
            indicator=indicator, user=request.user, ip=client_address(request)
        )
    except services.SetNotEditable as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Indicator %(code)s was deleted.") % {"code": indicator.code})
    return redirect("criteria:set_detail", pk=criteria_set.pk)
