"""Pages for units, villages and accounts. Everything is fetched through the user's scope."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.core.exceptions import BadRequest, PermissionDenied
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from criteria import xlsx
from criteria.marks import footnotes, marks_of_indicators
from criteria.models import CriteriaSet
from criteria.permissions import sets_of_province
from criteria.workbooks import WorkbookInvalid

from . import audit, checklist, excel_entry, services, unit_lists, workflow, worklist
from .evidence import download_name, sniff
from .forms import (
    AssessmentCreateForm,
    AuditFilterForm,
    BulkApprovalForm,
    CommuneFilterForm,
    CommuneFlagsForm,
    CommuneGroupForm,
    EntryWorkbookForm,
    FlagListForm,
    GroupListForm,
    IndicatorEntryForm,
    NotificationsForm,
    PasswordResetByManagerForm,
    PeriodForm,
    PeriodSetForm,
    ReasonForm,
    ReturnForm,
    ReviewAssignmentForm,
    UserCreateForm,
    UserForm,
    VillageForm,
    WorklistForm,
)
from .models import (
    Assessment,
    AssessmentLocked,
    AssessmentPeriod,
    Change,
    Commune,
    CommuneGroupAssignment,
    District,
    Evidence,
    Province,
    ReviewAssignment,
    ReviewNote,
    State,
    Transition,
    User,
    Village,
)
from .scoring import target_for
from .unit_import import UnitFileInvalid
from .workflow import Action


def home(request: HttpRequest) -> HttpResponse:
    """Each person starts on what waits for them (see workflow.home_of)."""
    page = workflow.home_of(request.user)
    if page == workflow.Home.OFFICER:
        return _officer_home(request)
    if page == workflow.Home.REVIEWER:
        return _reviewer_home(request)
    if page == workflow.Home.ADMIN:
        return _admin_home(request)
    if page == workflow.Home.VIEWER:
        return redirect("reports:province")
    if page == workflow.Home.UNITS:
        return redirect("assessments:province")
    return redirect("criteria:set_list")


HOME_ROWS = 20


def _officer_home(request: HttpRequest) -> HttpResponse:
    """An officer's worklist in the period they work in: counts by step, then what needs their
    work (returned with the reason, in progress, not started, to verify)."""
    user = request.user
    form = WorklistForm(QueryDict(), user=user, periods=_periods(request))
    form.is_valid()
    period, criteria_set = form.period, form.criteria_set
    context = {"form": form, "period": period, "criteria_set": criteria_set}
    if period and criteria_set:
        communes = worklist.communes_to_assess(user, period, criteria_set)
        todo = communes.filter(work_order__lte=worklist.STATE_ORDER[State.DISTRICT_REVIEW])
        page = list(todo.order_by("work_order", "sort_key", "code")[:HOME_ROWS])
        context.update(
            counts=worklist.counts(communes),
            rows=worklist.rows_for(page, period, criteria_set, user),
            worklist_query=form.query(),
            verifies=workflow.verifies_for_district(user) and period.has_districts,
        )
    return render(request, "assessments/home_officer.html", context)


def _reviewer_home(request: HttpRequest) -> HttpResponse:
    """What waits for this reviewer's appraisal, oldest submission first, and how much of it in
    each period and set (a link to that worklist, to approve several at once)."""
    waiting = worklist.waiting_for_appraisal(request.user)
    per_list: dict[tuple, dict] = {}
    for assessment in waiting:
        key = (assessment.period_id, assessment.criteria_set_id)
        entry = per_list.setdefault(key, {"assessment": assessment, "count": 0})
        entry["count"] += 1
    lists = [
        {
            "period": e["assessment"].period,
            "criteria_set": e["assessment"].criteria_set,
            "count": e["count"],
            "query": urlencode(
                {"period": period, "set": criteria_set, "state": State.SUBMITTED, "sort": "updated"}
            ),
        }
        for (period, criteria_set), e in sorted(
            per_list.items(), key=lambda item: item[1]["assessment"].period.reference_date
        )
    ]
    context = {"waiting": waiting[:HOME_ROWS], "waiting_count": len(waiting), "lists": lists}
    return render(request, "assessments/home_reviewer.html", context)


def _admin_home(request: HttpRequest) -> HttpResponse:
    """The province administrator's setup checklist."""
    province = request.user.province
    steps = checklist.setup_checklist(province)
    context = {"province": province, "steps": steps, "done": all(s.done for s in steps)}
    return render(request, "assessments/home_admin.html", context)


def _units_home(user) -> HttpResponse:
    """The widest unit page a user's scope allows."""
    if user.is_superuser or user.is_province_level:
        return redirect("assessments:province")
    if user.commune_id:
        return redirect("assessments:commune", pk=user.commune_id)
    if user.district_id:
        return redirect("assessments:district", pk=user.district_id)
    return redirect("criteria:set_list")


def _counts(prefix: str = "") -> dict:
    """Counts of current units by kind and flag, for an annotate() or aggregate() call."""
    today = timezone.localdate()
    current = Q(**{f"{prefix}valid_to__isnull": True}) | Q(**{f"{prefix}valid_to__gte": today})
    field = f"{prefix}pk" if prefix else "pk"

    def count(**condition):
        return Count(field, filter=current & Q(**{prefix + k: v for k, v in condition.items()}))

    return {
        "total": Count(field, filter=current),
        "rural": count(kind=Commune.Kind.RURAL),
        "wards": count(kind=Commune.Kind.WARD),
        "townships": count(kind=Commune.Kind.TOWNSHIP),
        "difficult": count(is_extremely_difficult=True),
        "border": count(is_border=True),
        "pilot": Count(
            field,
            filter=current
            & (
                Q(**{f"{prefix}pilot_ntm_year__isnull": False})
                | Q(**{f"{prefix}pilot_advanced_year__isnull": False})
            ),
        ),
    }


