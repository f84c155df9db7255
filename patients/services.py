import secrets

from django.db import IntegrityError, transaction

from kap_clinic.accounts.models import User

from .models import Patient

MRN_PREFIX = "KAP"


def _new_mrn() -> str:
    return f"{MRN_PREFIX}-{secrets.randbelow(10**8):08d}"


def patient_create(*, created_by: User | None, **fields) -> Patient:
    """Register a patient under a newly generated, unique medical record number."""
    for _ in range(10):
        try:
            with transaction.atomic():
                return Patient.objects.create(mrn=_new_mrn(), **fields)
        except IntegrityError:
            continue  # an MRN collision: draw again
    raise RuntimeError("Could not allocate a medical record number.")


@transaction.atomic
def patient_update(*, patient: Patient, updated_by: User, **fields) -> Patient:
    """Change a patient's details; the audit log records each changed field."""
    for name, value in fields.items():
        setattr(patient, name, value)
    patient.full_clean()
    patient.save()
    return patient
