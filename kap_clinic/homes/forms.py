"""Filters of the audit log browser."""

from kap_clinic.kernel.accounts.forms import UserChoiceField
from kap_clinic.kernel.accounts.models import User
from kap_clinic.kernel.accounts.roles import Role
from kap_clinic.kernel.forms import PeriodForm
from patients.forms import PatientMrnField


class AuditFilterForm(PeriodForm):
    period_required = False

    patient = PatientMrnField(required=False)
    # Staff only: a clinic's portal accounts would make the list as long as its patient register. What a patient's
    # own account did is found under their MRN.
    user = UserChoiceField(
        label="Staff member",
        queryset=User.objects.exclude(role=Role.PATIENT).order_by("last_name", "first_name", "username"),
        required=False,
    )
    field_order = ["patient", "user", "start", "end"]
