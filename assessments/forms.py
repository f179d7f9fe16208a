from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import forms
from django.conf import settings
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.password_validation import validate_password
from django.db.models import F, Q
from django.template.defaultfilters import filesizeformat
from django.utils.http import urlencode
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from criteria.models import CriteriaSet
from criteria.permissions import sets_of_province, visible_sets
from criteria.workbooks import WorkbookInvalid, check_xlsx_upload

from . import notify
from .audit import KINDS as AUDIT_KINDS
from .evidence import check_evidence_file, stored_name
from .models import (
    Assessment,
    AssessmentPeriod,
    Commune,
    CommuneFlagRecord,
    District,
    Province,
    Role,
    State,
    User,
    Village,
)
from .scoring import impossible_number, is_share
from .services import Entry
from .unit_import import UnitFileInvalid
from .unit_lists import check_list_upload
from .workflow import may_change_role_and_unit
from .worklist import (
    NOT_STARTED,
    WAITING,
    default_period,
    filter_by_state,
    local_worklist_url,
    periods_of,
)

CHECKBOX = forms.CheckboxInput(attrs={"class": "form-check-input"})
# The longest note, reason or explanation a person may write (the Excel upload says the same).
TEXT_MAX = 4000


# ---------------------------------------------------------------- ids named by links and buttons

MAX_ID = 2**63 - 1  # the largest id an id column holds


def id_field(**kwargs) -> forms.IntegerField:
    """An object's id as a link or a button sends it: a whole number an id column can hold.
    int() judges, not str.isdigit(): "²" is a digit to one and not to the other."""
    return forms.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


class PeriodSetForm(forms.Form):
    """The period and the criteria set a link or a button names."""

    period = id_field()
    set = id_field()


class AssessmentCreateForm(PeriodSetForm):
    """The commune, period and set of a new assessment, as the worklist's buttons send them."""

    commune = id_field()


class IdChoicesField(forms.ModelMultipleChoiceField):
    """Django's field, refusing an id no id column can hold before it reaches the database:
    Django guards an `exact` lookup against such a number but not the `in` lookup this field
    makes (SQLite raises OverflowError, PostgreSQL an out-of-range error)."""

    def clean(self, value):
        for pk in value if isinstance(value, list | tuple) else ():
            try:
                number = int(str(pk))
            except ValueError:
                continue  # not a number at all: Django's own check names it
            if not -MAX_ID - 1 <= number <= MAX_ID:
                raise forms.ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": pk},
                )
        return super().clean(value)


def fits_number_field(number: Decimal) -> bool:
    """Whether a number is small enough to write out and compare: the 12 digits of a number
    field, with room to spare. "1E+999999999" is a valid Decimal of a billion digits."""
    return number.is_finite() and (number.is_zero() or -20 <= number.adjusted() <= 20)


class CommuneFilterForm(forms.Form):
    """The filters of a district's list of communes (GET)."""

    q = forms.CharField(label=_("Name or code"), required=False, max_length=100)
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
            "is_safe_zone_poor",
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


def grouping_label(criteria_set: CriteriaSet) -> str:
    """A set's name where sets are listed for grouping communes: a province's own set shows its
    code, and a draft says it is one, so that it is not taken for the set in use of the same
    name."""
    name = criteria_set.name
    if criteria_set.owner_province_code:
        name = f"{name} ({criteria_set.code})"
    if criteria_set.status == CriteriaSet.Status.DRAFT:
        name = _("%(name)s (draft)") % {"name": name}
    return name


class CommuneGroupForm(forms.Form):
    """A commune's group for one criteria set whose targets go by commune group."""

    group = forms.ChoiceField(label=_("Commune group"), required=False)
    document = forms.CharField(
        label=_("Deciding document"),
        max_length=200,
        required=False,
        help_text=_("For example the province's decision that classifies the communes."),
    )

    def __init__(self, *args, criteria_set, **kwargs):
        kwargs.setdefault("prefix", f"g{criteria_set.pk}")
        super().__init__(*args, **kwargs)
        self.criteria_set = criteria_set
        self.fields["group"].choices = [("", _("Not grouped yet (chưa xếp nhóm)"))] + [
            (g.code, g.name) for g in criteria_set.commune_groups.all()
        ]


