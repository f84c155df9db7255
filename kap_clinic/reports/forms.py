"""The forms of the reports page: which patient, user, period and format each report is asked for."""

from django import forms

from kap_clinic.kernel.accounts.forms import UserChoiceField
from kap_clinic.kernel.accounts.models import User
from kap_clinic.kernel.accounts.roles import Role
from kap_clinic.kernel.forms import PeriodForm
from kap_clinic.kernel.validation import BoundedInput
from patients.forms import ClinicianChoiceField, PatientMrnField
from sessions.models import Route

FORMATS = {"pdf": "PDF", "csv": "CSV (spreadsheet)"}


class ReportForm(BoundedInput, forms.Form):
    """A report's form; `params()` gives the plain values a report (or its background job) runs on."""

    formats: tuple[str, ...] = ("pdf",)

    def __init__(self, *args, formats: tuple[str, ...] | None = None, user: User | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user  # who asks: a form may offer them less (a clinician's outcomes cover their own patients)
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
    patient = PatientMrnField()


class ClinicPeriodReportForm(ReportForm, PeriodForm):
    """A clinic-wide report over a period."""

    formats = ("pdf", "csv")


class AuditReportForm(ClinicPeriodReportForm):
    period_required = False

    patient = PatientMrnField(required=False)
    # Staff only, as on the audit log (a patient's own account is reported under their MRN).
    user = UserChoiceField(
        label="Staff member",
        queryset=User.objects.exclude(role=Role.PATIENT).order_by("username"),
        required=False,
        to_field_name="username",
    )
    field_order = ["patient", "user", "start", "end"]

    def clean(self):
        cleaned = super().clean()
        if not self.errors and cleaned.get("patient") is None and cleaned.get("user") is None:
            raise forms.ValidationError("Choose a patient or a user.")
        return cleaned


class OutcomesForm(ClinicPeriodReportForm):
    """The clinic outcomes report: a period, and optionally one route or one clinician's patients. Admins choose the
    clinician; a clinician's report always covers their own patients, so they are offered no choice."""

    route = forms.ChoiceField(label="Route", required=False, choices=[("", "Every route"), *Route.choices])
    clinician = ClinicianChoiceField(
        label="Clinician", required=False, empty_label="Every clinician", queryset=User.objects.none()
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.user is not None and not self.user.has_role(Role.ADMIN):
            del self.fields["clinician"]
            return
        self.fields["clinician"].queryset = User.objects.filter(role=Role.CLINICIAN, is_active=True).order_by(
            "last_name", "first_name"
        )

    def params(self) -> dict:
        params = super().params()
        if "clinician" not in self.fields:  # a clinician's own patients
            params["clinician_id"] = self.user.pk
        return params
