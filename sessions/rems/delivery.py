"""The Spravato REMS Patient Monitoring Form, filled in and delivered: prefill, completeness, sign-off, submission
(docs/clinical-references.md#rems).


The session record's sign-off asks `rems_can_sign(session)` before it signs a session: the answer is
truthy when the session needs no REMS form or its form is complete, and otherwise carries the
reasons in plain words (`check.reasons`), ready to raise as a `ValidationError`.
"""

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from kap_clinic.kernel.accounts.models import User
from kap_clinic.kernel.accounts.roles import STAFF_ROLES, Role
from kap_clinic.kernel.notifications.alerts import staff_alerts_acknowledge
from kap_clinic.rules.safety import SPRAVATO_BP_CHECK_WINDOW
from patients.models import Patient
from screening.models import Screening

from ..models import CSLogEntry, DosingSession, PreDoseCheck, RemsEvent, RemsMonitoringForm, VitalSign
from ..models.rems import REMS_EVENT_TYPES, REMS_MIN_MONITORING_MINUTES

# Form field → screening interaction class (kap_clinic.rules.medications.InteractionClass).
CONCOMITANT_MEDICATIONS = {
    "takes_benzodiazepines": "benzodiazepine",
    "takes_sedative_hypnotics": "sedative_hypnotic",
    "takes_psychostimulants": "stimulant",
    "takes_maois": "maoi",
    "takes_opioids": "opioid",
}

# What a clinician may write on the form, in form order, and whether it must be filled in before signing: the middle
# initial and address line 2 may stay empty, and the other dose is needed only with the dose "other" (see
# `rems_form_missing_fields`). The session, version and first-treatment answer are the system's.
REQUIRED, OPTIONAL = True, False
FORM_FIELDS: dict[str, bool] = {
    "patient_first_name": REQUIRED,
    "patient_middle_initial": OPTIONAL,
    "patient_last_name": REQUIRED,
    "patient_date_of_birth": REQUIRED,
    "patient_sex": REQUIRED,
    "is_enrolled_in_rems": REQUIRED,
    **dict.fromkeys(CONCOMITANT_MEDICATIONS, REQUIRED),
    "hcp_first_name": REQUIRED,
    "hcp_last_name": REQUIRED,
    "hcp_phone": REQUIRED,
    "hcp_email": REQUIRED,
    "setting_name": REQUIRED,
    "setting_address1": REQUIRED,
    "setting_address2": OPTIONAL,
    "setting_city": REQUIRED,
    "setting_state": REQUIRED,
    "setting_zip": REQUIRED,
    "treatment_date": REQUIRED,
    "dose": REQUIRED,
    "dose_other_mg": OPTIONAL,
    "lot_number": REQUIRED,
    "total_monitoring_minutes": REQUIRED,
    "ready_to_leave_minutes": REQUIRED,
    "vitals_ok_before_administration": REQUIRED,
    "vitals_ok_before_completion": REQUIRED,
    "bp_pre_systolic": REQUIRED,
    "bp_pre_diastolic": REQUIRED,
    "bp_40min_systolic": REQUIRED,
    "bp_40min_diastolic": REQUIRED,
    "bp_end_systolic": REQUIRED,
    "bp_end_diastolic": REQUIRED,
}
EDITABLE_FIELDS = tuple(FORM_FIELDS)
REQUIRED_FIELDS = tuple(name for name, required in FORM_FIELDS.items() if required)


def _label(field: str) -> str:
    return str(RemsMonitoringForm._meta.get_field(field).verbose_name)


def event_types(form: RemsMonitoringForm) -> tuple[str, ...]:
    """The event rows this form's version asks for."""
    return REMS_EVENT_TYPES[form.form_version]


# ---- Prefill ------------------------------------------------------------------------------------


def is_first_rems_treatment(session: DosingSession) -> bool:
    """No earlier REMS session of this patient took place (checked in or later) or has a form."""
    earlier = DosingSession.objects.filter(
        patient=session.patient_id, protocol__requires_rems=True, starts_at__lt=session.starts_at
    ).exclude(pk=session.pk)
    return not earlier.filter(Q(status__in=DosingSession.TREATED_STATUSES) | Q(rems_form__isnull=False)).exists()


def concomitant_medications(patient: Patient) -> dict[str, bool]:
    """Y/N per medication class from the medications on the patient's latest screening with a medical history.

    Empty when no screening has a medical history yet: the clinician then answers each question.
    """
    screening = Screening.objects.filter(patient=patient, medical__isnull=False).order_by("-created_at", "-pk").first()
    if screening is None:
        return {}
    classes = set(screening.medications.values_list("interaction_class", flat=True))
    return {field: cls in classes for field, cls in CONCOMITANT_MEDICATIONS.items()}