def province_page(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not (user.is_superuser or user.is_province_level):
        return _units_home(user)
    provinces = (
        Province.objects.all()
        if user.is_superuser
        else Province.objects.filter(pk=user.province_id)
    )
    province = provinces.select_related("region").first()
    if province is None:
        raise Http404
    districts = District.objects.filter(province=province).annotate(**_counts("communes__"))
    direct = Commune.objects.filter(province=province, district__isnull=True).aggregate(**_counts())
    totals = Commune.objects.filter(province=province).aggregate(**_counts())
    context = {"province": province, "districts": districts, "direct": direct, "totals": totals}
    return render(request, "assessments/province.html", context)


def district_page(request: HttpRequest, pk: int) -> HttpResponse:
    district = get_object_or_404(
        District.objects.for_user(request.user).select_related("province"), pk=pk
    )
    form = CommuneFilterForm(request.GET or None)
    communes = Commune.objects.for_user(request.user).in_district(district)
    communes = form.filter(communes) if form.is_valid() else communes.current()
    communes = communes.annotate(
        village_count=Count("villages", filter=Q(villages__is_active=True))
    )
    context = {"district": district, "communes": communes, "form": form}
    return render(request, "assessments/district.html", context)


def commune_page(request: HttpRequest, pk: int) -> HttpResponse:
    commune = get_object_or_404(
        Commune.objects.for_user(request.user).select_related("province__region"), pk=pk
    )
    return _render_commune(request, commune, VillageForm(commune=commune))


def _grouped_sets(commune: Commune) -> list[CriteriaSet]:
    """The newest version of each set whose targets go by commune group (drafts included), of
    the sets the commune's province uses (national, and its own): the sets in use first, then
    the drafts (whose name may be that of a set in use, as the 2026–2030 draft's is)."""
    newest: dict[str, CriteriaSet] = {}
    grouped = CriteriaSet.objects.filter(target_basis=CriteriaSet.TargetBasis.COMMUNE_GROUP)
    for criteria_set in (
        sets_of_province(commune.province.code, grouped)
        .exclude(status=CriteriaSet.Status.RETIRED)
        .prefetch_related("commune_groups")
        .order_by("code", "-version")
    ):
        newest.setdefault(criteria_set.code, criteria_set)
    return sorted(newest.values(), key=lambda s: s.status == CriteriaSet.Status.DRAFT)


def _group_rows(commune: Commune, bound: CommuneGroupForm | None = None) -> list[dict]:
    """For each grouped set: the commune's group (or none) and the form to change it."""
    chosen = {a.set_code: a for a in CommuneGroupAssignment.objects.filter(commune=commune)}
    rows = []
    for criteria_set in _grouped_sets(commune):
        assignment = chosen.get(criteria_set.code)
        names = {g.code: g.name for g in criteria_set.commune_groups.all()}
        form = bound if bound is not None and bound.criteria_set == criteria_set else None
        if form is None:
            initial = (
                {"group": assignment.group_code, "document": assignment.document}
                if (assignment)
                else {}
            )
            form = CommuneGroupForm(criteria_set=criteria_set, initial=initial)
        rows.append(
            {
                "set": criteria_set,
                "group": names.get(assignment.group_code) if assignment else None,
                "assignment": assignment,
                "form": form,
            }
        )
    return rows


def _render_commune(
    request: HttpRequest,
    commune: Commune,
    village_form: VillageForm,
    group_form: CommuneGroupForm | None = None,
):
    context = {
        "commune": commune,
        "villages": commune.villages.all(),
        "predecessors": commune.predecessors.select_related("district"),
        "predecessor_results": Assessment.objects.last_results_of(commune.predecessors.all()),
        "can_edit": workflow.may_edit_commune(request.user, commune),
        "can_edit_villages": workflow.may_edit_villages(request.user, commune),
        "group_rows": _group_rows(commune, group_form),
        "village_form": village_form,
    }
    return render(request, "assessments/commune.html", context)


@require_POST
def commune_group_edit(request: HttpRequest, pk: int, set_pk: int) -> HttpResponse:
    commune = _editable_commune(request, pk)
    grouped = CriteriaSet.objects.filter(target_basis=CriteriaSet.TargetBasis.COMMUNE_GROUP)
    criteria_set = get_object_or_404(sets_of_province(commune.province.code, grouped), pk=set_pk)
    form = CommuneGroupForm(request.POST, criteria_set=criteria_set)
    if not form.is_valid():
        return _render_commune(request, commune, VillageForm(commune=commune), form)
    with transaction.atomic():
        changed = services.set_commune_group(
            user=request.user,
            commune=commune,
            criteria_set=criteria_set,
            group_code=form.cleaned_data["group"],
            document=form.cleaned_data["document"].strip(),
        )
        if changed:
            details = {"set": criteria_set.code, **form.cleaned_data}
            audit.record(request, audit.Action.COMMUNE_GROUP, commune, details=details)
    if changed:
        messages.success(
            request,
            _("The commune's group was saved; its open assessments were decided again."),
        )
    return redirect("assessments:commune", pk=commune.pk)


def _editable_commune(request: HttpRequest, pk: int) -> Commune:
    """A commune in the user's scope (else 404) that the user may change (else 403)."""
    commune = get_object_or_404(Commune.objects.for_user(request.user), pk=pk)
    if not workflow.may_edit_commune(request.user, commune):
        raise PermissionDenied
    return commune


def commune_edit(request: HttpRequest, pk: int) -> HttpResponse:
    commune = _editable_commune(request, pk)
    form = CommuneFlagsForm(request.POST or None, instance=commune)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            form.save()
            flags = ["is_extremely_difficult", "is_safe_zone_poor", "is_border"]
            if set(flags) & set(form.changed_data):
                services.recompute_open_assessments(
                    user=request.user, cause=services.Cause.FLAGS, communes=[commune]
                )
                details = {"changes": audit.changes(form, flags)}
                audit.record(request, audit.Action.COMMUNE_FLAGS, commune, details=details)
        messages.success(request, _("The commune's details were saved."))
        return redirect("assessments:commune", pk=commune.pk)
    return render(request, "assessments/commune_form.html", {"commune": commune, "form": form})


def _village_commune(request: HttpRequest, pk: int) -> Commune:
    """A commune in the user's scope (else 404) whose villages the user may change (else 403)."""
    commune = get_object_or_404(Commune.objects.for_user(request.user), pk=pk)
    if not workflow.may_edit_villages(request.user, commune):
        raise PermissionDenied
    return commune


def _save_village(request: HttpRequest, form: VillageForm, commune: Commune) -> Village:
    """Save the village and decide the commune's open assessments again, in one transaction."""
    with transaction.atomic():
        village = form.save()
        services.recompute_open_assessments(
            user=request.user, cause=services.Cause.VILLAGES, communes=[commune]
        )
    return village


@require_POST
def village_add(request: HttpRequest, pk: int) -> HttpResponse:
    commune = _village_commune(request, pk)
    form = VillageForm(request.POST, commune=commune)
    if form.is_valid():
        village = _save_village(request, form, commune)
        messages.success(request, _("The village “%(name)s” was added.") % {"name": village.name})
        return redirect("assessments:commune", pk=commune.pk)
    return _render_commune(request, commune, form)


def village_edit(request: HttpRequest, pk: int) -> HttpResponse:
    village = get_object_or_404(Village.objects.for_user(request.user), pk=pk)
    commune = _village_commune(request, village.commune_id)
    form = VillageForm(request.POST or None, instance=village, commune=commune)
    if request.method == "POST" and form.is_valid():
        _save_village(request, form, commune)
        messages.success(request, _("The village was saved."))
        return redirect("assessments:commune", pk=commune.pk)
    context = {"commune": commune, "village": village, "form": form}
    return render(request, "assessments/village_form.html", context)


def _require_user_manager(request: HttpRequest) -> None:
    if not workflow.may_manage_accounts(request.user):
        raise PermissionDenied


def _managed_account(request: HttpRequest, pk: int) -> User:
    """An account the administrator manages (else 404: another province's, staff, superuser)."""
    _require_user_manager(request)
    return get_object_or_404(workflow.manageable_accounts(request.user), pk=pk)


def user_list(request: HttpRequest) -> HttpResponse:
    _require_user_manager(request)
    users = workflow.manageable_accounts(request.user).order_by("-is_active", "role", "username")
    return render(request, "assessments/user_list.html", {"users": users})


def user_create(request: HttpRequest) -> HttpResponse:
    _require_user_manager(request)
    form = UserCreateForm(request.POST or None, manager=request.user)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            user = form.save()
            details = {"changes": audit.changes(form, UserForm.Meta.fields)}
            audit.record(request, audit.Action.ACCOUNT_CREATE, user, details=details)
        messages.success(
            request, _("The account “%(name)s” was created.") % {"name": user.username}
        )
        return redirect("assessments:user_list")
    return render(request, "assessments/user_form.html", {"form": form, "creating": True})


def user_edit(request: HttpRequest, pk: int) -> HttpResponse:
    account = _managed_account(request, pk)
    form = UserForm(request.POST or None, instance=account, manager=request.user)
    if request.method == "POST" and form.is_valid():
        if account == request.user and not form.cleaned_data["is_active"]:
            form.add_error("is_active", _("You cannot deactivate your own account."))
        else:
            with transaction.atomic():
                form.save()
                if form.changed_data:
                    role_or_unit = set(form.changed_data) & set(UserForm.ROLE_AND_UNIT)
                    action = (
                        audit.Action.ACCOUNT_ROLE if role_or_unit else audit.Action.ACCOUNT_CHANGE
                    )
                    details = {"changes": audit.changes(form)}
                    audit.record(request, action, account, details=details)
            messages.success(request, _("The account was saved."))
            return redirect("assessments:user_list")
    return render(request, "assessments/user_form.html", {"form": form, "account": account})


def user_password(request: HttpRequest, pk: int) -> HttpResponse:
    account = _managed_account(request, pk)
    form = PasswordResetByManagerForm(account, request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            form.save()
            audit.record(request, audit.Action.ACCOUNT_PASSWORD, account)
        messages.success(
            request,
            _("The new password of “%(name)s” is set. Give it to them in person.")
            % {"name": account.username},
        )
        return redirect("assessments:user_list")
    return render(request, "assessments/user_password.html", {"form": form, "account": account})


AUDIT_PAGE_SIZE = 50


def audit_log(request: HttpRequest) -> HttpResponse:
    """Who changed accounts, roles, periods, criteria sets, reviewers, commune groups and flags
    in the province: newest first, one kind of change or all."""
    if not workflow.may_read_audit(request.user):
        raise PermissionDenied
    form = AuditFilterForm(request.GET or None)
    kind = form.cleaned_data["kind"] if form.is_valid() else ""
    entries = audit.entries_for(request.user, kind)
    page = Paginator(entries, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        {"entry": e, "label": audit.label(e.action), "details": audit.detail_lines(e)} for e in page
    ]
    context = {"form": form, "kind": kind, "page": page, "rows": rows}
    return render(request, "assessments/audit_log.html", context)


# ---------------------------------------------------------------- reviewer assignments


def review_assignments(request: HttpRequest) -> HttpResponse:
    """The province administrator says which communes each Sở KH&CN reviewer appraises."""
    if not workflow.may_manage_province(request.user) or not request.user.province_id:
        raise PermissionDenied
    province = request.user.province
    form = ReviewAssignmentForm(request.POST or None, province=province)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        communes = None if data["whole_province"] else list(data["communes"])
        with transaction.atomic():
            services.assign_reviewer(
                user=request.user, reviewer=data["reviewer"], communes=communes
            )
            details = (
                {"whole_province": True}
                if communes is None
                else {"communes": [c.name for c in communes]}
            )
            audit.record(request, audit.Action.REVIEWERS_ASSIGN, data["reviewer"], details=details)
        messages.success(
            request,
            _("The communes of “%(name)s” were saved.") % {"name": data["reviewer"].username},
        )
        return redirect("assessments:review_assignments")
    assignments: dict[int, list] = {}
    for a in ReviewAssignment.objects.filter(province=province).select_related("commune"):
        assignments.setdefault(a.reviewer_id, []).append(a.commune)
    reviewers = [
        {"user": r, "communes": assignments.get(r.pk, [])} for r in form.fields["reviewer"].queryset
    ]
    context = {"form": form, "reviewers": reviewers}
    return render(request, "assessments/review_assignments.html", context)


# ---------------------------------------------------------------- periods


def _require_province_admin(request: HttpRequest) -> None:
    if not workflow.may_manage_province(request.user):
        raise PermissionDenied


def period_list(request: HttpRequest) -> HttpResponse:
    periods = AssessmentPeriod.objects.for_user(request.user).prefetch_related("criteria_sets")
    can_create = workflow.may_create_period(request.user)
    form = PeriodForm(province=request.user.province) if can_create else None
    return render(request, "assessments/period_list.html", {"periods": periods, "form": form})


@require_POST
def period_create(request: HttpRequest) -> HttpResponse:
    if not workflow.may_create_period(request.user):
        raise PermissionDenied
    form = PeriodForm(request.POST, province=request.user.province)
    if form.is_valid():
        with transaction.atomic():
            period = form.save()
            details = {
                "name": period.name,
                "year": period.year,
                "sets": [str(s) for s in form.cleaned_data["criteria_sets"]],
                "reference_date": period.reference_date,
            }
            audit.record(request, audit.Action.PERIOD_CREATE, period, details=details)
        messages.success(
            request,
            _("The period “%(name)s” was created. Open it when entry may start.")
            % {"name": period.name},
        )
        return redirect("assessments:period_list")
    periods = AssessmentPeriod.objects.for_user(request.user).prefetch_related("criteria_sets")
    return render(request, "assessments/period_list.html", {"periods": periods, "form": form})


@require_POST
def period_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    _require_province_admin(request)
    period = get_object_or_404(AssessmentPeriod.objects.for_user(request.user), pk=pk)
    period.is_open = not period.is_open
    with transaction.atomic():
        period.save(update_fields=["is_open", "updated_at"])  # updated_at: the report stamp
        action = audit.Action.PERIOD_OPEN if period.is_open else audit.Action.PERIOD_CLOSE
        audit.record(request, action, period)
    text = (
        _("The period is open for entry.")
        if period.is_open
        else _("The period is closed: entry is refused unless a reviewer reopens an assessment.")
    )
    messages.success(request, text)
    return redirect("assessments:period_list")


# ---------------------------------------------------------------- worklist


def _periods(request: HttpRequest) -> list[AssessmentPeriod]:
    return list(AssessmentPeriod.objects.for_user(request.user).prefetch_related("criteria_sets"))


def worklist_page(request: HttpRequest) -> HttpResponse:
    """The communes in the user's scope with their assessment's state and what is missing:
    filtered, searched, sorted and paged as the query string says."""
    user = request.user
    form = WorklistForm(request.GET, user=user, periods=_periods(request))
    form.is_valid()  # a value not understood is named on the page and left out
    period, criteria_set = form.period, form.criteria_set
    page, rows = None, []
    if period and criteria_set:
        communes = worklist.communes_to_assess(user, period, criteria_set)
        communes = form.order(form.filter(communes))
        page = Paginator(communes, worklist.PAGE_SIZE).get_page(form.cleaned_data.get("page"))
        rows = worklist.rows_for(list(page.object_list), period, criteria_set, user)
    district = form.chosen_district
    context = {
        "form": form,
        "period": period,
        "criteria_set": criteria_set,
        "district": district,
        "page": page,
        "rows": rows,
        "columns": form.columns(with_district=bool(form.districts)),
        "show_district": bool(form.districts),
        "page_links": form.page_links(page) if page else {},
        "here": f"{reverse('assessments:worklist')}?{form.query()}",
        "can_create": workflow.may_create_any(user),
        "can_create_all": workflow.may_create_in_bulk(user),
        "excel_district": user.district
        if user.district_id
        and period
        and period.has_districts
        and workflow.may_enter_for_district(user, user.district)
        else None,
        "bulk_approval": workflow.may_approve_in_bulk(user) and any(r.approvable for r in rows),
        "none_started": bool(rows) and not any(r.assessment for r in rows),
        "district_approval": district is not None and workflow.may_approve_in_bulk(user),
    }
    return render(request, "assessments/worklist.html", context)


def _ids(form: PeriodSetForm) -> dict:
    """The ids a link or a button sent, as numbers; a 400 when one is not an id at all (the
    pages never send that: the request was typed or made up)."""
    if not form.is_valid():
        raise BadRequest("an id in the request is not a whole number an id column holds")
    return form.cleaned_data


def _period_and_set_of(request: HttpRequest, ids: dict):
    """The period (in the user's scope) and one of its sets, else 404."""
    period = get_object_or_404(AssessmentPeriod.objects.for_user(request.user), pk=ids["period"])
    return period, get_object_or_404(period.criteria_sets, pk=ids["set"])


@require_POST
def assessment_create(request: HttpRequest) -> HttpResponse:
    ids = _ids(AssessmentCreateForm(request.POST))
    commune = get_object_or_404(Commune.objects.for_user(request.user), pk=ids["commune"])
    period, criteria_set = _period_and_set_of(request, ids)
    if not workflow.can_create(request.user, commune):
        raise PermissionDenied
    try:
        assessment = services.create_assessment(
            user=request.user, commune=commune, criteria_set=criteria_set, period=period
        )
    except services.WorkflowError as error:
        messages.error(request, str(error))
        return redirect(_worklist_url(period, criteria_set))
    return redirect("assessments:assessment", pk=assessment.pk)


@require_POST
def assessment_create_all(request: HttpRequest) -> HttpResponse:
    period, criteria_set = _period_and_set_of(request, _ids(PeriodSetForm(request.POST)))
    if not workflow.may_create_in_bulk(request.user):
        raise PermissionDenied
    try:
        created = services.create_for_scope(
            user=request.user, criteria_set=criteria_set, period=period
        )
    except services.WorkflowError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("%(n)s draft assessments were created.") % {"n": len(created)})
    return redirect(_worklist_url(period, criteria_set))


def _worklist_url(period, criteria_set) -> str:
    return f"{reverse('assessments:worklist')}?period={period.pk}&set={criteria_set.pk}"


# ---------------------------------------------------------------- the assessment page


def _assessment(request: HttpRequest, pk: int) -> Assessment:
    return get_object_or_404(Assessment.objects.for_user(request.user), pk=pk)


def assessment_page(
    request: HttpRequest,
    pk: int,
    bound: IndicatorEntryForm | None = None,
    conflict: services.VersionConflict | None = None,
    status: int = 200,
):
    assessment = _assessment(request, pk)
    indicators = services.indicators_of(assessment.criteria_set)
    villages = list(assessment.commune.villages.filter(is_active=True))
    results = {
        r.indicator_id: r
        for r in assessment.results.select_related("updated_by").prefetch_related(
            Prefetch("evidence", queryset=Evidence.objects.select_related("added_by"))
        )
    }
    allowed = assessment.allowed_actions(request.user)
    editable = Action.ENTER in allowed
    key = services.target_keys([assessment])[assessment.pk]
    sections = []
    for indicator in indicators:
        result = results.get(indicator.pk)
        form = None
        if bound is not None and bound.indicator.pk == indicator.pk:
            form = bound
        elif editable:
            form = IndicatorEntryForm(
                indicator=indicator, villages=villages, result=result, version=assessment.version
            )
        sections.append(
            {
                "indicator": indicator,
                "result": result,
                "target": target_for(indicator, key),
                "form": form,
                "evidence": list(result.evidence.all()) if result else [],
            }
        )
    user = request.user
    transitions = list(assessment.transitions.select_related("actor"))
    review = _review_of(assessment, transitions, sections)
    marks = marks_of_indicators(assessment.criteria_set, indicators)
    context = {
        "assessment": assessment,
        "sections": sections,
        "marks": marks,
        "to_confirm_footnotes": footnotes(marks),
        "villages": villages,
        "editable": editable,
        "transitions": transitions,
        "changes": assessment.changes.select_related("actor", "indicator")[:200],
        "conflict": conflict,
        "reason_form": ReasonForm(),
        "return_form": ReturnForm(indicators=indicators) if Action.RETURN in allowed else None,
        "review": review,
        "allowed": allowed,
        "can_submit": Action.SUBMIT in allowed,
        "submits_to_district": Action.SUBMIT in allowed
        and workflow.submission_goes_to_district(user, assessment),
        "can_forward": Action.FORWARD in allowed,
        "can_return": Action.RETURN in allowed,
        "can_review": Action.APPROVE in allowed,
        "can_reopen": Action.REOPEN in allowed,
        "missing": services.missing_for_submission(assessment, indicators, results)
        if assessment.state in (State.DRAFT, State.RETURNED)
        else [],
        "last_return": next(
            (t for t in reversed(transitions) if t.to_state == State.RETURNED), None
        ),
    }
    context.update(_way_back(request, assessment))
    return render(request, "assessments/assessment.html", context, status=status)


def _way_back(request: HttpRequest, assessment: Assessment) -> dict:
    """The worklist the assessment was opened from, its filters kept (a `next` that is a local
    worklist URL, else the worklist of its period and set), and the query that carries it
    through the page's saves."""
    chosen = worklist.local_worklist_url(request.GET.get("next"))
    return {
        "worklist_url": chosen or _worklist_url(assessment.period, assessment.criteria_set),
        "next_query": f"?{urlencode({'next': chosen})}" if chosen else "",
    }


def _back_to_assessment(request: HttpRequest, pk: int, anchor: str = "") -> HttpResponse:
    """Back to the assessment page after a save or a step, keeping the worklist it was opened
    from (the `next` every form of the page posts with, checked as _way_back checks it)."""
    chosen = worklist.local_worklist_url(request.GET.get("next"))
    query = f"?{urlencode({'next': chosen})}" if chosen else ""
    return redirect(f"{reverse('assessments:assessment', args=[pk])}{query}{anchor}")


@require_POST
def indicator_save(request: HttpRequest, pk: int, indicator_pk: int) -> HttpResponse:
    try:
        # The assessment is read once, locked until the entry is saved: the checks, the form
        # and the save see the same row, and nobody saves in between.
        with transaction.atomic():
            assessment = get_object_or_404(
                services.for_entry(Assessment.objects.in_scope_of(request.user)), pk=pk
            )
            if not workflow.takes_part_in(request.user, assessment, Action.ENTER):
                raise PermissionDenied
            found = services.indicator_of(assessment.criteria_set, indicator_pk)
            if found is None:
                raise Http404
            assessment.criteria_set, indicator, indicator_count = found
            villages = []
            if services.needs_villages(indicator):
                villages = list(assessment.commune.villages.filter(is_active=True))
            form = IndicatorEntryForm(
                request.POST,
                request.FILES,
                indicator=indicator,
                villages=villages,
                version=assessment.version,
            )
            if form.is_valid():
                services.save_entry(
                    user=request.user,
                    assessment=assessment,
                    indicator=indicator,
                    entry=form.entry(),
                    seen_version=form.cleaned_data["version"],
                    villages=villages,
                    locked=True,
                    indicator_count=indicator_count,
                )
        if not form.is_valid():
            messages.error(request, _("Nothing was saved: correct the fields marked in red."))
            return assessment_page(request, pk, bound=form, status=200)
        data = form.cleaned_data
        if data.get("file") or data.get("doc_number"):
            services.add_evidence(
                user=request.user,
                assessment=assessment,
                indicator=indicator,
                upload=data.get("file"),
                content_type=getattr(form, "file_content_type", ""),
                doc_number=data.get("doc_number") or "",
                doc_date=data.get("doc_date"),
                doc_issuer=data.get("doc_issuer") or "",
            )
    except services.VersionConflict as conflict:
        messages.error(
            request,
            _(
                "Someone else saved this assessment after you opened it, so your entry was not "
                "saved. Their changes are listed below; your entry is still in the form: check "
                "it and save again."
            ),
        )
        return assessment_page(request, pk, bound=form, conflict=conflict, status=409)
    except (services.WorkflowError, AssessmentLocked) as error:
        messages.error(request, str(error))
        return _back_to_assessment(request, pk)
    messages.success(request, _("Indicator %(code)s was saved.") % {"code": indicator.code})
    return _back_to_assessment(request, pk, f"#indicator-{indicator.code}")


def evidence_download(request: HttpRequest, pk: int) -> FileResponse:
    evidence = get_object_or_404(
        Evidence.objects.select_related("result__assessment").filter(
            result__assessment__in=Assessment.objects.for_user(request.user).values("pk")
        ),
        pk=pk,
    )
    if not evidence.file:
        raise Http404
    handle = evidence.file.open("rb")
    content_type = sniff(handle) or "application/octet-stream"  # what it is, not what it says
    return FileResponse(
        handle,
        as_attachment=True,
        filename=download_name(evidence.pk, content_type),
        content_type=content_type,
    )


@require_POST
def evidence_remove(request: HttpRequest, pk: int) -> HttpResponse:
    evidence = get_object_or_404(
        Evidence.objects.select_related("result__assessment", "result__indicator").filter(
            result__assessment__in=Assessment.objects.for_user(request.user).values("pk")
        ),
        pk=pk,
    )
    assessment_pk = evidence.result.assessment_id
    try:
        services.remove_evidence(user=request.user, evidence=evidence)
    except (services.WorkflowError, AssessmentLocked) as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The evidence was removed; it stays in the history."))
    return _back_to_assessment(request, assessment_pk)


def _workflow_step(
    request: HttpRequest, pk: int, action: str, step, success: str, **kwargs
) -> HttpResponse:
    """Take one workflow step: 403 for those who never take it, the reason in words for those
    who may not take it now."""
    assessment = _assessment(request, pk)
    if not workflow.takes_part_in(request.user, assessment, action):
        raise PermissionDenied
    try:
        step(user=request.user, assessment=assessment, **kwargs)
    except (services.WorkflowError, AssessmentLocked) as error:
        messages.error(request, str(error))
    else:
        messages.success(request, success)
    return _back_to_assessment(request, pk)


@require_POST
def assessment_submit(request: HttpRequest, pk: int) -> HttpResponse:
    return _workflow_step(
        request, pk, Action.SUBMIT, services.submit, _("The assessment was submitted.")
    )


@require_POST
def assessment_forward(request: HttpRequest, pk: int) -> HttpResponse:
    return _workflow_step(
        request,
        pk,
        Action.FORWARD,
        services.forward,
        _("The assessment was sent to the province."),
    )


@require_POST
def assessment_approve(request: HttpRequest, pk: int) -> HttpResponse:
    return _workflow_step(
        request,
        pk,
        Action.APPROVE,
        services.approve,
        _("The assessment was approved and is now locked."),
    )


def _reason_step(request: HttpRequest, pk: int, action: str, step, success: str):
    """A step that needs a written reason: read through the form (length, NUL characters)."""
    form = ReasonForm(request.POST, reason_required=False)  # the service words a blank reason
    if not form.is_valid():
        assessment = _assessment(request, pk)
        if not workflow.takes_part_in(request.user, assessment, action):
            raise PermissionDenied
        for error in form.errors.get("reason", []):
            messages.error(request, error)
        return _back_to_assessment(request, pk)
    return _workflow_step(request, pk, action, step, success, reason=form.cleaned_data["reason"])


def _review_of(assessment: Assessment, transitions: list[Transition], sections: list[dict]) -> dict:
    """The reviewers' notes per indicator: each step of the timeline gets the notes sent with it
    (`step.notes`); each section gets the note of the last return (`review_note`, highlighted
    until the assessment is decided) and, once it is back for review, what changed on that
    indicator since it was returned (`since_return`). No query when it was never returned."""
    for step in transitions:
        step.notes = []
    last = next((t for t in reversed(transitions) if t.to_state == State.RETURNED), None)
    if last is None:
        return {}
    if any(t.action == Action.RETURN for t in transitions):
        steps = {t.pk: t for t in transitions}
        for note in ReviewNote.objects.filter(assessment=assessment).select_related(
            "indicator", "author"
        ):
            if note.transition_id in steps:
                steps[note.transition_id].notes.append(note)
    notes = {note.indicator_id: note for note in last.notes}
    in_review = assessment.state in (State.SUBMITTED, State.DISTRICT_REVIEW)
    changes: dict[int, list[Change]] = {}
    if in_review:
        for change in (
            Change.objects.filter(assessment=assessment, indicator__isnull=False, at__gte=last.at)
            .exclude(field="review_note")
            .select_related("actor")
            .order_by("at", "pk")
        ):
            changes.setdefault(change.indicator_id, []).append(change)
    for section in sections:
        pk = section["indicator"].pk
        if assessment.state == State.RETURNED or in_review:
            section["review_note"] = notes.get(pk)
        section["since_return"] = changes.get(pk, []) if in_review else None
    return {
        "step": last,
        "in_review": in_review,
        "changed": [s["indicator"] for s in sections if s["since_return"]],
        "unchanged": [
            s["indicator"] for s in sections if s.get("review_note") and not s["since_return"]
        ]
        if in_review
        else [],
    }


@require_POST
def assessment_return(request: HttpRequest, pk: int) -> HttpResponse:
    """Return with a reason, with notes on single indicators ("cần bổ sung"), or both."""
    assessment = _assessment(request, pk)
    if not workflow.takes_part_in(request.user, assessment, Action.RETURN):
        raise PermissionDenied
    indicators = services.indicators_of(assessment.criteria_set)
    form = ReturnForm(request.POST, indicators=indicators)
    if not form.is_valid():
        for name, errors in form.errors.items():
            label = form.fields[name].label if name in form.fields else ""
            for error in errors:
                messages.error(request, f"{label}: {error}" if label else error)
        return _back_to_assessment(request, pk)
    return _workflow_step(
        request,
        pk,
        Action.RETURN,
        services.return_assessment,
        _("The assessment was returned with your reason."),
        reason=form.cleaned_data["reason"],
        notes=form.notes(),
    )


@require_POST
def assessment_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    return _reason_step(
        request,
        pk,
        Action.REOPEN,
        services.reopen,
        _("The assessment was reopened for correction."),
    )


def notifications(request: HttpRequest) -> HttpResponse:
    """Each person chooses which kinds of e-mail they receive."""
    form = NotificationsForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Your e-mail choices were saved."))
        return redirect("assessments:notifications")
    return render(request, "assessments/notifications.html", {"form": form})


@require_POST
def assessment_copy_previous(request: HttpRequest, pk: int) -> HttpResponse:
    assessment = _assessment(request, pk)
    if not workflow.takes_part_in(request.user, assessment, Action.ENTER):
        raise PermissionDenied
    try:
        copied = services.copy_from_previous(user=request.user, assessment=assessment)
    except (services.WorkflowError, AssessmentLocked) as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("%(n)s indicators were filled in from the previous period. Check them.")
            % {"n": copied},
        )
    return _back_to_assessment(request, pk)