class ReviewAssignmentForm(forms.Form):
    """Which communes a province reviewer appraises: the whole province, or a list."""

    reviewer = forms.ModelChoiceField(label=_("Reviewer"), queryset=User.objects.none())
    whole_province = forms.BooleanField(label=_("The whole province"), required=False)
    communes = IdChoicesField(
        label=_("Communes"),
        queryset=Commune.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Tick each commune. Ignored when the whole province is ticked."),
    )

    def __init__(self, *args, province, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reviewer"].queryset = User.objects.filter(
            province=province, role=Role.PROVINCE_REVIEWER, is_active=True
        ).order_by("username")
        self.fields["communes"].queryset = (
            Commune.objects.filter(province=province).current().order_by("sort_key")
        )

    def clean(self):
        data = super().clean()
        if not data.get("whole_province") and not data.get("communes"):
            self.add_error("communes", _("Choose communes, or tick the whole province."))
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
    """Create or change an account; the choices are limited to what the manager may grant.

    Nobody changes their own role or unit: on their own account those fields are shown but
    disabled, so a forged value is ignored (a disabled field keeps the account's value)."""

    ROLE_AND_UNIT = ("role", "district", "commune")

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
        if not may_change_role_and_unit(manager, self.instance):
            for name in self.ROLE_AND_UNIT:
                self.fields[name].disabled = True
                self.fields[name].help_text = _("Nobody changes their own role or unit.")

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


class AuditFilterForm(forms.Form):
    """The audit log page's filter: one kind of change, or all."""

    kind = forms.ChoiceField(
        label=_("Kind of change"),
        required=False,
        choices=[("", _("All changes")), *AUDIT_KINDS.items()],
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )


# ---------------------------------------------------------------- assessments

YES_NO_CHOICES = [("", _("— not entered —")), ("yes", _("Yes")), ("no", _("No"))]
# A condition or a village cell: yes, no, or not entered yet (never read as no).
ANSWER_CHOICES = [("yes", _("Yes")), ("no", _("No")), ("", _("Not entered"))]
ANSWERS = {"yes": True, "no": False}
OVERRIDE_CHOICES = [
    ("", _("Use the computed result")),
    ("met", _("Met")),
    ("not_met", _("Not met")),
]


