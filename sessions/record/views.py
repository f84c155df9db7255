"""The session record page and one POST endpoint per step; each redirects back to the page, or re-shows it (400)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.views.decorators.http import require_POST

from kap_clinic.kernel.accounts.decorators import role_required
from kap_clinic.kernel.accounts.roles import STAFF_ROLES, Role
from kap_clinic.kernel.audit.services import record_chart_view
from kap_clinic.kernel.forms import message_validation_error

from ..consent.services import consent_status_for_session
from ..models import DosingSession
from ..models.record import MOAAS_LABELS
from ..models.scheduling import DOSE_TIME_LABELS
from ..selectors import get_session_for_user
from .discharge import discharge_record, record_amend, record_sign
from .dose import dose_mg_for, dose_record, dosing_end_record, top_up_record
from .forms import (
    AdverseEventForm,
    AdverseEventResolveForm,
    AmendmentForm,
    BpAcknowledgeForm,
    DischargeForm,
    DoseForm,
    DosingEndForm,
    PreDoseCheckForm,
    PreDoseRiskAcknowledgeForm,
    ScaleScoreForm,
    SignForm,
    TopUpForm,
    VitalSignForm,
)
from .guards import DOSING_ROLES, RECORDING_ROLES
from .monitoring import adverse_event_record, adverse_event_resolve, scale_score_record, vital_sign_record
from .predose import BP_HOLD, pre_dose_bp_acknowledge, pre_dose_check_record, pre_dose_risk_acknowledge
from .reading import session_record

TEMPLATE = "sessions/record/record_detail.html"
FORMS = {
    "check": PreDoseCheckForm,
    "bp": BpAcknowledgeForm,
    "risk": PreDoseRiskAcknowledgeForm,
    "dose": DoseForm,
    "dosing_end": DosingEndForm,
    "top_up": TopUpForm,
    "vitals": VitalSignForm,
    "score": ScaleScoreForm,
    "event": AdverseEventForm,
    "resolve": AdverseEventResolveForm,
    "discharge": DischargeForm,
    "sign": SignForm,
    "amend": AmendmentForm,
}
CHECK_FIELDS = ("is_fasting_confirmed", "escort_name", "sbp", "dbp", "hr", "spo2", "rr")
# A 40-minute IV infusion is the convention (Andrade, J Clin Psychiatry 2017); the clinician changes it as given.
DEFAULT_INFUSION_MINUTES = 40


def _initial(session, record) -> dict[str, dict]:
    check = record.check
    initial = {name: getattr(check, name) for name in CHECK_FIELDS} if check else {}
    if check and check.rescreen_code:
        initial["rescreen_code"] = check.rescreen_code
        if check.rescreen_code == "phq9_item9":
            initial["phq9_item9"] = check.rescreen_answers[0]
        else:
            initial.update(zip(PreDoseCheckForm.CSSRS_FIELDS, check.rescreen_answers, strict=False))
    if check and check.is_possibly_pregnant is not None:
        initial["is_possibly_pregnant"] = int(check.is_possibly_pregnant)
    return {
        "check": initial,
        "dose": {"dose": _amount(session.planned_dose), "infusion_minutes": DEFAULT_INFUSION_MINUTES},
    }


def _amount(value) -> str:
    """0.500 -> "0.5", 56.000 -> "56": doses as a clinician writes them."""
    return f"{value.normalize():f}"


def _page(request, session, *, bound=None, status=200):
    record_chart_view(obj=session)  # the page and its re-showings after a refused step
    record = session_record(session)
    initial = _initial(session, record)
    forms = {prefix: form_class(prefix=prefix, initial=initial.get(prefix)) for prefix, form_class in FORMS.items()}
    if bound is not None:
        forms[bound.prefix] = bound
    # What "nothing by mouth" means depends on the route: the protocol's own preparation text says it.
    # Escaped here: form help text is rendered as HTML, and the text is edited by admins in the back office.
    forms["check"].fields["is_fasting_confirmed"].help_text = escape(session.protocol.preparation_instructions)
    if record.bp_level != BP_HOLD:
        forms["bp"].fields.pop("override_hold")  # offered only where there is a hard hold to override
    if not record.discharge_contradictions and not (bound is not None and bound.prefix == "discharge"):
        forms["discharge"].fields.pop("override_reason")  # offered when the record contradicts the discharge
    if session.patient.sex_for_scoring == "male":
        forms["check"].fields.pop("is_possibly_pregnant")  # asked where it applies
    dose_time_label = DOSE_TIME_LABELS.get(session.protocol.route, "Dose time")
    forms["dose"].fields["dosed_at"].label = dose_time_label
    if session.protocol.route != "iv":
        forms["dose"].fields.pop("infusion_minutes")
        forms["dose"].fields.pop("infusion_rate_mg_per_min")
    forms["risk"].fields["alert"].widget.choices = [
        (alert.pk, f"{alert.instrument_name} answer, raised {timezone.localtime(alert.raised_at):%d %b %H:%M}")
        for alert in record.unacknowledged_low_risk_alerts
    ]
    forms["resolve"].fields["event"].widget.choices = [
        (event.pk, f"{event.name} (onset {timezone.localtime(event.onset_at):%H:%M})") for event in record.open_events
    ]
    user = request.user
    may_record = user.has_role(*RECORDING_ROLES) and not record.is_signed
    is_clinician = user.has_role(Role.CLINICIAN)
    protocol = session.protocol
    weight = session.patient.weight_kg
    unit = protocol.get_dose_unit_display()
    planned = session.planned_dose
    dosing = {
        "range": f"{_amount(protocol.dose_min)}–{_amount(protocol.dose_max)} {unit}",
        "planned": f"{_amount(planned)} {unit}",
        "planned_mg": None,
    }
    if protocol.dose_is_weight_based and weight is not None:
        dosing["planned_mg"] = dose_mg_for(dose_mg_per_kg=planned, weight_kg=weight)
    ctx = {
        "session": session,
        "patient": session.patient,
        "protocol": protocol,
        "record": record,
        "forms": forms,
        "dosing": dosing,
        "consent": consent_status_for_session(session),
        "is_open": session.status not in DosingSession.CLOSED_STATUSES,
        "route": protocol.route,
        "dose_time_label": dose_time_label,
        "can": {
            "record": may_record,
            "dose": may_record and user.has_role(*DOSING_ROLES),
            "acknowledge": may_record and is_clinician,
            "top_up": may_record and is_clinician and protocol.route == "im",
            "discharge": may_record and is_clinician,
            "sign": may_record and is_clinician,
            "amend": user.has_role(*RECORDING_ROLES) and record.is_signed,
        },
        "moaas_labels": sorted(MOAAS_LABELS.items(), reverse=True),
        "thresholds": {"flag": record.limits.flag_text, "hold": record.limits.hold_text},
    }
    return render(request, TEMPLATE, ctx, status=status)


@role_required(*STAFF_ROLES)
def record_detail_view(request, pk):
    session = get_session_for_user(request.user, pk)
    return _page(request, session)


def _step(request, pk, prefix, save, done, data=None):
    """Validate one step's form, hand it to its service, and go back to that step of the record."""
    session = get_session_for_user(request.user, pk)
    form = FORMS[prefix](request.POST, prefix=prefix)
    if form.is_valid():
        try:
            save(session, data(form) if data else form.cleaned_data)
        except ValidationError as exc:
            # Shown at the top of the page, which is rendered now: visible even where the step's form is not.
            message_validation_error(request, exc)
        else:
            messages.success(request, done)
            return redirect(reverse("sessions:record_detail", kwargs={"pk": session.pk}) + f"#{prefix}")
    return _page(request, session, bound=form, status=400)


