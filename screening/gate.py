"""The enrollment gate: who may enter a treatment program, and why not.

A patient passes when their latest signed-off screening is eligible, was signed off by a clinician
within the clinic's window, and no suicide-risk alert of any level is open (no override lifts that).
`sessions.scheduling.enrollment.enrollment_create` asks this before it writes anything, so views, the admin, the
shell and tasks all meet the same gate.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Min
from django.utils import timezone

from kap_clinic.kernel.clinic.models import ClinicSettings
from patients.models import Patient

from .models import MedicalHistory, Screening, SuicideRiskAlert


@dataclass(frozen=True)
class GateResult:
    screening: Screening | None
    reasons: tuple[str, ...]
    # Reasons no written override lifts: an open suicide-risk alert of any level (C-SSRS triage,
    # docs/clinical-references.md#c-ssrs).
    blocking: tuple[str, ...] = ()

    @property
    def is_open(self) -> bool:
        return self.screening is not None and not self.reasons


def enrollment_gate(patient: Patient, *, now: datetime | None = None) -> GateResult:
    now = now or timezone.now()
    valid_days = ClinicSettings.load().screening_valid_days
    reasons: list[str] = []
    latest = (
        Screening.objects.filter(patient=patient, status=Screening.Status.SIGNED_OFF)
        .select_related("signed_off_by")
        .order_by("-signed_off_at", "-pk")
        .first()
    )
    current = None
    if latest is None:
        reasons.append("No screening has been signed off by a clinician.")
    elif latest.final_outcome != "eligible":
        reasons.append("The latest signed-off screening found the patient not eligible.")
    elif latest.signed_off_at < now - timedelta(days=valid_days):
        signed = timezone.localtime(latest.signed_off_at).date().isoformat()
        reasons.append(f"The eligible screening was signed off on {signed}, more than {valid_days} days ago.")
    elif (answered := _answered_at(latest)) < now - timedelta(days=valid_days):
        day = timezone.localtime(answered).date().isoformat()
        reasons.append(
            f"The eligible screening holds answers from {day}, more than {valid_days} days ago: a sign-off does not "
            "make them current."
        )
    else:
        current = latest
    if latest is not None:
        # A screening completed after the signed-off one may have found what that one did not (a contraindication
        # since): its result, once a clinician signs it off, decides, not the older one's.
        newer = (
            Screening.objects.filter(
                patient=patient, status=Screening.Status.COMPLETED, created_at__gt=latest.created_at
            )
            .order_by("-created_at", "-pk")
            .first()
        )
        if newer is not None:
            completed = timezone.localtime(newer.completed_at or newer.created_at).date().isoformat()
            reasons.append(
                f"A newer screening, completed on {completed}, awaits a clinician's sign-off: its result decides, "
                "not the older one's."
            )
            current = None
    levels = set(SuicideRiskAlert.objects.filter(patient=patient, status="open").values_list("level", flat=True))
    blocking = []
    for level in ("high", "moderate", "low"):
        if level in levels:
            blocking.append(
                f"A {level} suicide-risk alert is open; a clinician must review and clear it before enrollment."
            )
    return GateResult(screening=current, reasons=tuple(reasons + blocking), blocking=tuple(blocking))


def _answered_at(screening: Screening) -> datetime:
    """When the oldest part of the screening (an instrument's answers, the medical history) was last answered; they
    cannot change once it is complete, so the screening is as current as its oldest part."""
    moments = [
        screening.responses.aggregate(oldest=Min("updated_at"))["oldest"],
        MedicalHistory.objects.filter(screening=screening).values_list("updated_at", flat=True).first(),
    ]
    return min((at for at in moments if at is not None), default=screening.completed_at or screening.signed_off_at)