def approve_selected(request: HttpRequest) -> HttpResponse:
    """A reviewer approves the submitted assessments ticked on the worklist, after confirming."""
    if not workflow.may_approve_in_bulk(request.user):
        raise PermissionDenied
    return _bulk_approval(request, _submitted_for(request.user), reverse("assessments:worklist"))


def approve_district(request: HttpRequest, pk: int) -> HttpResponse:
    """Every submitted assessment of a district, ticked to approve: the worklist's bulk approval
    with the whole district chosen."""
    if not workflow.may_approve_in_bulk(request.user):
        raise PermissionDenied
    district = get_object_or_404(District.objects.for_user(request.user), pk=pk)
    form = WorklistForm(request.GET, user=request.user, periods=_periods(request))
    form.is_valid()
    submitted = _submitted_for(request.user).filter(
        commune__district=district, period=form.period, criteria_set=form.criteria_set
    )
    back = f"{reverse('assessments:worklist')}?{form.query(district=district.pk)}"
    return _bulk_approval(request, submitted, back, district=district, tick_all=True)


def _submitted_for(user) -> QuerySet[Assessment]:
    """The submitted assessments in the reviewer's part of the province."""
    return (
        Assessment.objects.for_user(user)
        .filter(workflow.reviewer_filter(user), state=State.SUBMITTED)
        .order_by("commune__sort_key", "period", "criteria_set__code")
    )