class IndicatorEntryForm(forms.Form):
    """The entry of one indicator, with the inputs its type needs, a note and new evidence."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    override = forms.ChoiceField(
        label=_("Result"),
        choices=OVERRIDE_CHOICES,
        required=False,
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )
    override_reason = forms.CharField(
        label=_("Reason for setting the result yourself"),
        required=False,
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    no_evidence_explanation = forms.CharField(
        label=_("Why there is no evidence"),
        required=False,
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Needed before submitting when the indicator is met without any evidence."),
    )
    file = forms.FileField(label=_("Evidence file"), required=False)
    doc_number = forms.CharField(
        label=_("Document number"),
        max_length=100,
        required=False,
        help_text=_("For a document (decision, report, minutes); leave empty for a photo."),
    )
    doc_date = forms.DateField(
        label=_("Document date"),
        required=False,
        input_formats=["%d/%m/%Y", "%Y-%m-%d"],
        widget=forms.DateInput(attrs={"placeholder": "dd/mm/yyyy"}),
    )
    doc_issuer = forms.CharField(label=_("Issued by"), max_length=200, required=False)

    def __init__(self, *args, indicator, villages, result=None, version: int, **kwargs):
        kwargs.setdefault("prefix", f"i{indicator.pk}")
        initial = kwargs.pop("initial", {}) or {}
        initial["version"] = version
        self.indicator, self.villages, self.result = indicator, villages, result
        inputs = result.inputs if result else {}
        if result:
            initial.update(
                override={True: "met", False: "not_met"}.get(result.override_met, ""),
                override_reason=result.override_reason,
                note=result.note,
                no_evidence_explanation=result.no_evidence_explanation,
            )
        super().__init__(*args, initial=initial, **kwargs)
        self.fields["file"].help_text = _("PDF, JPEG, PNG, Word or Excel, at most %(size)s.") % {
            "size": filesizeformat(settings.EVIDENCE_MAX_BYTES)
        }
        value_type = indicator.value_type
        self.condition_names, self.grid = [], []
        if value_type == "yes_no":
            self.fields["value"] = forms.ChoiceField(
                label=_("Answer"),
                choices=YES_NO_CHOICES,
                required=False,
                widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
            )
            self.initial["value"] = {True: "yes", False: "no"}.get(inputs.get("value"), "")
        elif value_type in ("number", "percentage"):
            self.fields["value"] = _number_field(
                _("Percentage") if value_type == "percentage" else _("Value"),
                share=is_share(indicator),
            )
            self.initial["value"] = _shown_number(inputs.get("value"))
        else:
            answers = inputs.get("conditions") or {}
            for condition in indicator.conditions.all():
                if condition.scope != "commune":
                    continue
                name = f"c_{condition.code}"
                self.fields[name] = self._condition_field(indicator, condition)
                answer = answers.get(condition.code)
                self.initial[name] = (
                    _shown_number(answer) if condition.threshold is not None else _answer(answer)
                )
                self.condition_names.append((condition, name))
            village_conditions = [c for c in indicator.conditions.all() if c.scope == "village"]
            self.village_conditions = village_conditions
            grid = inputs.get("villages") or {}
            for village in villages if village_conditions else []:
                names = []
                answers = grid.get(str(village.pk)) or {}
                for condition in village_conditions:
                    name = f"v_{village.pk}_{condition.code}"
                    label = f"{village.name}: {condition.text}"
                    if condition.threshold is not None:
                        self.fields[name] = _number_field(
                            label, share=is_share(indicator, condition), cell=True
                        )
                        self.initial[name] = _shown_number(answers.get(condition.code))
                    else:
                        self.fields[name] = _answer_field(
                            label,
                            forms.Select(
                                attrs={"class": "form-select form-select-sm", "aria-label": label}
                            ),
                        )
                        self.initial[name] = _answer(answers.get(condition.code))
                    names.append(name)
                self.grid.append((village, names))

    @staticmethod
    def _condition_field(indicator, condition):
        if condition.threshold is not None:
            return _number_field(condition.text, share=is_share(indicator, condition))
        return _answer_field(condition.text, forms.RadioSelect(attrs={"class": "form-check-input"}))

    def unsaved_file_name(self) -> str:
        """The name of the file posted with this form, "" if none. A bound form is shown again only
        when nothing was saved (an error, or someone else saved first), and a browser cannot
        refill a file input: the page names the file so that it is chosen again."""
        upload = self.files.get(self.add_prefix("file")) if self.is_bound else None
        return upload.name if upload else ""

    def condition_fields(self):
        """(condition, bound field, whether the number is a share) for the commune's conditions."""
        return [
            (condition, self[name], is_share(self.indicator, condition))
            for condition, name in self.condition_names
        ]

    def has_answer_conditions(self) -> bool:
        """Whether some commune condition is answered yes / no (and can be filled at once)."""
        return any(condition.threshold is None for condition, _name in self.condition_names)

    def grid_rows(self):
        """(village, [(condition, bound field)]) for the village grid."""
        return [
            (village, list(zip(self.village_conditions, [self[n] for n in names], strict=True)))
            for village, names in self.grid
        ]

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if upload:
            self.file_content_type = check_evidence_file(upload)
            upload.name = stored_name(upload.name, self.file_content_type)
        return upload

    def clean(self):
        data = super().clean()
        if data.get("override") and not (data.get("override_reason") or "").strip():
            self.add_error(
                "override_reason",
                _("Write why you set the result yourself instead of the computed one."),
            )
        if (data.get("doc_date") or data.get("doc_issuer")) and not data.get("doc_number"):
            self.add_error(
                "doc_number",
                _(
                    "A document with a date or an issuer has a number: enter it. For a photo, "
                    "leave the date and the issuer empty."
                ),
            )
        return data

    def inputs(self) -> dict:
        data = self.cleaned_data
        value_type = self.indicator.value_type
        if value_type == "yes_no":
            return {"value": {"yes": True, "no": False}.get(data.get("value"))}
        if value_type in ("number", "percentage"):
            value = data.get("value")
            return {"value": None if value is None else str(value)}
        conditions = {
            condition.code: _stored(condition, data.get(name))
            for condition, name in self.condition_names
        }
        inputs = {"conditions": conditions}
        if self.grid:
            inputs["villages"] = {
                str(village.pk): {
                    condition.code: _stored(condition, data.get(name))
                    for condition, name in zip(self.village_conditions, names, strict=True)
                }
                for village, names in self.grid
            }
        return inputs

    def entry(self) -> Entry:
        override = {"met": True, "not_met": False}.get(self.cleaned_data.get("override"))
        return Entry(
            inputs=self.inputs(),
            override_met=override,
            override_reason=self.cleaned_data.get("override_reason") or "",
            note=self.cleaned_data.get("note") or "",
            no_evidence_explanation=self.cleaned_data.get("no_evidence_explanation") or "",
        )


