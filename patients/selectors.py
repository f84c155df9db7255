from datetime import date, datetime

from django.db.models import Q, QuerySet
from django.http import Http404

from kap_clinic.kernel.accounts.models import User
from kap_clinic.kernel.accounts.roles import Role

from .models import MRN_PREFIX, Patient


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


def visible_through(user: User, path: str = "patient") -> Q:
    """The same rule as `patients_visible_to`, as a condition on a related patient (a join, not an IN list)."""
    if not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if user.role in (Role.ADMIN, Role.INTAKE):
        return Q()
    if user.role == Role.CLINICIAN:
        return Q(**{f"{path}__primary_clinician": user}) | Q(**{f"{path}__primary_clinician__isnull": True})
    return Q(**{f"{path}__user": user})


def patient_of_portal_user(user: User) -> Patient | None:
    """The patient a portal account belongs to; None for staff, signed-out visitors and an account with no record."""
    if not user.is_authenticated or user.role != Role.PATIENT:
        return None
    return getattr(user, "patient", None)  # the reverse one-to-one, kept on the user for the rest of the request


def is_portal_user_of(user: User, patient: Patient) -> bool:
    """Whether the user is this patient's own portal account (the same link, read from the patient's side)."""
    return user.is_authenticated and user.role == Role.PATIENT and patient.user_id == user.pk


def get_patient_of_portal_user(user: User) -> Patient:
    """The signed-in patient's own record; 404 when the account has none."""
    patient = patient_of_portal_user(user)
    if patient is None:
        raise Http404("No patient record is linked to this account.")
    return patient


def get_patient_for_user(user: User, pk: int) -> Patient:
    """The patient with this id if the user may open it; 404 otherwise, revealing nothing."""
    patient = patients_visible_to(user).select_related("primary_clinician").filter(pk=pk).first()
    if patient is None:
        raise Http404("No such patient.")
    return patient


def _parse_date(text: str) -> date | None:
    for fmt in ("%Y-%m-%d", "%m/%d/%Y", "%m-%d-%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def patient_search(user: User, query: str) -> QuerySet[Patient]:
    """Patients matching a chart number, a date of birth, or the start of a family name ("family, given" too).

    Every branch uses an index (MRN unique, date of birth, lower-cased family name), so it stays fast at 50,000.
    """
    qs = patients_visible_to(user).select_related("primary_clinician")
    query = " ".join((query or "").split())
    if not query:
        return qs
    born = _parse_date(query)
    if born is not None:
        return qs.filter(date_of_birth=born)
    if query.upper().startswith(f"{MRN_PREFIX}-"):
        return qs.filter(mrn=query.upper())
    if "," in query:
        # "family, given": everything before the comma is the family name, spaces included ("Van Dyke, Sam").
        family, _, given = query.partition(",")
        qs = qs.filter(family_name_key__startswith=family.strip().lower())
        if given.strip():
            qs = qs.filter(given_name__istartswith=given.strip())
        return qs
    # Without a comma, "van dyke" may be a two-word family name or "family given"; either reading matches.
    first, _, rest = query.partition(" ")
    match = Q(family_name_key__startswith=query.lower())
    if rest:
        match |= Q(family_name_key__startswith=first.lower(), given_name__istartswith=rest)
    return qs.filter(match)