def _dose_from_log(session: DosingSession) -> dict:
    """Dose and lot as the controlled-substance log recorded them for this session, else the planned dose."""
    given = CSLogEntry.objects.filter(session=session, kind=CSLogEntry.Kind.ADMINISTERED)
    total = given.aggregate(total=Sum("amount_mg"))["total"]
    lots = sorted(set(given.values_list("lot__lot_number", flat=True)))
    if total is None and session.protocol.dose_unit == "mg":
        total = session.planned_dose
    values = {"lot_number": ", ".join(lots)[:40]}
    if total is None or total != total.to_integral_value():
        return values
    mg = int(total)
    if str(mg) in RemsMonitoringForm.Dose.values:
        values["dose"] = str(mg)
    elif 0 < mg <= 200:
        values.update(dose=RemsMonitoringForm.Dose.OTHER, dose_other_mg=mg)
    return values


# The form's second reading is "approximately 40 minutes" after administration (Spravato label: blood pressure at
# about 40 minutes, docs/clinical-references.md#clinical-review). A timeline reading in the window the discharge check
# accepts as that reading (safety.SPRAVATO_BP_CHECK_WINDOW) is taken for it, the nearest to 40 minutes.
BP_40MIN_TARGET = 40
BP_40MIN_WINDOW = range(SPRAVATO_BP_CHECK_WINDOW[0], SPRAVATO_BP_CHECK_WINDOW[1] + 1)
BP_WHEN = (
    ("pre", "before administration", "the pre-dose check"),
    (
        "40min",
        "about 40 minutes after administration",
        f"the vitals timeline ({BP_40MIN_WINDOW[0]}-{BP_40MIN_WINDOW[-1]} minutes after the dose)",
    ),
    ("end", "before completion of monitoring", "the last reading of the vitals timeline"),
)


def blood_pressures_from_record(session: DosingSession) -> dict[str, tuple[int, int] | None]:
    """The session record's readings for the form's three blood pressures ("pre", "40min", "end"), None where the
    record has none: the pre-dose check; the timeline reading nearest 40 minutes after the dose (30-60 minutes); the
    last timeline reading after that one."""
    check = PreDoseCheck.objects.filter(session=session).values_list("sbp", "dbp").first()
    readings = list(
        VitalSign.objects.filter(session=session, sbp__isnull=False, dbp__isnull=False)
        .order_by("taken_at", "pk")
        .values_list("minutes_from_dose", "sbp", "dbp")
    )
    near_40 = [reading for reading in readings if reading[0] in BP_40MIN_WINDOW]
    at_40 = min(near_40, key=lambda reading: abs(reading[0] - BP_40MIN_TARGET)) if near_40 else None
    later = readings[readings.index(at_40) + 1 :] if at_40 else [r for r in readings if r[0] > BP_40MIN_WINDOW[-1]]
    return {
        "pre": tuple(check) if check and None not in check else None,
        "40min": (at_40[1], at_40[2]) if at_40 else None,
        "end": (later[-1][1], later[-1][2]) if later else None,
    }


def _bp_prefill(session: DosingSession) -> dict:
    values = {}
    for when, reading in blood_pressures_from_record(session).items():
        if reading is not None:
            values[f"bp_{when}_systolic"], values[f"bp_{when}_diastolic"] = reading
    return values


def fill_blank_blood_pressures(form: RemsMonitoringForm) -> None:
    """Offer the record's readings for blood pressures still blank on an unsigned form (in memory, not saved): the
    vitals taken after the form was started are shown for the clinician to confirm."""
    for field, value in _bp_prefill(form.session).items():
        pair = field.rsplit("_", 1)[0]
        if getattr(form, f"{pair}_systolic") is None and getattr(form, f"{pair}_diastolic") is None:
            setattr(form, field, value)


def rems_bp_cross_check(form: RemsMonitoringForm) -> tuple[list[str], list[str]]:
    """(problems, warnings) from comparing the form's blood pressures with the session record's.

    A form value that differs from the record's reading blocks signing (the REMS gets what the chart says, or the
    chart is amended first); a form value the record has no reading for is only a warning (e.g. taken on paper).
    """
    problems, warnings = [], []
    record = blood_pressures_from_record(form.session)
    for when, words, source in BP_WHEN:
        given = (getattr(form, f"bp_{when}_systolic"), getattr(form, f"bp_{when}_diastolic"))
        if None in given:
            continue
        reading = record[when]
        if reading is None:
            warnings.append(f"The blood pressure {words} ({given[0]}/{given[1]}) is not in {source}.")
        elif tuple(given) != tuple(reading):
            problems.append(
                f"The blood pressure {words} on the form ({given[0]}/{given[1]}) differs from {source} "
                f"({reading[0]}/{reading[1]}): correct the form, or amend the session record."
            )
    return problems, warnings


