"""Pages for units, villages and accounts. Everything is fetched through the user's scope."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .forms import (
    CommuneFilterForm,
    CommuneFlagsForm,
    PasswordResetByManagerForm,
    UserCreateForm,
    UserForm,
    VillageForm,
)
from .models import Commune, District, Province, User, Village


def home(request: HttpRequest) -> HttpResponse:
    """Each user starts at the widest page their scope allows."""
    user = request.user
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
        return home(request)
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


def _render_commune(request: HttpRequest, commune: Commune, village_form: VillageForm):
    context = {
        "commune": commune,
        "villages": commune.villages.all(),
        "predecessors": commune.predecessors.select_related("district"),
        "can_edit": request.user.can_edit_commune(commune),
        "village_form": village_form,
    }
    return render(request, "assessments/commune.html", context)


def _editable_commune(request: HttpRequest, pk: int) -> Commune:
    """A commune in the user's scope (else 404) that the user may change (else 403)."""
    commune = get_object_or_404(Commune.objects.for_user(request.user), pk=pk)
    if not request.user.can_edit_commune(commune):
        raise PermissionDenied
    return commune


def commune_edit(request: HttpRequest, pk: int) -> HttpResponse:
    commune = _editable_commune(request, pk)
    form = CommuneFlagsForm(request.POST or None, instance=commune)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("The commune's details were saved."))
        return redirect("assessments:commune", pk=commune.pk)
    return render(request, "assessments/commune_form.html", {"commune": commune, "form": form})


@require_POST
def village_add(request: HttpRequest, pk: int) -> HttpResponse:
    commune = _editable_commune(request, pk)
    form = VillageForm(request.POST, commune=commune)
    if form.is_valid():
        village = form.save()
        messages.success(request, _("The village “%(name)s” was added.") % {"name": village.name})
        return redirect("assessments:commune", pk=commune.pk)
    return _render_commune(request, commune, form)


def village_edit(request: HttpRequest, pk: int) -> HttpResponse:
    village = get_object_or_404(Village.objects.for_user(request.user), pk=pk)
    commune = _editable_commune(request, village.commune_id)
    form = VillageForm(request.POST or None, instance=village, commune=commune)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("The village was saved."))
        return redirect("assessments:commune", pk=commune.pk)
    context = {"commune": commune, "village": village, "form": form}
    return render(request, "assessments/village_form.html", context)


def _require_user_manager(request: HttpRequest) -> None:
    if not request.user.can_manage_users:
        raise PermissionDenied


def user_list(request: HttpRequest) -> HttpResponse:
    _require_user_manager(request)
    users = User.objects.manageable_by(request.user).order_by("-is_active", "role", "username")
    return render(request, "assessments/user_list.html", {"users": users})


def user_create(request: HttpRequest) -> HttpResponse:
    _require_user_manager(request)
    form = UserCreateForm(request.POST or None, manager=request.user)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        messages.success(
            request, _("The account “%(name)s” was created.") % {"name": user.username}
        )
        return redirect("assessments:user_list")
    return render(request, "assessments/user_form.html", {"form": form, "creating": True})


def user_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _require_user_manager(request)
    account = get_object_or_404(User.objects.manageable_by(request.user), pk=pk)
    form = UserForm(request.POST or None, instance=account, manager=request.user)
    if request.method == "POST" and form.is_valid():
        if account == request.user and not form.cleaned_data["is_active"]:
            form.add_error("is_active", _("You cannot deactivate your own account."))
        else:
            form.save()
            messages.success(request, _("The account was saved."))
            return redirect("assessments:user_list")
    return render(request, "assessments/user_form.html", {"form": form, "account": account})


def user_password(request: HttpRequest, pk: int) -> HttpResponse:
    _require_user_manager(request)
    account = get_object_or_404(User.objects.manageable_by(request.user), pk=pk)
    form = PasswordResetByManagerForm(account, request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(
            request,
            _("The new password of “%(name)s” is set. Give it to them in person.")
            % {"name": account.username},
        )
        return redirect("assessments:user_list")
    return render(request, "assessments/user_password.html", {"form": form, "account": account})
