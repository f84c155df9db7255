from auditlog.models import LogEntry
from django.db.models import Count

from kap_clinic.accounts.models import User
from patients.models import Patient
from patients.selectors import patients_visible_to

from .models import WorkerHeartbeat


def clinician_home(user: User) -> dict:
    mine = patients_visible_to(user).select_related("primary_clinician")
    return {
        "my_patients": mine.filter(primary_clinician=user)[:20],
        "unassigned": mine.filter(primary_clinician__isnull=True)[:20],
    }


def intake_home(user: User) -> dict:
    return {
        "recent_patients": patients_visible_to(user)
        .select_related("primary_clinician")
        .order_by("-created_at")[:20]
    }


def admin_home(user: User) -> dict:
    return {
        "last_heartbeat": WorkerHeartbeat.objects.select_related("requested_by").first(),
        "staff_by_role": User.objects.filter(is_active=True)
        .values("role")
        .annotate(n=Count("pk"))
        .order_by("role"),
        "patient_count": Patient.objects.count(),
        "recent_audit": LogEntry.objects.select_related("actor", "content_type").order_by("-timestamp")[:10],
    }


def patient_home(user: User) -> dict:
    return {"patient": getattr(user, "patient", None)}
