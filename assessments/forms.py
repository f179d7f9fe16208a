from __future__ import annotations

from django import forms
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.password_validation import validate_password
from django.utils.translation import gettext_lazy as _

from .models import Commune, District, Role, User, Village

CHECKBOX = forms.CheckboxInput(attrs={"class": "form-check-input"})


class CommuneFilterForm(forms.Form):
    """The filters of a district's list of communes (GET)."""

    q = forms.CharField(label=_("Name or code"), required=False)
    kind = forms.ChoiceField(
        label=_("Kind"),
        required=False,
        choices=[("", _("All kinds")), *Commune.Kind.choices],
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )
    difficult = forms.BooleanField(label=_("ĐBKK only"), required=False, widget=CHECKBOX)
    border = forms.BooleanField(label=_("Border only"), required=False, widget=CHECKBOX)
    pilot = forms.BooleanField(label=_("Pilot communes only"), required=False, widget=CHECKBOX)
    ended = forms.BooleanField(label=_("Include ended units"), required=False, widget=CHECKBOX)

    def filter(self, communes):
        data = self.cleaned_data
        if data.get("q"):
            communes = communes.filter(name__icontains=data["q"]) | communes.filter(
                code=data["q"].strip()
            )
        if data.get("kind"):
            communes = communes.filter(kind=data["kind"])
        if data.get("difficult"):
            communes = communes.filter(is_extremely_difficult=True)
        if data.get("border"):
            communes = communes.filter(is_border=True)
        if data.get("pilot"):
            communes = communes.exclude(
                pilot_ntm_year__isnull=True, pilot_advanced_year__isnull=True
            )
        if not data.get("ended"):
            communes = communes.current()
        return communes


class CommuneFlagsForm(forms.ModelForm):
    class Meta:
        model = Commune
        fields = [
            "is_extremely_difficult",
            "is_border",
            "pilot_ntm_year",
            "pilot_advanced_year",
        ]
        help_texts = {
            "pilot_ntm_year": _("The year the commune aims to reach NTM; empty if not a pilot."),
            "pilot_advanced_year": _(
                "The year the commune aims to reach advanced NTM; empty if not a pilot."
            ),
        }

    def clean(self):
        data = super().clean()
        ntm, advanced = data.get("pilot_ntm_year"), data.get("pilot_advanced_year")
        for name in ("pilot_ntm_year", "pilot_advanced_year"):
            year = data.get(name)
            if year is not None and not 2000 <= year <= 2100:
                self.add_error(name, _("Enter a year between 2000 and 2100."))
        if ntm and advanced and advanced < ntm:
            self.add_error(
                "pilot_advanced_year",
                _("Advanced NTM cannot come before NTM (%(year)s).") % {"year": ntm},
            )
        return data


class VillageForm(forms.ModelForm):
    class Meta:
        model = Village
        fields = ["name", "is_active"]
        help_texts = {
            "is_active": _("Untick when the village no longer exists; it is never deleted.")
        }

    def __init__(self, *args, commune: Commune, **kwargs):
        super().__init__(*args, **kwargs)
        self.commune = commune
        self.instance.commune = commune

    def clean_name(self):
        name = " ".join(self.cleaned_data["name"].split())
        taken = Village.objects.filter(commune=self.commune, name__iexact=name)
        if self.instance.pk:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError(
                _("This commune already has a village named “%(name)s”.") % {"name": name}
            )
        return name


class UserForm(forms.ModelForm):
    """Create or change an account; the choices are limited to what the manager may grant."""

    class Meta:
        model = User
        fields = [
            "username",
            "first_name",
            "email",
            "role",
            "district",
            "commune",
            "is_active",
        ]
        labels = {"first_name": _("Full name"), "is_active": _("Account in use")}
        help_texts = {
            "district": _("Required for district officers; for a viewer, limits them to it."),
            "commune": _("Required for commune officers."),
            "is_active": _("Untick to stop the person from logging in; nothing they did is lost."),
        }

    def __init__(self, *args, manager: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.manager = manager
        self.fields["role"].required = True
        self.fields["role"].choices = [("", "---------")] + [
            (value, label) for value, label in Role.choices if value in manager.grantable_roles()
        ]
        self.fields["district"].queryset = District.objects.for_user(manager)
        self.fields["commune"].queryset = Commune.objects.for_user(manager).current()
        self.fields["commune"].label_from_instance = lambda c: c.label

    def clean(self):
        data = super().clean()
        role, district, commune = data.get("role"), data.get("district"), data.get("commune")
        if role == Role.DISTRICT_OFFICER and not district:
            self.add_error("district", _("Choose the district this officer works for."))
        if role == Role.COMMUNE_OFFICER and not commune:
            self.add_error("commune", _("Choose the commune this officer works for."))
        if role in (Role.PROVINCE_ADMIN, Role.PROVINCE_REVIEWER):
            data["district"] = data["commune"] = None
        if role == Role.DISTRICT_OFFICER:
            data["commune"] = None
        if role == Role.COMMUNE_OFFICER and commune:
            data["district"] = commune.district
        return data

    def save(self, commit: bool = True) -> User:
        user = super().save(commit=False)
        user.province = self.manager.province
        if commit:
            user.save()
        return user


class UserCreateForm(UserForm):
    password1 = forms.CharField(label=_("Password"), widget=forms.PasswordInput, strip=False)
    password2 = forms.CharField(label=_("Password again"), widget=forms.PasswordInput, strip=False)

    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error("password2", _("The two passwords are not the same."))
        elif data.get("password1"):
            try:
                validate_password(data["password1"], self.instance)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return data

    def save(self, commit: bool = True) -> User:
        user = super().save(commit=False)
        user.set_password(self.cleaned_data["password1"])
        if commit:
            user.save()
        return user


class PasswordResetByManagerForm(SetPasswordForm):
    """A manager sets a new password for someone who forgot theirs."""
