from __future__ import annotations

from django import forms
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext_lazy as _

from . import services
from .models import CommuneGroup, Condition, CriteriaSet, Criterion, Indicator, Region
from .specs import TEXT_MAX
from .workbooks import WorkbookInvalid, check_xlsx_upload, read_workbook


class CriteriaSetImportForm(forms.Form):
    workbook = forms.FileField(
        label=_("Excel workbook (.xlsx)"),
        help_text=_("A workbook in the layout of “Download as Excel”. It is imported as a draft."),
    )

    def clean_workbook(self):
        upload = self.cleaned_data["workbook"]
        try:
            check_xlsx_upload(upload, size=upload.size)
            self.spec = read_workbook(upload)
        except WorkbookInvalid as exc:
            raise forms.ValidationError(exc.errors) from None
        return upload


def _small_widgets(form: forms.BaseForm) -> None:
    """Bootstrap classes for forms drawn as table rows (no crispy layout there)."""
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput):
            widget.attrs["class"] = "form-check-input"
        elif isinstance(widget, forms.Select):
            widget.attrs["class"] = "form-select form-select-sm"
        else:
            widget.attrs["class"] = "form-control form-control-sm"


def _limited_texts(form: forms.BaseForm) -> None:
    """A text field takes TEXT_MAX characters, as it does from an imported workbook."""
    for field in form.fields.values():
        if isinstance(field, forms.CharField) and field.max_length is None:
            field.max_length = TEXT_MAX
            field.validators.append(MaxLengthValidator(TEXT_MAX))
            field.widget.attrs.update(field.widget_attrs(field.widget))


class IndicatorForm(forms.ModelForm):
    class Meta:
        model = Indicator
        fields = [
            "code",
            "content",
            "value_type",
            "unit",
            "comparison",
            "guidance",
            "evidence_expected",
            "source",
            "to_confirm",
            "to_confirm_note",
        ]
        widgets = {
            "content": forms.Textarea(attrs={"rows": 2}),
            "guidance": forms.Textarea(attrs={"rows": 3}),
            "evidence_expected": forms.Textarea(attrs={"rows": 2}),
            "to_confirm_note": forms.Textarea(attrs={"rows": 2}),
        }
        help_texts = {
            "source": _("The legal text or guidance it comes from, e.g. QĐ 51/2025/QĐ-TTg."),
            "to_confirm": _("Tick while it has not been checked against the legal text."),
        }

    def __init__(self, *args, criterion: Criterion, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.criterion = criterion
        _limited_texts(self)

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].strip()
        others = Indicator.objects.filter(
            criterion__criteria_set=self.instance.criterion.criteria_set, code=code
        ).exclude(pk=self.instance.pk)
        if others.exists():
            raise forms.ValidationError(
                _("Another indicator of this set has the code %(code)s."), params={"code": code}
            )
        return code


class ConditionForm(forms.ModelForm):
    class Meta:
        model = Condition
        fields = [
            "code",
            "text",
            "scope",
            "alternative_group",
            "threshold",
            "source",
            "to_confirm",
            "to_confirm_note",
        ]
        widgets = {
            "text": forms.Textarea(attrs={"rows": 2}),
            "to_confirm_note": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scope"].initial = Condition.Scope.COMMUNE
        _limited_texts(self)
        _small_widgets(self)


class BaseConditionFormSet(forms.BaseModelFormSet):
    def clean(self) -> None:
        super().clean()
        codes = [form.cleaned_data["code"].strip() for form in self.kept_forms()]
        twice = sorted({code for code in codes if codes.count(code) > 1})
        if twice:
            raise forms.ValidationError(
                _("Two conditions have the code %(codes)s."), params={"codes": ", ".join(twice)}
            )

    def kept_forms(self) -> list[ConditionForm]:
        """The forms of the conditions to keep, in order: filled in and not marked for deletion."""
        return [
            form
            for form in self.forms
            if form.has_changed() or form.instance.pk
            if not (self.can_delete and self._should_delete_form(form))
        ]

    def conditions(self) -> list[Condition]:
        return [form.save(commit=False) for form in self.kept_forms()]


ConditionFormSet = forms.modelformset_factory(
    Condition, form=ConditionForm, formset=BaseConditionFormSet, extra=3, can_delete=True
)


class TargetForm(forms.Form):
    """One target of the indicator: the general one, or one region's or commune group's."""

    threshold = forms.DecimalField(
        label=_("threshold"), required=False, max_digits=12, decimal_places=2
    )
    text = forms.CharField(label=_("target as worded"), required=False, max_length=200)
    source = forms.CharField(label=_("source"), required=False, max_length=300)
    to_confirm = forms.BooleanField(label=_("to confirm"), required=False)
    to_confirm_note = forms.CharField(
        label=_("what is to confirm"), required=False, max_length=TEXT_MAX
    )

    def __init__(self, *args, column: Region | CommuneGroup | None, **kwargs):
        super().__init__(*args, **kwargs)
        self.column = column
        _small_widgets(self)

    @property
    def is_blank(self) -> bool:
        data = self.cleaned_data
        return data.get("threshold") is None and not data.get("text", "").strip()

    def clean(self) -> dict:
        data = super().clean()
        annotated = data.get("source") or data.get("to_confirm") or data.get("to_confirm_note")
        if self.is_blank and annotated:
            raise forms.ValidationError(
                _("Give the target itself (a threshold or a text) before its source or mark.")
            )
        return data

    def values(self) -> services.TargetValues:
        data = self.cleaned_data
        column = self.column
        return services.TargetValues(
            region=column if isinstance(column, Region) else None,
            commune_group=column if isinstance(column, CommuneGroup) else None,
            threshold=data["threshold"],
            text=data["text"].strip(),
            source=data["source"].strip(),
            to_confirm=data["to_confirm"],
            to_confirm_note=data["to_confirm_note"].strip(),
        )


def target_forms(criteria_set: CriteriaSet, indicator: Indicator, data=None) -> list[TargetForm]:
    """A form for the general target and one for each region (or commune group) of the set."""
    if criteria_set.target_basis == CriteriaSet.TargetBasis.COMMUNE_GROUP:
        columns: list = list(criteria_set.commune_groups.all())
    else:
        columns = list(Region.objects.all())
    existing = {}
    if indicator.pk:
        for target in indicator.targets.all():
            existing[(target.region_id, target.commune_group_id)] = target
    forms_ = []
    for column in [None, *columns]:
        key = (
            column.pk if isinstance(column, Region) else None,
            column.pk if isinstance(column, CommuneGroup) else None,
        )
        target = existing.get(key)
        initial = {name: getattr(target, name) for name in TargetForm.base_fields} if target else {}
        prefix = (
            "target-general" if column is None else f"target-{column._meta.model_name}-{column.pk}"
        )
        forms_.append(TargetForm(data, initial=initial, prefix=prefix, column=column))
    return forms_


def conditions_fit(form: IndicatorForm, conditions: BaseConditionFormSet) -> bool:
    """Only a checklist has conditions, and a checklist has at least one; adds the error."""
    value_type = form.cleaned_data.get("value_type")
    if value_type is None:
        return True
    has_conditions = bool(conditions.kept_forms())
    checklist = value_type in {
        Indicator.ValueType.CHECKLIST,
        Indicator.ValueType.VILLAGE_CHECKLIST,
    }
    if checklist and not has_conditions:
        form.add_error("value_type", _("A checklist needs at least one condition below."))
        return False
    if not checklist and has_conditions:
        form.add_error(
            "value_type", _("Only a checklist has conditions: remove them or change the type.")
        )
        return False
    return True