def rems_prefill(session: DosingSession) -> dict:
    """The values a new form starts with, taken from the chart, the screening, the settings and the log."""
    patient, clinician = session.patient, session.clinician
    values = {
        "patient_first_name": patient.given_name,
        "patient_last_name": patient.family_name,
        "patient_date_of_birth": patient.date_of_birth,
        # The record's sex, never the scoring sex (which only picks instrument cut-offs and has no "Other").
        "patient_sex": patient.sex,
        "is_first_treatment": is_first_rems_treatment(session),
        # The enrollment is a fact on the chart, recorded before the first treatment (docs/clinical-references.md#rems).
        "is_enrolled_in_rems": True if patient.rems_enrolled_on is not None else None,
        "hcp_first_name": clinician.first_name,
        "hcp_last_name": clinician.last_name,
        "hcp_phone": settings.REMS_SETTING_PHONE,
        "hcp_email": clinician.email,
        "setting_name": settings.REMS_SETTING_NAME,
        "setting_address1": settings.REMS_SETTING_ADDRESS1,
        "setting_address2": settings.REMS_SETTING_ADDRESS2,
        "setting_city": settings.REMS_SETTING_CITY,
        "setting_state": settings.REMS_SETTING_STATE,
        "setting_zip": settings.REMS_SETTING_ZIP,
        "treatment_date": timezone.localtime(session.starts_at).date(),
    }
    values.update(concomitant_medications(patient))
    values.update(_dose_from_log(session))
    values.update(_bp_prefill(session))
    return values


# ---- Writes -------------------------------------------------------------------------------------


def _require_clinician(user: User) -> None:
    if not user.has_role(Role.CLINICIAN):
        raise PermissionDenied("Only a clinician can fill in or sign the REMS form.")


@transaction.atomic
def rems_form_start(*, session: DosingSession, by: User) -> RemsMonitoringForm:
    """The session's REMS form, created prefilled with one unanswered row per event type if it did not exist."""
    _require_clinician(by)
    session = (
        DosingSession.objects.select_for_update().select_related("protocol", "patient", "clinician").get(pk=session.pk)
    )
    if not session.protocol.requires_rems:
        raise ValidationError("This session's protocol does not use the REMS Patient Monitoring Form.")
    existing = RemsMonitoringForm.objects.filter(session=session).first()
    if existing is not None:
        return existing
    if not session.is_active:
        raise ValidationError("A cancelled or missed session has no REMS form.")
    form = RemsMonitoringForm.objects.create(session=session, created_by=by, **rems_prefill(session))
    RemsEvent.objects.bulk_create(RemsEvent(form=form, event_type=t) for t in event_types(form))
    return form


@transaction.atomic
def rems_form_save(
    *, form: RemsMonitoringForm, by: User, data: dict, events: dict[str, tuple[bool | None, str]] | None = None
) -> RemsMonitoringForm:
    """Save answers (partial answers too) on an unsigned form; `events` maps event type → (occurred, details)."""
    _require_clinician(by)
    form = RemsMonitoringForm.objects.select_for_update().select_related("session").get(pk=form.pk)
    if form.is_signed:
        raise ValidationError("This REMS form is signed and can no longer be changed.")
    unknown = set(data) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(f"Not fields of the REMS form: {', '.join(sorted(unknown))}.")
    for field, value in data.items():
        setattr(form, field, value)
    if form.dose != RemsMonitoringForm.Dose.OTHER:
        form.dose_other_mg = None
    form.is_first_treatment = is_first_rems_treatment(form.session)
    form.full_clean(exclude=["session", "created_by"])
    form.save()
    allowed = event_types(form)
    for event_type, (occurred, details) in (events or {}).items():
        if event_type not in allowed:
            raise ValidationError(f"This version of the form has no {event_type} question.")
        RemsEvent.objects.update_or_create(
            form=form, event_type=event_type, defaults={"occurred": occurred, "details": (details or "").strip()}
        )
    return form


@transaction.atomic
def rems_form_fill(
    *, session: DosingSession, by: User, data: dict, events: dict[str, tuple[bool | None, str]]
) -> RemsMonitoringForm:
    """The REMS page's Save: the session's form, started (`rems_form_start`) when it has none yet, with these answers
    saved (`rems_form_save`), in one transaction: answers refused leave no form started."""
    form = RemsMonitoringForm.objects.filter(session=session).first() or rems_form_start(session=session, by=by)
    return rems_form_save(form=form, by=by, data=data, events=events)


