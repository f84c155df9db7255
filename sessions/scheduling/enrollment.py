"""Enrolling a patient in the treatment program, only through the screening gate (`screening.gate`)."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from kap_clinic.kernel.accounts.models import User
from kap_clinic.kernel.accounts.roles import Role
from kap_clinic.rules.overrides import MIN_JUSTIFICATION
from patients.models import Patient
from patients.services import patient_transition
from patients.status import Status
from screening.gate import enrollment_gate

from ..models import Enrollment


@transaction.atomic
def enrollment_create(*, patient: Patient, by: User, override_justification: str = "") -> Enrollment:
    """Enroll a patient in the treatment program, only through the screening gate.

    Without a current, clinician-signed eligible screening the gate stays shut unless a clinician
    writes why they override it; the override is stored on the enrollment and so in the audit log.
    """
    if not by.has_role(Role.CLINICIAN):
        raise PermissionDenied("Only a clinician can enroll a patient.")
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    if Enrollment.objects.filter(patient=patient, status=Enrollment.Status.ACTIVE).exists():
        raise ValidationError("This patient is already enrolled.")
    gate = enrollment_gate(patient)
    justification = override_justification.strip()
    if gate.blocking:
        # An open suicide-risk alert is no paperwork gap: a written override does not enroll past it.
        raise ValidationError(["Enrollment is refused while a suicide-risk alert is open:", *gate.blocking])
    if not gate.is_open:
        if not justification:
            raise ValidationError(
                {
                    "override_justification": [
                        "Write a justification: overriding the screening gate needs one, and this box is empty.",
                        "Enrollment needs a current eligible screening:",
                        *gate.reasons,
                    ]
                }
            )
        if len(justification) < MIN_JUSTIFICATION:
            raise ValidationError(
                f"Write at least {MIN_JUSTIFICATION} characters explaining why the screening gate is overridden."
            )
    enrollment = Enrollment.objects.create(
        patient=patient,
        screening=gate.screening,
        override_justification=justification if not gate.is_open else "",
        enrolled_by=by,
    )
    reason = "Enrolled through the screening gate." if gate.is_open else f"Gate overridden: {justification}"
    patient_transition(patient=patient, to=Status.ENROLLED, by=by, reason=reason)
    return enrollment