def _bulk_approval(
    request: HttpRequest,
    submitted: QuerySet[Assessment],
    back: str,
    *,
    district: District | None = None,
    tick_all: bool = False,
) -> HttpResponse:
    """Confirm (GET) then approve (POST) the ticked assessments, all or none, through the
    approval service: its lock, its history and its checks of who may approve what."""
    data = request.POST if request.method == "POST" else request.GET
    if tick_all and request.method != "POST":
        data = QueryDict(mutable=True)
        approvable = workflow.approvable(request.user, submitted)
        data.setlist("assessment", [str(a.pk) for a in approvable])
        data["next"] = back
    form = BulkApprovalForm(data, assessments=submitted)
    chosen, refused = [], []
    if form.is_valid():
        back = form.cleaned_data["next"] or back
        ticked = list(form.cleaned_data["assessment"])
        chosen = workflow.approvable(request.user, ticked)
        refused = [a for a in ticked if a not in chosen]
        if refused:
            form.add_error(
                "assessment",
                _("You cannot approve these now: %(names)s.")
                % {"names": ", ".join(a.commune.label for a in refused)},
            )
    if request.method == "POST" and form.is_valid():
        try:
            services.approve_all(user=request.user, assessments=chosen)
        except (services.WorkflowError, AssessmentLocked) as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("%(n)s assessments were approved.") % {"n": len(chosen)})
        return redirect(back)
    context = {"form": form, "assessments": chosen, "district": district, "back": back}
    return render(request, "assessments/bulk_approve.html", context)


