from django.db.models import Q, QuerySet
from django.http import Http404

from kap_clinic.accounts.models import User
from kap_clinic.accounts.roles import Role

from .models import Patient


def patients_visible_to(user: User) -> QuerySet[Patient]:
    """The patients a user may open.

    Admins and intake staff: every patient. Clinicians: their own patients and those not yet
    assigned to anyone (new referrals). Patients: only themselves.
    """
    qs = Patient.objects.all()
    if not user.is_authenticated or not user.is_active:
        return qs.none()
    if user.role in (Role.ADMIN, Role.INTAKE):
        return qs
    if user.role == Role.CLINICIAN:
        return qs.filter(Q(primary_clinician=user) | Q(primary_clinician__isnull=True))
    return qs.filter(user=user)


def get_patient_for_user(user: User, pk: int) -> Patient:
    """The patient with this id if the user may open it; 404 otherwise, revealing nothing."""
    patient = patients_visible_to(user).select_related("primary_clinician").filter(pk=pk).first()
    if patient is None:
        raise Http404("No such patient.")
    return patient


def patient_search(user: User, query: str) -> QuerySet[Patient]:
    qs = patients_visible_to(user).select_related("primary_clinician")
    query = (query or "").strip()
    if query:
        qs = qs.filter(
            Q(mrn__iexact=query) | Q(family_name__istartswith=query) | Q(given_name__istartswith=query)
        )
    return qs
