from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render

from kap_clinic.accounts.decorators import role_required
from kap_clinic.accounts.roles import Role
from patients.selectors import get_patient_for_user
from screening.gate import enrollment_gate

from . import services
from .forms import EnrollmentForm


@role_required(Role.CLINICIAN)
def enroll_view(request, patient_pk):
    patient = get_patient_for_user(request.user, patient_pk)
    # The open-gate form has no fields of its own, so an empty POST is still a submission, not a page view.
    form = EnrollmentForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.enrollment_create(
                patient=patient, by=request.user, override_justification=form.cleaned_data["override_justification"]
            )
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error("override_justification", message)
        else:
            messages.success(request, "Patient enrolled in the treatment program.")
            return redirect("patients:detail", pk=patient.pk)
    ctx = {"patient": patient, "gate": enrollment_gate(patient), "form": form}
    return render(request, "sessions/enroll_form.html", ctx, status=400 if form.errors else 200)