# ---------------------------------------------------------------- offline entry through Excel

IMPORT_SESSION_KEY = "excel_entry"


def _entry_district(request: HttpRequest, pk: int) -> District:
    district = get_object_or_404(District.objects.for_user(request.user), pk=pk)
    if not workflow.may_enter_for_district(request.user, district):
        raise PermissionDenied
    return district


def _period_set_from(request: HttpRequest, data):
    return _period_and_set_of(request, _ids(PeriodSetForm(data)))


def excel_template(request: HttpRequest, pk: int) -> FileResponse:
    district = _entry_district(request, pk)
    period, criteria_set = _period_set_from(request, request.GET)
    communes = list(
        Commune.objects.for_user(request.user)
        .in_district(district)
        .current(period.reference_date)
        .rural()
        .order_by("sort_key")
    )
    content = excel_entry.build_template(
        district=district, period=period, criteria_set=criteria_set, communes=communes
    )
    filename = f"Mẫu nhập liệu - {district.name} - {period.name}.xlsx"
    return xlsx.download(content, filename)


def excel_upload(request: HttpRequest, pk: int) -> HttpResponse:
    """Read a filled-in template and show what would change; nothing is saved here."""
    district = _entry_district(request, pk)
    period, criteria_set = _period_set_from(request, request.POST or request.GET)
    form = EntryWorkbookForm(request.POST or None, request.FILES or None)
    plan = None
    if request.method == "POST":  # a new upload replaces the one checked before
        excel_entry.drop_preview((request.session.pop(IMPORT_SESSION_KEY, None) or {}).get("path"))
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["workbook"]
        try:
            plan = excel_entry.read_upload(
                upload,
                user=request.user,
                district=district,
                period=period,
                criteria_set=criteria_set,
            )
        except WorkbookInvalid as exc:
            form.add_error("workbook", exc.errors)
        else:
            upload.seek(0)
            request.session[IMPORT_SESSION_KEY] = {
                "path": excel_entry.save_preview(upload, user=request.user),
                "name": upload.name[:200],
                "district": district.pk,
                "period": period.pk,
                "set": criteria_set.pk,
                "versions": {str(k): v for k, v in plan.versions.items()},
            }
    context = {
        "district": district,
        "period": period,
        "criteria_set": criteria_set,
        "form": form,
        "plan": plan,
    }
    return render(request, "assessments/excel_upload.html", context)