def _answer(stored) -> str:
    """The choice showing a stored answer: True is yes, False is no, anything else not entered."""
    if stored is True or stored is False:
        return "yes" if stored else "no"
    return ""


def _answer_field(label: str, widget: forms.Widget) -> forms.TypedChoiceField:
    """Yes / no / not entered yet: True, False or None once cleaned."""
    return forms.TypedChoiceField(
        label=label,
        choices=ANSWER_CHOICES,
        coerce=ANSWERS.get,
        empty_value=None,
        required=False,
        widget=widget,
    )


def _number_field(label: str, *, share: bool, cell: bool = False) -> forms.DecimalField:
    """A number that can be an answer: a share from 0 to 100, or a count from 0."""

    def possible(number):
        if not fits_number_field(number):
            return  # the field's own check names it; a huge exponent is not even written out
        problem = impossible_number(number, share=share)
        if problem:
            raise forms.ValidationError(problem, code="impossible")

    attrs = {"inputmode": "decimal"}
    if cell:
        attrs.update({"class": "form-control form-control-sm", "aria-label": label})
    return forms.DecimalField(
        label=label,
        required=False,
        max_digits=12,
        decimal_places=2,
        localize=True,
        validators=[possible],
        widget=forms.TextInput(attrs=attrs),
    )


def _shown_number(stored):
    """A stored number (kept as text, "74.00") as the form shows it: a Decimal without trailing
    zeros, which the localized field writes with a decimal comma ("74", "85,5"). Anything else
    as it is."""
    try:
        number = Decimal(str(stored))
    except (InvalidOperation, ValueError, TypeError):
        return stored
    if not number.is_finite():
        return stored
    return number.quantize(Decimal(1)) if number == number.to_integral() else number.normalize()


