"""One patient's record as a FHIR R4 Bundle, for handing to another system or to the patient.

The bundle (type "collection") holds the Patient; a Condition per diagnosis (ICD-10-CM); an Appointment per dosing and
integration session; a MedicationAdministration per dose given (ketamine or esketamine, with dose in mg and route); and
a QuestionnaireResponse with an Observation of its total (category "survey", `derivedFrom` the response) per completed
instrument: screenings, self-reports and aftercare check-ins.

Codes (LOINC, as verified in HL7 / US Core examples): PHQ-9 panel 44249-1, total 44261-6; GAD-7 panel 69737-5, total
70274-6; AUDIT-C panel 72109-2, total 75626-2; AUDIT total 75624-7; DAST-10 total 82667-7; C-SSRS Screener panel
93373-9, risk level 93374-7. The responses' items of the PHQ-9 and the C-SSRS carry their LOINC item codes; PHQ-9 and
GAD-7 answers are coded LA6568-5 .. LA6571-9, C-SSRS answers Yes LA33-6 / No LA32-8. The PCL-5's code is not settled
(sources disagree), so its Observation carries a text-only code, as do the AUDIT and DAST-10 panels and the
medications (no RxNorm code is sent).

The models are those of `fhir.resources.R4B` (FHIR 4.3, the R4 line: the same shape for every resource used here), so
the bundle is validated as it is built.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle

from aftercare.models import CheckIn, CheckInResponse, IntegrationSession
from kap_clinic.rules import instruments
from patients.models import Patient
from screening.models import Diagnosis, InstrumentResponse, Screening
from sessions.models import DoseAdministration, DoseTopUp, DosingSession, Route

LOINC = "http://loinc.org"
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
UCUM = "http://unitsofmeasure.org"
MRN_SYSTEM = "urn:kap-clinic:mrn"
NAMESPACE = uuid.UUID("6f0c6a52-3f8e-4d1c-9a55-0b3e0d1d6c11")


@dataclass(frozen=True)
class InstrumentCodes:
    panel: str | None  # LOINC of the form; None: text only
    total: str | None  # LOINC of the Observation's value; None: text only
    total_display: str


INSTRUMENT_CODES = {
    "phq9": InstrumentCodes("44249-1", "44261-6", "Patient Health Questionnaire 9 item (PHQ-9) total score"),
    "gad7": InstrumentCodes("69737-5", "70274-6", "Generalized anxiety disorder 7 item (GAD-7) total score"),
    "audit_c": InstrumentCodes("72109-2", "75626-2", "Total score [AUDIT-C]"),
    "audit": InstrumentCodes(None, "75624-7", "Total score [AUDIT]"),
    "dast10": InstrumentCodes(None, "82667-7", "Total score [DAST-10]"),
    "cssrs": InstrumentCodes("93373-9", "93374-7", "Suicide risk level [C-SSRS Screener]"),
    "pcl5": InstrumentCodes(None, None, "PCL-5 total score"),
}
YES_NO = {1: ("LA33-6", "Yes"), 0: ("LA32-8", "No")}
# PHQ-9 and GAD-7 answers (LOINC answer list: Not at all .. Nearly every day).
FREQUENCY = {0: "LA6568-5", 1: "LA6569-3", 2: "LA6570-1", 3: "LA6571-9"}
# Item codes where LOINC's are settled: the response's linkId is the item's LOINC code (as in the US Core examples).
ITEM_CODES = {
    "phq9": ("44250-9", "44255-8", "44259-0", "44254-1", "44251-7", "44258-2", "44252-5", "44253-3", "44260-8"),
    "cssrs": ("93246-7", "93247-5", "93248-3", "93249-1", "93250-9", "93267-3", "93269-9"),
}

APPOINTMENT_STATUS = {
    "scheduled": "booked",
    "checked_in": "arrived",
    "in_progress": "arrived",
    "completed": "fulfilled",
    "no_show": "noshow",
    "cancelled": "cancelled",
}
GENDER = {"female": "female", "male": "male", "other": "other"}


def _uid(kind: str, pk) -> str:
    """A stable identifier for one record of this clinic, the same in every export of it."""
    return str(uuid.uuid5(NAMESPACE, f"{kind}:{pk}"))


def _instant(moment) -> str:
    return timezone.localtime(moment).isoformat(timespec="seconds")


def _loinc(code: str | None, display: str) -> dict:
    if code is None:
        return {"text": display}
    return {"coding": [{"system": LOINC, "code": code, "display": display}], "text": display}


class _Builder:
    def __init__(self, patient: Patient):
        self.patient = patient
        self.patient_ref = {"reference": f"urn:uuid:{_uid('patient', patient.pk)}", "display": patient.mrn}
        self.entries: list[dict] = []

    def add(self, kind: str, pk, resource: dict) -> dict:
        uid = _uid(kind, pk)
        self.entries.append({"fullUrl": f"urn:uuid:{uid}", "resource": {"id": uid, **resource}})
        return {"reference": f"urn:uuid:{uid}"}

    def patient_resource(self) -> None:
        patient = self.patient
        telecom = []
        if patient.phone:
            telecom.append({"system": "phone", "value": patient.phone})
        if patient.email:
            telecom.append({"system": "email", "value": patient.email})
        resource = {
            "resourceType": "Patient",
            "identifier": [{"system": MRN_SYSTEM, "value": patient.mrn, "type": {"text": "Medical record number"}}],
            "name": [{"use": "official", "family": patient.family_name, "given": [patient.given_name]}],
            "birthDate": patient.date_of_birth.isoformat(),
            "gender": GENDER.get(patient.sex, "unknown"),
        }
        if patient.preferred_name:
            resource["name"].append({"use": "usual", "given": [patient.preferred_name]})
        if telecom:
            resource["telecom"] = telecom
        self.add("patient", patient.pk, resource)

    def conditions(self) -> None:
        rows = (
            Diagnosis.objects.filter(screening__patient=self.patient)
            .exclude(screening__status=Screening.Status.DRAFT)
            .values_list("pk", "icd10_code", "description", "screening__completed_at")
            .order_by("pk")
        )
        for pk, code, description, recorded_at in rows:
            resource = {
                "resourceType": "Condition",
                "clinicalStatus": {
                    "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]
                },
                "category": [
                    {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/condition-category",
                                "code": "encounter-diagnosis",
                            }
                        ]
                    }
                ],
                "code": {
                    "coding": [{"system": ICD10, "code": code, "display": description or code}],
                    "text": description or code,
                },
                "subject": self.patient_ref,
            }
            if recorded_at is not None:
                resource["recordedDate"] = _instant(recorded_at)
            self.add("condition", pk, resource)

    def _appointment(self, kind: str, pk, *, status: str, label: str, starts_at, ends_at, clinician: str) -> dict:
        return self.add(
            kind,
            pk,
            {
                "resourceType": "Appointment",
                "status": APPOINTMENT_STATUS[status],
                "serviceType": [{"text": label}],
                "description": label,
                "start": _instant(starts_at),
                "end": _instant(ends_at),
                "participant": [
                    {"actor": self.patient_ref, "status": "accepted"},
                    {"actor": {"display": clinician}, "status": "accepted"},
                ],
            },
        )

    def appointments(self) -> dict[int, dict]:
        dosing_refs = {}
        rows = (
            DosingSession.objects.filter(patient=self.patient)
            .select_related("protocol", "clinician")
            .order_by("starts_at", "pk")
        )
        for session in rows.iterator():
            dosing_refs[session.pk] = self._appointment(
                "dosing",
                session.pk,
                status=session.status,
                label=f"Dosing session: {Route(session.protocol.route).label}",
                starts_at=session.starts_at,
                ends_at=session.ends_at,
                clinician=session.clinician.get_full_name() or session.clinician.username,
            )
        integration = (
            IntegrationSession.objects.filter(patient=self.patient).select_related("clinician").order_by("starts_at")
        )
        for session in integration.iterator():
            self._appointment(
                "integration",
                session.pk,
                status=session.status,
                label=f"Integration session: {session.get_modality_display()}",
                starts_at=session.starts_at,
                ends_at=session.starts_at + timedelta(minutes=session.duration_minutes),
                clinician=session.clinician.get_full_name() or session.clinician.username,
            )
        return dosing_refs

    def _administration(self, kind: str, pk, *, route: str, mg, at, appointment: dict | None) -> None:
        medicine = "Esketamine" if route == Route.INTRANASAL else "Ketamine"
        resource = {
            "resourceType": "MedicationAdministration",
            "status": "completed",
            "medicationCodeableConcept": {"text": medicine},
            "subject": self.patient_ref,
            "effectiveDateTime": _instant(at),
            "dosage": {
                "route": {"text": Route(route).label},
                "dose": {"value": mg, "unit": "mg", "system": UCUM, "code": "mg"},
            },
        }
        if appointment is not None:
            resource["supportingInformation"] = [appointment]
        self.add(kind, pk, resource)

    def administrations(self, dosing_refs: dict[int, dict]) -> None:
        doses = (
            DoseAdministration.objects.filter(session__patient=self.patient)
            .values_list("pk", "session_id", "session__protocol__route", "dose_mg_given", "dosed_at")
            .order_by("dosed_at", "pk")
        )
        for pk, session_id, route, mg, at in doses.iterator():
            self._administration("dose", pk, route=route, mg=mg, at=at, appointment=dosing_refs.get(session_id))
        top_ups = (
            DoseTopUp.objects.filter(session__patient=self.patient)
            .values_list("pk", "session_id", "session__protocol__route", "dose_mg", "given_at")
            .order_by("given_at", "pk")
        )
        for pk, session_id, route, mg, at in top_ups.iterator():
            self._administration("top-up", pk, route=route, mg=mg, at=at, appointment=dosing_refs.get(session_id))

    def _answer(self, code: str, item: instruments.Item, value: int) -> dict:
        if code == "cssrs":
            loinc, label = YES_NO[value]
            return {"valueCoding": {"system": LOINC, "code": loinc, "display": label}}
        if code in ("phq9", "gad7") and value in FREQUENCY:
            label = next(option.label for option in item.options if option.value == value)
            return {"valueCoding": {"system": LOINC, "code": FREQUENCY[value], "display": label}}
        return {"valueInteger": value}

    def questionnaire(self, kind: str, pk, *, code: str, answers: list, total: int, band: str, at) -> None:
        instrument = instruments.get(code)
        codes = INSTRUMENT_CODES.get(code, InstrumentCodes(None, None, f"{instrument.name} total score"))
        links = ITEM_CODES.get(code, tuple(item.key for item in instrument.items))
        items = [
            {"linkId": link, "text": item.label, "answer": [self._answer(code, item, value)]}
            for item, link, value in zip(instrument.items, links, answers, strict=False)
            if value is not None
        ]
        response = {
            "resourceType": "QuestionnaireResponse",
            "status": "completed",
            "subject": self.patient_ref,
            "authored": _instant(at),
            "item": items or None,
        }
        if codes.panel is not None:
            response["questionnaire"] = f"{LOINC}/{codes.panel}"
        response["identifier"] = {"system": "urn:kap-clinic:instrument", "value": instrument.name}
        response = {key: value for key, value in response.items() if value is not None}
        derived = self.add(f"{kind}-response", pk, response)
        observation = {
            "resourceType": "Observation",
            "status": "final",
            "category": [
                {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "survey"}]}
            ],
            "code": _loinc(codes.total, codes.total_display),
            "subject": self.patient_ref,
            "effectiveDateTime": _instant(at),
            "derivedFrom": [derived],
        }
        if code == "cssrs":
            observation["valueCodeableConcept"] = {"text": band.capitalize()}
        else:
            observation["valueInteger"] = total
            if band:
                observation["interpretation"] = [{"text": band.replace("_", " ").capitalize()}]
        self.add(f"{kind}-score", pk, observation)

    def questionnaires(self) -> None:
        screened = (
            InstrumentResponse.objects.filter(screening__patient=self.patient, is_complete=True, total__isnull=False)
            .values_list("pk", "code", "answers", "total", "band", "updated_at")
            .order_by("updated_at", "pk")
        )
        for pk, code, answers, total, band, at in screened.iterator():
            self.questionnaire("screening", pk, code=code, answers=answers, total=total, band=band, at=at)
        checked = (
            CheckInResponse.objects.filter(checkin__patient=self.patient, checkin__status=CheckIn.Status.COMPLETED)
            .values_list("pk", "code", "answers", "total", "band", "checkin__completed_at")
            .order_by("checkin__completed_at", "pk")
        )
        for pk, code, answers, total, band, at in checked.iterator():
            self.questionnaire("checkin", pk, code=code, answers=answers, total=total, band=band, at=at)


def patient_bundle(patient: Patient) -> Bundle:
    """The patient's record as a validated FHIR Bundle of type "collection". Access checks are the caller's."""
    builder = _Builder(patient)
    builder.patient_resource()
    builder.conditions()
    dosing_refs = builder.appointments()
    builder.administrations(dosing_refs)
    builder.questionnaires()
    return Bundle.model_validate(
        {
            "resourceType": "Bundle",
            "id": _uid("bundle", patient.pk),
            "type": "collection",
            "timestamp": _instant(timezone.now()),
            "entry": builder.entries,
        }
    )


def patient_bundle_json(patient: Patient) -> str:
    return patient_bundle(patient).model_dump_json(exclude_none=True)