def rems_form_missing_fields(form: RemsMonitoringForm) -> list[str]:
    """What still has to be filled in before the form can be signed, in plain words and form order."""
    missing = []
    for field in REQUIRED_FIELDS:
        if getattr(form, field) in (None, ""):
            missing.append(_label(field))
        elif field == "dose" and form.dose == RemsMonitoringForm.Dose.OTHER and form.dose_other_mg is None:
            missing.append(_label("dose_other_mg"))
    answered = {e.event_type: e for e in form.events.all()}
    labels = dict(RemsEvent.EventType.choices)
    for event_type in event_types(form):
        event = answered.get(event_type)
        label = labels.get(event_type, event_type).lower()
        if event is None or event.occurred is None:
            missing.append(f"{label} (yes or no)")
        elif event.occurred and event_type == RemsEvent.EventType.OTHER_ADVERSE_EVENT and not event.details.strip():
            missing.append("what the other adverse event was")
    return missing


def rems_form_complete(form: RemsMonitoringForm) -> bool:
    return not rems_form_missing_fields(form)


def rems_form_problems(form: RemsMonitoringForm) -> list[str]:
    """Answers that contradict each other or the calendar; these block signing like a missing field."""
    problems = []
    if (
        form.total_monitoring_minutes is not None
        and form.ready_to_leave_minutes is not None
        and form.ready_to_leave_minutes > form.total_monitoring_minutes
    ):
        problems.append("The patient cannot have been ready to leave after monitoring was completed.")
    if form.treatment_date and form.treatment_date > timezone.localdate():
        problems.append("The treatment date is in the future.")
    problems.extend(rems_bp_cross_check(form)[0])
    return problems


def rems_form_warnings(form: RemsMonitoringForm) -> list[str]:
    """Answers that may be true but that the REMS does not expect; shown to the clinician, not blocking."""
    warnings = []
    if form.total_monitoring_minutes is not None and form.total_monitoring_minutes < REMS_MIN_MONITORING_MINUTES:
        warnings.append(f"Monitoring lasted less than the REMS minimum of {REMS_MIN_MONITORING_MINUTES} minutes.")
    if form.is_first_treatment and form.is_enrolled_in_rems is False:
        warnings.append("The REMS requires the patient to be enrolled before the first treatment.")
    warnings.extend(rems_bp_cross_check(form)[1])
    return warnings


@dataclass(frozen=True)
class RemsSignCheck:
    """Whether a session may be signed as far as the REMS is concerned; falsy with reasons when not."""

    required: bool
    reasons: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return not self.reasons


def rems_can_sign(session: DosingSession) -> RemsSignCheck:
    """Truthy when the session needs no REMS form or its form is complete; called by the session-record sign-off."""
    if not session.protocol.requires_rems:
        return RemsSignCheck(required=False)
    form = RemsMonitoringForm.objects.filter(session=session).prefetch_related("events").first()
    if form is None:
        return RemsSignCheck(required=True, reasons=("The REMS Patient Monitoring Form has not been started.",))
    reasons = []
    missing = rems_form_missing_fields(form)
    if missing:
        reasons.append(f"The REMS Patient Monitoring Form is missing: {', '.join(missing)}.")
    reasons.extend(rems_form_problems(form))
    return RemsSignCheck(required=True, reasons=tuple(reasons))


@transaction.atomic
def rems_form_sign(*, form: RemsMonitoringForm, by: User) -> RemsMonitoringForm:
    """Sign a complete form; from then on it is read-only."""
    _require_clinician(by)
    form = RemsMonitoringForm.objects.select_for_update().select_related("session__protocol").get(pk=form.pk)
    if form.is_signed:
        raise ValidationError("This REMS form is already signed.")
    check = rems_can_sign(form.session)
    if not check:
        raise ValidationError(list(check.reasons))
    form.signed_by, form.signed_at = by, timezone.now()
    form.save(update_fields=["signed_by", "signed_at", "updated_at"])
    return form


@transaction.atomic
def rems_form_mark_submitted(*, form: RemsMonitoringForm, by: User, reference: str = "") -> RemsMonitoringForm:
    """Record that staff submitted the signed form to the REMS (online or by fax); it leaves the pending list."""
    if by.role not in STAFF_ROLES:
        raise PermissionDenied
    form = RemsMonitoringForm.objects.select_for_update().get(pk=form.pk)
    if not form.is_signed:
        raise ValidationError("Sign the REMS form before recording its submission.")
    if form.is_submitted:
        raise ValidationError("This REMS form was already recorded as submitted.")
    form.submitted_by, form.submitted_at = by, timezone.now()
    form.submission_reference = reference.strip()[:60]
    form.save(update_fields=["submitted_by", "submitted_at", "submission_reference", "updated_at"])
    staff_alerts_acknowledge(key_prefix=f"rems-{form.session_id}-", by=by)  # its deadline warnings are answered
    return form