@role_required(*RECORDING_ROLES)
@require_POST
def record_check_view(request, pk):
    def save(session, data):
        pre_dose_check_record(session=session, by=request.user, **data)

    return _step(request, pk, "check", save, "Pre-dose checks saved.", data=PreDoseCheckForm.service_data)


@role_required(Role.CLINICIAN)
@require_POST
def record_risk_acknowledge_view(request, pk):
    def save(session, data):
        pre_dose_risk_acknowledge(session=session, by=request.user, alert_id=data["alert"], note=data["note"])

    return _step(request, pk, "risk", save, "Suicide-risk alert acknowledged for this dose.")


@role_required(Role.CLINICIAN)
@require_POST
def record_bp_acknowledge_view(request, pk):
    def save(session, data):
        pre_dose_bp_acknowledge(session=session, by=request.user, **data)

    return _step(request, pk, "bp", save, "Blood pressure acknowledged.")


@role_required(*DOSING_ROLES)
@require_POST
def record_dose_view(request, pk):
    def save(session, data):
        dose_record(session=session, by=request.user, **data)

    return _step(request, pk, "dose", save, "Dose recorded; monitoring has started.", data=DoseForm.service_data)


@role_required(*RECORDING_ROLES)
@require_POST
def record_dosing_end_view(request, pk):
    def save(session, data):
        dosing_end_record(session=session, by=request.user, **data)

    return _step(request, pk, "dosing_end", save, "End of dosing recorded; observation counts from it.")


@role_required(Role.CLINICIAN)
@require_POST
def record_top_up_view(request, pk):
    def save(session, data):
        top_up_record(session=session, by=request.user, **data)

    return _step(
        request, pk, "top_up", save, "Top-up recorded; observation counts from it.", data=TopUpForm.service_data
    )


@role_required(*RECORDING_ROLES)
@require_POST
def record_vitals_view(request, pk):
    def save(session, data):
        vital_sign_record(session=session, by=request.user, **data)

    return _step(request, pk, "vitals", save, "Vital signs added.")


@role_required(*RECORDING_ROLES)
@require_POST
def record_score_view(request, pk):
    def save(session, data):
        scale_score_record(session=session, by=request.user, **data)

    return _step(request, pk, "score", save, "Score added.")


@role_required(*RECORDING_ROLES)
@require_POST
def record_adverse_event_view(request, pk):
    def save(session, data):
        adverse_event_record(session=session, by=request.user, **data)

    return _step(request, pk, "event", save, "Adverse event recorded.")


@role_required(*RECORDING_ROLES)
@require_POST
def record_adverse_event_resolve_view(request, pk):
    def save(session, data):
        adverse_event_resolve(session=session, by=request.user, event_id=data["event"], resolved_at=data["resolved_at"])

    return _step(request, pk, "resolve", save, "Resolution recorded.")


@role_required(Role.CLINICIAN)
@require_POST
def record_discharge_view(request, pk):
    def save(session, data):
        criteria = {name: value for name, value in data.items() if name not in ("note", "override_reason")}
        discharge_record(
            session=session,
            by=request.user,
            criteria=criteria,
            note=data["note"],
            override_reason=data["override_reason"],
        )

    return _step(request, pk, "discharge", save, "Patient discharged; the session is complete.")


@role_required(Role.CLINICIAN)
@require_POST
def record_sign_view(request, pk):
    def save(session, data):
        record_sign(session=session, by=request.user)

    return _step(request, pk, "sign", save, "Record signed. Later changes are added as amendments.")


@role_required(*RECORDING_ROLES)
@require_POST
def record_amend_view(request, pk):
    def save(session, data):
        record_amend(session=session, by=request.user, text=data["text"])

    return _step(request, pk, "amend", save, "Amendment added.")
