from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

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