@require_POST
def excel_apply(request: HttpRequest, pk: int) -> HttpResponse:
    district = _entry_district(request, pk)
    pending = request.session.get(IMPORT_SESSION_KEY)
    if not pending or pending["district"] != district.pk:
        messages.error(request, _("There is no checked file to apply: upload it again."))
        return redirect("assessments:worklist")
    period, criteria_set = _period_set_from(request, pending)
    worklist = _worklist_url(period, criteria_set)
    if not excel_entry.preview_is_live(pending["path"]):
        del request.session[IMPORT_SESSION_KEY]
        excel_entry.drop_preview(pending["path"])
        messages.error(
            request, _("Nothing was saved: the checked file has expired. Upload it again.")
        )
        return redirect(worklist)
    try:
        with default_storage.open(pending["path"], "rb") as handle:
            plan = excel_entry.read_upload(
                handle,
                user=request.user,
                district=district,
                period=period,
                criteria_set=criteria_set,
            )
        if {str(k): v for k, v in plan.versions.items()} != pending["versions"]:
            raise services.VersionConflict(None, 0)
        applied = excel_entry.apply_plan(
            plan,
            user=request.user,
            period=period,
            criteria_set=criteria_set,
            source=_("Excel file %(name)s") % {"name": pending["name"]},
        )
    except (WorkbookInvalid, services.VersionConflict, services.WorkflowError, AssessmentLocked):
        messages.error(
            request,
            _(
                "Nothing was saved: the assessments changed since the preview. Upload the file "
                "again to see the changes as they are now."
            ),
        )
        return redirect(worklist)
    finally:
        del request.session[IMPORT_SESSION_KEY]
        excel_entry.drop_preview(pending["path"])
    messages.success(
        request, _("%(n)s indicator entries were saved from the file.") % {"n": applied}
    )
    return redirect(worklist)