def _stored(condition, value):
    """How an answer is kept in `inputs`: a number as text, True / False, None if not entered."""
    if condition.threshold is not None and value is not None:
        return str(value)
    return value


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Write the reason, so the officer knows what to fix.")},
    )

    def __init__(self, *args, reason_required: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = reason_required


class PeriodForm(forms.ModelForm):
    class Meta:
        model = AssessmentPeriod
        fields = ["name", "year", "criteria_sets", "reference_date", "opens_on", "closes_on"]
        widgets = {
            "criteria_sets": forms.CheckboxSelectMultiple,
            "reference_date": forms.DateInput(attrs={"placeholder": "dd/mm/yyyy"}),
            "opens_on": forms.DateInput(attrs={"placeholder": "dd/mm/yyyy"}),
            "closes_on": forms.DateInput(attrs={"placeholder": "dd/mm/yyyy"}),
        }
        field_classes = {"criteria_sets": IdChoicesField}

    def __init__(self, *args, province, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.province = province
        # a province's periods use the national sets and the province's own
        self.fields["criteria_sets"].queryset = sets_of_province(
            province.code, CriteriaSet.objects.filter(status="active")
        )
        for name in ("reference_date", "opens_on", "closes_on"):
            self.fields[name].input_formats = ["%d/%m/%Y", "%Y-%m-%d"]

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        others = AssessmentPeriod.objects.filter(province=self.instance.province, name=name)
        if others.exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(_("The province already has a period with this name."))
        return name

    def clean(self):
        data = super().clean()
        if data.get("opens_on") and data.get("closes_on") and data["closes_on"] < data["opens_on"]:
            self.add_error("closes_on", _("The closing date must not be before the opening date."))
        return data


class EntryWorkbookForm(forms.Form):
    workbook = forms.FileField(
        label=_("Filled-in template (.xlsx)"),
        help_text=_(
            "The template downloaded from this page, filled in. Nothing is saved before "
            "you confirm the preview."
        ),
    )

    def clean_workbook(self):
        upload = self.cleaned_data["workbook"]
        try:
            check_xlsx_upload(upload, size=upload.size)
        except WorkbookInvalid as exc:
            raise forms.ValidationError(exc.errors) from None
        return upload


# ---------------------------------------------------------------- lists of communes by code


class CommuneListForm(forms.Form):
    """An uploaded list of communes by code; a superuser also chooses the province."""

    province = forms.ModelChoiceField(Province.objects.all(), label=_("Province"))
    file = forms.FileField(
        label=_("List of communes (.xlsx or .csv)"),
        help_text=_(
            "First row: the column names. The column «Mã PX» holds the communes' codes of the "
            "statistics office (leading zeros may be missing); a column «Phường Xã» with their "
            "names is optional and only used to warn of a code that names another commune."
        ),
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        if not user.is_superuser:
            del self.fields["province"]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        try:
            check_list_upload(upload, size=upload.size)
        except UnitFileInvalid as exc:
            raise forms.ValidationError(exc.errors) from None
        return upload

    def chosen_province(self) -> Province:
        return self.cleaned_data.get("province") or self.user.province


class FlagListForm(CommuneListForm):
    flag = forms.ChoiceField(label=_("Flag"), choices=CommuneFlagRecord.Flag.choices)
    document = forms.CharField(
        label=_("Deciding document"),
        max_length=200,
        help_text=_("Its number and issuer, for example QĐ 861/QĐ-TTg."),
    )
    valid_from = forms.DateField(
        label=_("In force from"),
        input_formats=["%d/%m/%Y", "%Y-%m-%d"],
        widget=forms.DateInput(attrs={"placeholder": "dd/mm/yyyy"}),
        help_text=_("The codes name the units in force on this day."),
    )
    valid_to = forms.DateField(
        label=_("In force until"),
        required=False,
        input_formats=["%d/%m/%Y", "%Y-%m-%d"],
        widget=forms.DateInput(attrs={"placeholder": "dd/mm/yyyy"}),
    )
    complete = forms.BooleanField(
        label=_("The file is the complete list: communes not in it lose the flag"),
        required=False,
        widget=CHECKBOX,
    )

    field_order = ["province", "flag", "document", "valid_from", "valid_to", "complete", "file"]

    def clean(self):
        data = super().clean()
        if (
            data.get("valid_to")
            and data.get("valid_from")
            and data["valid_to"] < data["valid_from"]
        ):
            self.add_error("valid_to", _("The end date must not be before the start date."))
        return data


class GroupListForm(CommuneListForm):
    set_code = forms.ChoiceField(label=_("Criteria set"))
    document = forms.CharField(
        label=_("Deciding document"),
        max_length=200,
        required=False,
        help_text=_("The decision that put the communes in their groups, if there is one."),
    )

    field_order = ["province", "set_code", "document", "file"]

    def __init__(self, *args, query=None, **kwargs):
        """`query`: the page's query string; its `set` (a set's code, as the setup checklist's
        link passes it) chooses the set when it is one of the choices."""
        super().__init__(*args, **kwargs)
        sets = visible_sets(
            self.user,
            CriteriaSet.objects.filter(target_basis=CriteriaSet.TargetBasis.COMMUNE_GROUP),
        )
        # the version a list names (unit_lists.set_with_groups): the active one, else the latest
        chosen: dict[str, CriteriaSet] = {}
        for s in sets.order_by("code", "-version"):
            if s.code not in chosen or (
                s.status == CriteriaSet.Status.ACTIVE
                and chosen[s.code].status != CriteriaSet.Status.ACTIVE
            ):
                chosen[s.code] = s
        # the sets in use first: a draft that shares the name of one in use comes after it
        rank = {CriteriaSet.Status.ACTIVE: 0, CriteriaSet.Status.DRAFT: 1}
        self.fields["set_code"].choices = [
            (s.code, grouping_label(s))
            for s in sorted(chosen.values(), key=lambda s: (rank.get(s.status, 2), s.code))
        ]
        wanted = (query or {}).get("set")
        if not self.is_bound and wanted in chosen:
            self.initial["set_code"] = wanted
        self.fields["file"].help_text = _(
            "First row: the column names. The column «Mã PX» holds the communes' codes of the "
            "statistics office; the column «Nhóm» their group, written as its code (nhom-1), its "
            "number (1) or its name (Nhóm 1)."
        )


class ReturnForm(forms.Form):
    """A return: the overall reason, and what is needed on single indicators ("cần bổ sung").

    Either is enough: a reviewer who found one thing missing on 8.2 writes it there only."""

    reason = forms.CharField(
        label=_("Reason"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, indicators, **kwargs):
        super().__init__(*args, **kwargs)
        self.indicators = indicators
        for indicator in indicators:
            self.fields[f"note_{indicator.pk}"] = forms.CharField(
                label=_("Needs more: indicator %(code)s") % {"code": indicator.code},
                max_length=4000,
                required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
            )

    def note_fields(self):
        """(indicator, bound note field) in the set's order."""
        return [(indicator, self[f"note_{indicator.pk}"]) for indicator in self.indicators]

    def notes(self) -> dict:
        """The indicators that have a note, with their note."""
        return {
            indicator: self.cleaned_data[f"note_{indicator.pk}"].strip()
            for indicator in self.indicators
            if self.cleaned_data.get(f"note_{indicator.pk}", "").strip()
        }

    def clean(self):
        data = super().clean()
        if not self.errors and not (data.get("reason") or "").strip() and not self.notes():
            raise forms.ValidationError(
                _(
                    "Write the reason for returning it, or what is needed on at least one "
                    "indicator."
                ),
                code="required",
            )
        return data


class NotificationsForm(forms.Form):
    """Which kinds of e-mail a person receives; what is left unticked is muted."""

    receive = forms.MultipleChoiceField(
        label=_("Send me an e-mail when"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, user: User, **kwargs):
        self.user = user
        muted = set(user.muted_notifications or [])
        receive = [kind for kind in notify.Kind.values if kind not in muted]
        kwargs.setdefault("initial", {"receive": receive})
        super().__init__(*args, **kwargs)
        self.fields["receive"].choices = notify.Kind.choices

    def save(self) -> User:
        chosen = set(self.cleaned_data["receive"])
        self.user.muted_notifications = [k for k in notify.Kind.values if k not in chosen]
        self.user.save(update_fields=["muted_notifications"])
        return self.user


# ---------------------------------------------------------------- worklists

SELECT_SM = forms.Select(attrs={"class": "form-select form-select-sm"})
WORKLIST_STATES = [
    ("", _("Every state")),
    (NOT_STARTED, _("Not started")),
    (State.DRAFT, State.DRAFT.label),
    (State.RETURNED, State.RETURNED.label),
    (WAITING, _("Sent for review")),
    (State.DISTRICT_REVIEW, State.DISTRICT_REVIEW.label),
    (State.SUBMITTED, State.SUBMITTED.label),
    (State.APPROVED, State.APPROVED.label),
]
# column → how it sorts (ascending); every sort ends on the commune's name, then its code
WORKLIST_SORTS = {
    "commune": [F("sort_key").asc()],
    "district": [F("district__sort_key").asc(nulls_first=True)],
    "state": [F("work_order").asc()],
    "result": [F("work_met").asc(nulls_last=True)],
    "missing": [F("work_decided").asc()],
    "updated": [F("work_updated").asc(nulls_last=True)],
}
WORKLIST_COLUMNS = {
    "commune": _("Commune"),
    "district": _("District"),
    "state": _("State"),
    "result": _("Criterion"),
    "missing": _("What is missing"),
    "updated": _("Last change"),
}
WORKLIST_FLAGS = {
    "difficult": "is_extremely_difficult",
    "border": "is_border",
    "safe_zone": "is_safe_zone_poor",
}
NO_GROUP = "none"


NOT_IN_THE_LIST = _("“%(value)s” is not in the list.")


class WorklistForm(forms.Form):
    """Every choice of a worklist, read from the query string: period and set, filters, search,
    sorting and page. A value that is not understood is named on the page and left out."""

    period = forms.ChoiceField(label=_("Period"), required=False, widget=SELECT_SM)
    set = forms.ChoiceField(label=_("Criteria set"), required=False, widget=SELECT_SM)
    state = forms.ChoiceField(
        label=_("State"), required=False, choices=WORKLIST_STATES, widget=SELECT_SM
    )
    district = forms.ChoiceField(label=_("District"), required=False, widget=SELECT_SM)
    group = forms.ChoiceField(label=_("Commune group"), required=False, widget=SELECT_SM)
    q = forms.CharField(
        label=_("Name or code"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"class": "form-control form-control-sm", "type": "search"}),
    )
    difficult = forms.BooleanField(label=_("ĐBKK"), required=False, widget=CHECKBOX)
    border = forms.BooleanField(label=_("Border"), required=False, widget=CHECKBOX)
    safe_zone = forms.BooleanField(
        label=_("ATK of a poor district"), required=False, widget=CHECKBOX
    )
    pilot = forms.BooleanField(label=_("Pilot"), required=False, widget=CHECKBOX)
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[
            (f"{way}{name}", format_lazy("{} {}", label, arrow))
            for name, label in WORKLIST_COLUMNS.items()
            for way, arrow in (("", "↑"), ("-", "↓"))
        ],
        widget=SELECT_SM,
    )
    page = forms.IntegerField(required=False, min_value=1, max_value=100_000)

    CHOICES = ("period", "set", "state", "district", "group", "q", "sort")
    FLAGS = ("difficult", "border", "safe_zone", "pilot")
    FILTERS = ("state", "district", "group", "q", *FLAGS)

    def __init__(self, data, *, user: User, periods: list[AssessmentPeriod], **kwargs):
        # The period and set are always the ones the list shows, and the boxes say so: a missing
        # one is filled in, one that is not understood is named (clean()) and replaced, and a
        # set of another period (the form sends the set shown with the period just chosen) is
        # quietly replaced by the chosen period's own.
        data = data.copy() if data is not None else {}
        super().__init__(data, **kwargs)
        for name in self.CHOICES:
            if isinstance(self.fields[name], forms.ChoiceField):
                self.fields[name].error_messages["invalid_choice"] = NOT_IN_THE_LIST
        self.not_understood: dict[str, str] = {}
        periods = periods_of(user, periods)
        self.fields["period"].choices = [(str(p.pk), p.name) for p in periods]
        chosen = self.data.get("period")
        self.period = next((p for p in periods if str(p.pk) == chosen), None) or default_period(
            user, periods
        )
        if chosen and (self.period is None or chosen != str(self.period.pk)):
            self.not_understood["period"] = chosen
        sets = list(self.period.criteria_sets.all()) if self.period else []
        self.fields["set"].choices = [(str(s.pk), s.name) for s in sets]
        chosen = self.data.get("set")
        self.criteria_set = next((s for s in sets if str(s.pk) == chosen), None) or (
            sets[0] if sets else None
        )
        sets_elsewhere = {str(s.pk) for p in periods for s in p.criteria_sets.all()}
        if chosen and chosen not in sets_elsewhere:
            self.not_understood["set"] = chosen
        if self.period:
            self.data["period"] = str(self.period.pk)
        if self.criteria_set:
            self.data["set"] = str(self.criteria_set.pk)
        if self.period and not self.period.has_districts:  # nothing goes to a district
            self.fields["state"].choices = [
                c for c in WORKLIST_STATES if c[0] != State.DISTRICT_REVIEW
            ]
        self.districts = []
        if self.period and self.period.has_districts and user.is_province_level:
            self.districts = list(
                District.objects.for_user(user).current(self.period.reference_date)
            )
            self.fields["district"].choices = [("", _("All districts"))] + [
                (str(d.pk), d.name) for d in self.districts
            ]
        else:
            del self.fields["district"]
        grouped = self.criteria_set is not None and (
            self.criteria_set.target_basis == CriteriaSet.TargetBasis.COMMUNE_GROUP
        )
        if grouped and not self.period.has_districts:
            self.fields["group"].choices = [
                ("", _("All groups")),
                *[(g.code, g.name) for g in self.criteria_set.commune_groups.all()],
                (NO_GROUP, _("Not grouped yet")),
            ]
        else:
            del self.fields["group"]

    def clean(self):
        data = super().clean()
        for name, value in self.not_understood.items():
            self.add_error(
                name,
                forms.ValidationError(
                    self.fields[name].error_messages["invalid_choice"],
                    code="invalid_choice",
                    params={"value": value},
                ),
            )
        return data

    @property
    def chosen_district(self) -> District | None:
        chosen = self.cleaned_data.get("district")
        return next((d for d in self.districts if str(d.pk) == chosen), None)

    def filter(self, communes):
        """Keep the communes that match the valid filters and the search."""
        data = self.cleaned_data
        if data.get("state"):
            communes = filter_by_state(communes, data["state"])
        if self.chosen_district:
            communes = communes.in_district(self.chosen_district)
        if data.get("group") == NO_GROUP:
            communes = communes.exclude(groupings__set_code=self.criteria_set.code)
        elif data.get("group"):
            communes = communes.filter(
                groupings__set_code=self.criteria_set.code, groupings__group_code=data["group"]
            )
        for name, flag in WORKLIST_FLAGS.items():
            if data.get(name):
                communes = communes.filter(**{flag: True})
        if data.get("pilot"):
            communes = communes.exclude(
                pilot_ntm_year__isnull=True, pilot_advanced_year__isnull=True
            )
        if data.get("q"):
            words = data["q"].strip()
            communes = communes.filter(
                Q(name__icontains=words) | Q(code=words.zfill(5) if words.isdigit() else words)
            )
        return communes

    @property
    def sorted_by(self) -> str:
        return self.cleaned_data.get("sort") or "commune"

    def order(self, communes):
        name = self.sorted_by.removeprefix("-")
        expressions = WORKLIST_SORTS[name]
        if self.sorted_by.startswith("-"):
            expressions = [e.copy() for e in expressions]
            for e in expressions:
                e.reverse_ordering()
        return communes.order_by(*expressions, "sort_key", "code")

    def has_filters(self) -> bool:
        return any(self.cleaned_data.get(name) for name in self.FILTERS)

    def query(self, **changes) -> str:
        """The query string of this worklist as read (valid values only), with `changes`."""
        params = {}
        if self.period and self.criteria_set:
            params = {"period": self.period.pk, "set": self.criteria_set.pk}
        for name in (*self.FILTERS, "sort", "page"):
            value = self.cleaned_data.get(name)
            if value:
                params[name] = "1" if value is True else value
        params.update(changes)
        return urlencode({k: v for k, v in params.items() if v not in (None, "", False)})

    def choice_fields(self):
        return [self[name] for name in self.fields if name in self.CHOICES]

    def flag_fields(self):
        return [self[name] for name in self.fields if name in self.FLAGS]

    def columns(self, *, with_district: bool) -> list[dict]:
        """The table's sortable columns: label, the query that sorts by it (again: the other
        way), and how it is sorted now ("asc", "desc" or "")."""
        columns = []
        for name, label in WORKLIST_COLUMNS.items():
            if name == "district" and not with_district:
                continue
            now = {name: "asc", f"-{name}": "desc"}.get(self.sorted_by, "")
            sort = f"-{name}" if now == "asc" else name
            columns.append({"label": label, "query": self.query(sort=sort, page=None), "now": now})
        return columns

    def page_links(self, page) -> dict:
        """Queries of the neighbouring pages and of the page numbers around this one."""
        last = page.paginator.num_pages
        shown = sorted({1, last, *range(max(page.number - 3, 1), min(page.number + 3, last) + 1)})
        return {
            "previous": self.query(page=page.number - 1) if page.has_previous() else "",
            "next": self.query(page=page.number + 1) if page.has_next() else "",
            "numbers": [(n, self.query(page=n)) for n in shown],
        }


class AssessmentsField(forms.ModelMultipleChoiceField):
    """Assessments by id; an id that is not a plain number the database holds is refused
    before any query (a 30-digit number overflows an integer column)."""

    def _check_values(self, value):
        for pk in value:
            text = str(pk)
            if not (text.isascii() and text.isdigit() and len(text) <= 18):
                raise forms.ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": text},
                )
        return super()._check_values(value)


class BulkApprovalForm(forms.Form):
    """The submitted assessments a reviewer ticked to approve at once, and the way back."""

    assessment = AssessmentsField(
        queryset=Assessment.objects.none(),
        error_messages={
            "required": _("Tick the assessments to approve."),
            "invalid_choice": _("One of the ticked assessments cannot be approved by you now."),
            "invalid_pk_value": _("One of the ticked assessments cannot be approved by you now."),
        },
    )
    next = forms.CharField(required=False, max_length=2000)

    def __init__(self, *args, assessments, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assessment"].queryset = assessments

    def clean_next(self) -> str:
        return local_worklist_url(self.cleaned_data.get("next")) or ""
