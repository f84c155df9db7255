"""A pre-authorization request assembled from the record: codes and units from the treatment plan's sessions still to
come, the ICD-10 diagnoses and the clinical justification (failed antidepressant trials, baseline scores, the plan and
its sessions, REMS enrollment for Spravato). Staff review and edit the draft before it is submitted."""

from datetime import date

from django.db import transaction
from django.utils import timezone

from kap_clinic.kernel.accounts.models import User
from kap_clinic.rules.billing_codes import PER_MG_CODES, session_codes, units_under
from patients.models import Patient
from screening.models import Screening
from sessions.models import DosingSession, Protocol, TreatmentPlan

from ..models import InsurancePolicy, Payer, PriorAuthorization
from ..services import authorization_create

SCORE_NAMES = {
    "phq9": "PHQ-9",
    "gad7": "GAD-7",
    "pcl5": "PCL-5",
    "cssrs": "C-SSRS",
    "audit": "AUDIT",
    "dast10": "DAST-10",
}


def _baseline_screening(patient: Patient) -> Screening | None:
    """The patient's most recent finished screening (signed off, or awaiting sign-off)."""
    return (
        Screening.objects.filter(patient=patient)
        .exclude(status=Screening.Status.DRAFT)
        .order_by("-created_at", "-pk")
        .first()
    )


def _plan(patient: Patient) -> TreatmentPlan | None:
    return (
        TreatmentPlan.objects.filter(patient=patient, status=TreatmentPlan.Status.ACTIVE)
        .select_related("protocol")
        .order_by("-created_at", "-pk")
        .first()
    )


def request_facts(patient: Patient, *, today: date | None = None) -> dict:
    """What the record says for a request, as plain values: the packet, the draft and the tests read this."""
    today = today or timezone.localdate()
    screening = _baseline_screening(patient)
    facts: dict = {
        "diagnoses": [],
        "trials": None,
        "medications": [],
        "scores": [],
        "ect": False,
        "plan": None,
        "sessions": [],
        "codes": {},
        "rems_enrolled_on": patient.rems_enrolled_on,
        "route": "",
        "units": None,
    }
    if screening is not None:
        diagnoses = screening.diagnoses.order_by("-is_primary", "pk")
        facts["diagnoses"] = [(d.icd10_code, d.description) for d in diagnoses]
        medical = getattr(screening, "medical", None)
        if medical is not None:
            facts["trials"] = medical.adequate_antidepressant_trials
            facts["ect"] = medical.ect_history
        facts["medications"] = [f"{m.name} {m.dose}".strip() for m in screening.medications.all()]
        facts["scores"] = [
            (SCORE_NAMES.get(r.code, r.code.upper()), r.total, r.band)
            for r in screening.responses.filter(is_complete=True).order_by("code")
            if r.total is not None
        ]
        facts["screened_on"] = timezone.localtime(screening.created_at).date()
    plan = _plan(patient)
    if plan is not None:
        facts["plan"] = plan
        facts["route"] = plan.protocol.route
        upcoming = (
            DosingSession.objects.filter(plan=plan, status__in=DosingSession.UPCOMING_STATUSES)
            .filter(starts_at__date__gte=today)
            .order_by("starts_at")
        )
        codes: dict[str, int] = {}
        billed = []
        for session in upcoming:
            mg = session.planned_dose if plan.protocol.dose_unit == Protocol.DoseUnit.MG else None
            billed.append(session_codes(plan.protocol.route, mg))
            for code, units in billed[-1].items():
                codes[code] = codes.get(code, 0) + units
            facts["sessions"].append(timezone.localtime(session.starts_at))
        # Visit codes before drug codes billed per milligram: an authorization counts its units in the first of its
        # codes a session bills, so a series mixing 56 mg (G2082) and 84 mg (G2083) visits counts one per visit.
        facts["codes"] = {code: codes[code] for code in sorted(codes, key=lambda code: code in PER_MG_CODES)}
        facts["units"] = sum(units_under(list(facts["codes"]), session) for session in billed)
    return facts


def justification_text(facts: dict) -> str:
    """The clinical justification as the packet prints it; staff edit it on the draft."""
    lines = []
    if facts["diagnoses"]:
        lines.append("Diagnoses: " + "; ".join(f"{code} {text}".strip() for code, text in facts["diagnoses"]) + ".")
    if facts["trials"] is not None:
        lines.append(
            f"Failed adequate antidepressant trials: {facts['trials']}"
            + (" (treatment-resistant depression)." if facts["trials"] >= 2 else ".")
        )
    if facts["ect"]:
        lines.append("Has had electroconvulsive therapy.")
    if facts["medications"]:
        lines.append("Current medications: " + ", ".join(facts["medications"]) + ".")
    if facts["scores"]:
        scores = ", ".join(f"{name} {total}" + (f" ({band})" if band else "") for name, total, band in facts["scores"])
        lines.append(f"Baseline scores: {scores}.")
    plan = facts["plan"]
    if plan is not None:
        sessions = facts["sessions"]
        when = f", {sessions[0]:%d %b %Y} to {sessions[-1]:%d %b %Y}" if sessions else ""
        lines.append(f"Treatment plan: {plan.protocol.name}, {len(sessions)} sessions planned{when}.")
    if facts["route"] == "intranasal":
        enrolled = facts["rems_enrolled_on"]
        lines.append(
            f"Enrolled in the Spravato REMS on {enrolled:%d %b %Y}."
            if enrolled
            else "Spravato REMS enrollment not yet recorded."
        )
    return "\n".join(lines)


def primary_policy(patient: Patient, payer: Payer) -> InsurancePolicy | None:
    return InsurancePolicy.objects.filter(patient=patient, payer=payer, is_active=True).order_by("rank", "-pk").first()


@transaction.atomic
def preauth_request_assemble(*, patient: Patient, payer: Payer, by: User) -> PriorAuthorization:
    """A draft request for the patient and payer, filled from the record for staff to review and edit."""
    facts = request_facts(patient)
    codes = list(facts["codes"])
    sessions = facts["sessions"]
    units = facts["units"] if codes else None
    return authorization_create(
        patient=patient,
        payer=payer,
        by=by,
        codes=codes,
        policy=primary_policy(patient, payer),
        units_requested=units or None,
        requested_starts_on=sessions[0].date() if sessions else None,
        requested_ends_on=sessions[-1].date() if sessions else None,
        diagnoses=[code for code, _ in facts["diagnoses"]],
        justification=justification_text(facts),
    )