# ---------------------------------------------------------------- lists of communes by code
# A province administrator uploads a list (the communes a document flags, or each commune's
# group), sees what would change, and confirms. Between the two, the checked rows wait in the
# session; at confirmation the plan is made again and must be the one the preview showed.

FLAG_LIST_SESSION_KEY = "flag_list"
GROUP_LIST_SESSION_KEY = "group_list"


def _require_province_manager(request: HttpRequest) -> None:
    if not workflow.may_manage_province(request.user):
        raise PermissionDenied


def _managed_province(request: HttpRequest, pk: int) -> Province:
    provinces = Province.objects.all()
    if not request.user.is_superuser:
        provinces = provinces.filter(pk=request.user.province_id)
    return get_object_or_404(provinces, pk=pk)


def _list_rows(upload, province: Province, *, with_groups: bool = False):
    return unit_lists.read_list(
        upload,
        size=upload.size,
        max_rows=unit_lists.row_limit(province),
        with_groups=with_groups,
    )


def _stale_list(request: HttpRequest, url_name: str) -> HttpResponse:
    messages.error(
        request,
        _(
            "Nothing was saved: the communes changed since the preview, or the preview is gone. "
            "Upload the file again to see the changes as they are now."
        ),
    )
    return redirect(f"assessments:{url_name}")


