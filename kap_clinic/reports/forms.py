"""The forms of the reports page: which patient, user, period and format each report is asked for."""

from django import forms

from kap_clinic.kernel.accounts.models import User
from kap_clinic.kernel.accounts.roles import Role
from kap_clinic.kernel.validation import BoundedInput
from patients.models import Patient
from sessions.models import Route

FORMATS = {"pdf": "PDF", "csv": "CSV (spreadsheet)"}


def _patient_by_mrn(mrn: str, *, required: bool) -> Patient | None:
    mrn = mrn.strip()
    if not mrn:
        if required:
            raise forms.ValidationError("Enter the patient's MRN.")
        return None
    patient = Patient.objects.filter(mrn__iexact=mrn).first()
    if patient is None:
        raise forms.ValidationError("No patient has that MRN.")
    return patient


class ReportForm(BoundedInput, forms.Form):
    """A report's form; `params()` gives the plain values a report (or its background job) runs on."""

    formats: tuple[str, ...] = ("pdf",)

    def __init__(self, *args, formats: tuple[str, ...] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        formats = formats or self.formats
        self.fields["format"] = forms.ChoiceField(
            label="Format", choices=[(f, FORMATS[f]) for f in formats], initial=formats[0]
        )

    def params(self) -> dict:
        data = self.cleaned_data
        params = {"format": data["format"]}
        if data.get("patient") is not None:
            params["patient"] = data["patient"].pk
        if data.get("user") is not None:
            params["user"] = data["user"].pk
        for name in ("start", "end"):
            if data.get(name):
                params[name] = data[name].isoformat()
        if data.get("route"):
            params["route"] = data["route"]
        if data.get("clinician") is not None:
            params["clinician_id"] = data["clinician"].pk
        return params


class PatientSummaryForm(ReportForm):
    patient = forms.CharField(label="Patient MRN")

    def clean_patient(self):
        return _patient_by_mrn(self.cleaned_data["patient"], required=True)


class AuditReportForm(ReportForm):
    formats = ("pdf", "csv")
    patient = forms.CharField(label="Patient MRN", required=False)
    user = forms.ModelChoiceField(
        label="User", queryset=User.objects.order_by("username"), required=False, to_field_name="username"
    )
    start = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean_patient(self):
        return _patient_by_mrn(self.cleaned_data["patient"], required=False)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("start") and cleaned.get("end") and cleaned["start"] > cleaned["end"]:
            self.add_error("end", "The end date is before the start date.")
        if not self.errors and cleaned.get("patient") is None and cleaned.get("user") is None:
            raise forms.ValidationError("Choose a patient or a user.")
        return cleaned


class PeriodForm(ReportForm):
    """A clinic-wide report over a period."""

    formats = ("pdf", "csv")
    start = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("start") and cleaned.get("end") and cleaned["start"] > cleaned["end"]:
            self.add_error("end", "The end date is before the start date.")
        return cleaned


class OutcomesForm(PeriodForm):
    """The clinic outcomes report: a period, and optionally one route or one clinician's patients."""

    route = forms.ChoiceField(label="Route", required=False, choices=[("", "Every route"), *Route.choices])
    clinician = forms.ModelChoiceField(
        label="Clinician", required=False, empty_label="Every clinician", queryset=User.objects.none()
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["clinician"].queryset = User.objects.filter(role=Role.CLINICIAN, is_active=True).order_by(
            "last_name", "first_name"
        )
