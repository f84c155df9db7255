from django.contrib import messages
from django.core.exceptions import ValidationError
from django.forms.utils import ErrorDict
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from kap_clinic.kernel.accounts.decorators import role_required
from kap_clinic.kernel.accounts.roles import STAFF_ROLES, Role
from kap_clinic.kernel.audit.services import record_chart_view
from kap_clinic.kernel.forms import apply_validation_error, form_submit, message_validation_error
from kap_clinic.rules import instruments
from patients.selectors import get_patient_for_user, patient_of_portal_user

from . import services
from .forms import (
    ACTION_COMPLETE,
    AlertReviewForm,
    ContraindicationChecklistForm,
    DiagnosisFormSet,
    InstrumentForm,
    MedicalHistoryForm,
    MedicationFormSet,
    SignOffForm,
)
from .models import Screening
from .selectors import alert_answers, get_alert_for_user, get_screening_for_user


@role_required(*STAFF_ROLES)
@require_POST
def screening_start_view(request, patient_pk):
    patient = get_patient_for_user(request.user, patient_pk)
    screening = services.screening_start(patient=patient, by=request.user)
    return redirect("screening:detail", pk=screening.pk)


@role_required(*STAFF_ROLES)
def screening_detail_view(request, pk):
    screening = get_screening_for_user(request.user, pk)
    record_chart_view(obj=screening)
    responses = {r.code: r for r in screening.responses.all()}
    parts = [
        {
            "code": code,
            "instrument": instruments.get(code),
            "response": responses.get(code),
            "required": code in services.REQUIRED_INSTRUMENTS,
        }
        for code in (*services.REQUIRED_INSTRUMENTS, *services.OPTIONAL_INSTRUMENTS)
    ]
    ctx = {
        "screening": screening,
        "patient": screening.patient,
        "parts": parts,
        "medical": getattr(screening, "medical", None),
        "alerts": screening.risk_alerts.filter(status="open"),
        "preview": services.screening_preview(screening) if screening.status == "draft" else None,
        "missing": services.screening_missing_parts(screening) if screening.status == "draft" else [],
        "sign_off_form": SignOffForm() if request.user.has_role(Role.CLINICIAN) else None,
    }
    return render(request, "screening/screening_detail.html", ctx)


@role_required(*STAFF_ROLES)
def instrument_view(request, pk, code):
    screening = get_screening_for_user(request.user, pk)
    if code not in (*services.REQUIRED_INSTRUMENTS, *services.OPTIONAL_INSTRUMENTS):
        raise Http404("No such instrument.")
    instrument = instruments.get(code)
    response = screening.responses.filter(code=code).first()
    if screening.status != Screening.Status.DRAFT and request.method != "POST":
        # A finished screening reads as a record: the answers as they were given, no form.
        record_chart_view(obj=response or screening)
        ctx = {
            "screening": screening,
            "patient": screening.patient,
            "instrument": instrument,
            "response": response,
            "answers": instruments.answer_rows(code, response.answers) if response else [],
        }
        return render(request, "screening/instrument_answers.html", ctx)
    form = InstrumentForm(instrument, request.POST or None, answers=response.answers if response else None)
    if request.method == "POST":
        complete = request.POST.get("action") == ACTION_COMPLETE
        sent = form_submit(
            form,
            services.response_save,
            only=["answers"],
            screening=screening,
            code=code,
            complete=complete,
            by=request.user,
        )
        if sent.done:
            messages.success(request, f"{instrument.name} {'saved' if complete else 'saved as a draft'}.")
            return redirect("screening:detail", pk=screening.pk)
    record_chart_view(obj=response or screening)
    ctx = {"screening": screening, "patient": screening.patient, "instrument": instrument, "form": form}
    return render(request, "screening/instrument_form.html", ctx, status=400 if form.errors else 200)


ADD_ROW_ACTIONS = {"add_med": "med", "add_dx": "dx"}  # the button's action -> the list's form prefix
MAX_LIST_ROWS = 40


def _int_or_zero(value) -> int:
    try:
        return max(int(value), 0)
    except (TypeError, ValueError):
        return 0