def flag_import(request: HttpRequest) -> HttpResponse:
    """Read a list of the communes a document flags and show what would change."""
    _require_province_manager(request)
    form = FlagListForm(request.POST or None, request.FILES or None, user=request.user)
    plan = None
    if request.method == "POST":
        request.session.pop(FLAG_LIST_SESSION_KEY, None)  # a new file replaces the last preview
    if request.method == "POST" and form.is_valid():
        data, province = form.cleaned_data, form.chosen_province()
        try:
            rows = _list_rows(data["file"], province)
            plan = unit_lists.plan_flags(
                rows,
                province=province,
                flag=data["flag"],
                document=data["document"].strip(),
                valid_from=data["valid_from"],
                valid_to=data["valid_to"],
                complete=data["complete"],
            )
        except UnitFileInvalid as exc:
            form.add_error("file", exc.errors)
        else:
            request.session[FLAG_LIST_SESSION_KEY] = {
                "province": province.pk,
                "flag": plan.flag,
                "document": plan.document,
                "valid_from": plan.valid_from.isoformat(),
                "valid_to": plan.valid_to.isoformat() if plan.valid_to else None,
                "complete": plan.complete,
                "rows": [[r.number, r.code, r.name] for r in rows],
                "fingerprint": plan.fingerprint(),
            }
    return _render_list_import(
        request, "flag_import", _("Commune flags from a list"), form=form, plan=plan
    )


@require_POST
def flag_import_apply(request: HttpRequest) -> HttpResponse:
    _require_province_manager(request)
    pending = request.session.pop(FLAG_LIST_SESSION_KEY, None)
    if pending is None:
        return _stale_list(request, "flag_import")
    province = _managed_province(request, pending["province"])
    try:
        plan = unit_lists.plan_flags(
            [unit_lists.ListRow(*row) for row in pending["rows"]],
            province=province,
            flag=pending["flag"],
            document=pending["document"],
            valid_from=datetime.date.fromisoformat(pending["valid_from"]),
            valid_to=pending["valid_to"] and datetime.date.fromisoformat(pending["valid_to"]),
            complete=pending["complete"],
        )
        if plan.fingerprint() != pending["fingerprint"]:
            raise unit_lists.ListChanged
        with transaction.atomic():
            saved = unit_lists.apply_flags(plan, user=request.user)
            details = {
                "flag": plan.flag_label,
                "document": plan.document,
                "changed": saved,
                "complete": plan.complete,
            }
            audit.record(request, audit.Action.COMMUNE_FLAGS_IMPORT, province, details=details)
    except (UnitFileInvalid, unit_lists.ListChanged):
        return _stale_list(request, "flag_import")
    messages.success(
        request,
        _("%(flag)s: %(n)s communes changed, recorded with %(document)s.")
        % {"flag": plan.flag_label, "n": saved, "document": plan.document},
    )
    return redirect("assessments:province")


def group_import(request: HttpRequest) -> HttpResponse:
    """Read a list of communes and their groups for a set, and show what would change."""
    _require_province_manager(request)
    form = GroupListForm(
        request.POST or None, request.FILES or None, user=request.user, query=request.GET
    )
    plan = None
    if request.method == "POST":
        request.session.pop(GROUP_LIST_SESSION_KEY, None)  # a new file replaces the last preview
    if request.method == "POST" and form.is_valid():
        data, province = form.cleaned_data, form.chosen_province()
        try:
            rows = _list_rows(data["file"], province, with_groups=True)
            plan = unit_lists.plan_groups(
                rows,
                province=province,
                set_code=data["set_code"],
                document=data["document"].strip(),
            )
        except UnitFileInvalid as exc:
            form.add_error("file", exc.errors)
        else:
            request.session[GROUP_LIST_SESSION_KEY] = {
                "province": province.pk,
                "set_code": data["set_code"],
                "document": plan.document,
                "rows": [[r.number, r.code, r.name, r.group] for r in rows],
                "fingerprint": plan.fingerprint(),
            }
    return _render_list_import(
        request, "group_import", _("Commune groups from a list"), form=form, plan=plan
    )


def _render_list_import(request: HttpRequest, name: str, title: str, **context) -> HttpResponse:
    """The upload, preview and confirm page of a list of communes (templates/assessments/
    list_import_base.html)."""
    context.update(
        page_title=title,
        upload_url=reverse(f"assessments:{name}"),
        apply_url=reverse(f"assessments:{name}_apply"),
    )
    return render(request, f"assessments/{name}.html", context)


@require_POST
def group_import_apply(request: HttpRequest) -> HttpResponse:
    _require_province_manager(request)
    pending = request.session.pop(GROUP_LIST_SESSION_KEY, None)
    if pending is None:
        return _stale_list(request, "group_import")
    province = _managed_province(request, pending["province"])
    try:
        plan = unit_lists.plan_groups(
            [unit_lists.ListRow(*row) for row in pending["rows"]],
            province=province,
            set_code=pending["set_code"],
            document=pending["document"],
        )
        if plan.fingerprint() != pending["fingerprint"]:
            raise unit_lists.ListChanged
        with transaction.atomic():
            saved = unit_lists.apply_groups(plan, user=request.user)
            details = {"set": plan.criteria_set.code, "document": plan.document, "changed": saved}
            audit.record(request, audit.Action.COMMUNE_GROUPS_IMPORT, province, details=details)
    except (UnitFileInvalid, unit_lists.ListChanged):
        return _stale_list(request, "group_import")
    messages.success(
        request,
        _("%(set)s: %(n)s communes changed group.") % {"set": plan.criteria_set.name, "n": saved},
    )
    return redirect("assessments:province")