@role_required(*STAFF_ROLES)
def medical_view(request, pk):
    screening = get_screening_for_user(request.user, pk)
    medical = getattr(screening, "medical", None)
    data = request.POST or None
    adding = request.POST.get("action") in ADD_ROW_ACTIONS if request.method == "POST" else False
    if adding:
        # "Add a row": the same page again with one more empty row and everything typed kept; nothing is saved.
        data = request.POST.copy()
        total = f"{ADD_ROW_ACTIONS[request.POST['action']]}-TOTAL_FORMS"
        data[total] = str(min(_int_or_zero(data.get(total)) + 1, MAX_LIST_ROWS))
    form = MedicalHistoryForm(
        data, instance=medical, initial=None if medical else {"weight_kg": screening.patient.weight_kg}
    )
    meds = MedicationFormSet(
        data, prefix="med", initial=[{"name": m.name, "dose": m.dose} for m in screening.medications.all()]
    )
    diagnoses = DiagnosisFormSet(
        data,
        prefix="dx",
        initial=[
            {"icd10_code": d.icd10_code, "description": d.description, "is_primary": d.is_primary}
            for d in screening.diagnoses.all()
        ],
    )
    checklist = ContraindicationChecklistForm(
        data,
        prefix="ci",
        answers=medical.condition_answers if medical else None,
        attested=bool(medical and medical.no_conditions_attested),
    )
    if adding:
        record_chart_view(obj=medical or screening)
        for shown in (form, checklist, *meds.forms, *diagnoses.forms):
            shown._errors = ErrorDict()  # not submitted yet: no "required" errors while rows are being added
        ctx = {
            "screening": screening,
            "patient": screening.patient,
            "form": form,
            "checklist": checklist,
            "meds": meds,
            "diagnoses": diagnoses,
        }
        return render(request, "screening/medical_form.html", ctx)
    forms_valid = all([form.is_valid(), checklist.is_valid(), meds.is_valid(), diagnoses.is_valid()])
    if request.method == "POST" and forms_valid:
        fields = {name: form.cleaned_data[name] for name in form.Meta.fields}
        fields.update(checklist.checklist())
        try:
            services.medical_save(
                screening=screening,
                by=request.user,
                data=fields,
                medications_rows=[row for row in meds.cleaned_data if row.get("name")],
                diagnoses_rows=[row for row in diagnoses.cleaned_data if row.get("icd10_code")],
                complete=request.POST.get("action") == ACTION_COMPLETE,
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, "Medical history saved.")
            return redirect("screening:detail", pk=screening.pk)
    has_errors = bool(form.errors or checklist.errors or any(meds.errors) or any(diagnoses.errors))
    record_chart_view(obj=medical or screening)
    ctx = {
        "screening": screening,
        "patient": screening.patient,
        "form": form,
        "checklist": checklist,
        "meds": meds,
        "diagnoses": diagnoses,
    }
    return render(request, "screening/medical_form.html", ctx, status=400 if has_errors else 200)


@role_required(*STAFF_ROLES)
@require_POST
def screening_complete_view(request, pk):
    screening = get_screening_for_user(request.user, pk)
    try:
        services.screening_complete(screening=screening, by=request.user)
    except ValidationError as exc:
        message_validation_error(request, exc)
    else:
        messages.success(request, "Screening complete and waiting for a clinician's sign-off.")
    return redirect("screening:detail", pk=screening.pk)


@role_required(Role.CLINICIAN)
@require_POST
def screening_sign_off_view(request, pk):
    screening = get_screening_for_user(request.user, pk)
    form = SignOffForm(request.POST)
    if form_submit(form, services.screening_sign_off, screening=screening, by=request.user).done:
        messages.success(request, "Screening signed off.")
        return redirect("homes:patient_chart", pk=screening.patient_id)
    record_chart_view(obj=screening)
    ctx = {"screening": screening, "patient": screening.patient, "form": form}
    return render(request, "screening/sign_off_form.html", ctx, status=400)


@role_required(Role.CLINICIAN)
def alert_clear_view(request, pk):
    alert = get_alert_for_user(request.user, pk)
    form = AlertReviewForm(request.POST or None)
    if request.method == "POST":
        if form_submit(form, services.alert_clear, alert=alert, by=request.user).done:
            messages.success(request, "Alert reviewed and cleared.")
            return redirect("homes:patient_chart", pk=alert.patient_id)
    record_chart_view(obj=alert)
    ctx = {"alert": alert, "patient": alert.patient, "form": form, "answers": alert_answers(alert)}
    return render(request, "screening/alert_clear.html", ctx, status=400 if form.errors else 200)


@role_required(Role.PATIENT)
def self_report_view(request, code):
    patient = patient_of_portal_user(request.user)
    if patient is None or code not in services.SELF_REPORT_INSTRUMENTS or not services.self_report_open(patient):
        raise Http404("No such questionnaire.")
    instrument = instruments.get(code)
    form = InstrumentForm(instrument, request.POST or None)
    if request.method == "POST":
        sent = form_submit(
            form, services.self_report_save, only=["answers"], patient=patient, code=code, by=request.user
        )
        if sent.done:
            messages.success(request, f"Thank you. Your {instrument.name} answers were sent to the clinic.")
            return redirect("homes:home")
    ctx = {"instrument": instrument, "form": form}
    return render(request, "screening/self_report.html", ctx, status=400 if form.errors else 200)
