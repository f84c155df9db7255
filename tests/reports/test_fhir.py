import json
from datetime import date

from fhir.resources.R4B.bundle import Bundle

from kap_clinic.reports.fhir import patient_bundle, patient_bundle_json

from .clinic import at, checked_in, dosing, integration, plan, room, screened


def build(patient, clinician, other_patient, other_clinician):
    screened(
        patient,
        clinician,
        at(date(2026, 3, 1)),
        {
            "phq9": 20,
            "gad7": 12,
            "cssrs": [1, 0, None, None, None, 0, None],
            "audit": 3,
            "dast10": [0] * 10,
            "pcl5": 30,
        },
        diagnoses=[("F33.2", "Major depressive disorder, recurrent, severe")],
    )
    treatment = plan(patient, clinician, route="intranasal", on=date(2026, 3, 2))
    dosing(treatment, at(date(2026, 3, 2)), chair=room("Chair 1"), mg="56")
    dosing(treatment, at(date(2026, 3, 5)), chair=room("Chair 1"), status="no_show")
    integration(patient, clinician, at(date(2026, 3, 3), 14))
    checked_in(patient, at(date(2026, 3, 20)), {"phq9": 8, "gad7": 5})
    # Someone else's record, which must not leak into the bundle.
    screened(
        other_patient, other_clinician, at(date(2026, 3, 1)), {"phq9": 17}, diagnoses=[("F41.1", "Generalized anxiety")]
    )
    other = plan(other_patient, other_clinician, route="iv", on=date(2026, 3, 2))
    dosing(other, at(date(2026, 3, 2), 13), chair=room("Chair 2"), mg="35.0")


def by_type(bundle: Bundle) -> dict[str, list]:
    found: dict[str, list] = {}
    for entry in bundle.entry:
        found.setdefault(entry.resource.get_resource_type(), []).append(entry.resource)
    return found


def test_bundle_validates_and_holds_the_patient_record(patient, clinician, other_patient, other_clinician):
    build(patient, clinician, other_patient, other_clinician)
    text = patient_bundle_json(patient)
    bundle = Bundle.model_validate_json(text)  # parsed back and validated by fhir.resources
    assert bundle.type == "collection"
    resources = by_type(bundle)
    assert len(resources["Patient"]) == 1
    assert resources["Patient"][0].identifier[0].value == patient.mrn
    assert resources["Patient"][0].name[0].family == "Quill"
    assert [c.code.coding[0].code for c in resources["Condition"]] == ["F33.2"]
    assert resources["Condition"][0].code.coding[0].system == "http://hl7.org/fhir/sid/icd-10-cm"
    assert sorted(a.status for a in resources["Appointment"]) == ["fulfilled", "fulfilled", "noshow"]
    (given,) = resources["MedicationAdministration"]
    assert given.medicationCodeableConcept.text == "Esketamine"
    assert float(given.dosage.dose.value) == 56 and given.dosage.dose.unit == "mg"
    assert given.dosage.route.text == "Intranasal esketamine"
    assert len(resources["QuestionnaireResponse"]) == 8  # six instruments at screening, two on the check-in


def test_observations_carry_the_loinc_codes(patient, clinician, other_patient, other_clinician):
    build(patient, clinician, other_patient, other_clinician)
    bundle = patient_bundle(patient)
    observations = by_type(bundle)["Observation"]
    values = {}
    for observation in observations:
        coding = observation.code.coding
        key = coding[0].code if coding else observation.code.text
        value = observation.valueInteger
        values.setdefault(key, []).append(observation.valueCodeableConcept.text if value is None else value)
        assert observation.category[0].coding[0].code == "survey"
        assert observation.derivedFrom[0].reference.startswith("urn:uuid:")
    assert sorted(values["44261-6"]) == [8, 20]  # PHQ-9 total
    assert sorted(values["70274-6"]) == [5, 12]  # GAD-7 total
    assert values["93374-7"] == ["Low"]  # C-SSRS risk level
    assert values["75624-7"] == [3]  # AUDIT total
    assert values["82667-7"] == [1]  # DAST-10 total: item 3 counts "No"
    assert values["PCL-5 total score"] == [30]  # text-only code


def test_every_reference_points_inside_the_bundle(patient, clinician, other_patient, other_clinician):
    build(patient, clinician, other_patient, other_clinician)
    data = json.loads(patient_bundle_json(patient))
    urls = {entry["fullUrl"] for entry in data["entry"]}
    references = []

    def walk(node):
        if isinstance(node, dict):
            if "reference" in node:
                references.append(node["reference"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(data["entry"])
    assert references and set(references) <= urls


def test_holds_no_other_patients_data(patient, clinician, other_patient, other_clinician):
    build(patient, clinician, other_patient, other_clinician)
    text = patient_bundle_json(patient)
    for leaked in (other_patient.mrn, "Holt", "Bram", "F41.1", "35.0"):
        assert leaked not in text
    other_text = patient_bundle_json(other_patient)
    assert patient.mrn not in other_text and "Quill" not in other_text
    assert len(by_type(Bundle.model_validate_json(other_text))["MedicationAdministration"]) == 1


def test_a_patient_with_no_treatment_yet_still_exports(patient):
    bundle = Bundle.model_validate_json(patient_bundle_json(patient))
    assert [entry.resource.get_resource_type() for entry in bundle.entry] == ["Patient"]


def test_questionnaire_items_carry_loinc_item_and_answer_codes(patient, clinician, other_patient, other_clinician):
    build(patient, clinician, other_patient, other_clinician)
    data = json.loads(patient_bundle_json(patient))
    responses = [e["resource"] for e in data["entry"] if e["resource"]["resourceType"] == "QuestionnaireResponse"]
    phq9 = next(r for r in responses if r.get("questionnaire") == "http://loinc.org/44249-1")
    assert [item["linkId"] for item in phq9["item"]][-1] == "44260-8"  # item 9
    assert phq9["item"][0]["answer"][0]["valueCoding"]["code"] == "LA6571-9"  # 3: nearly every day
    cssrs = next(r for r in responses if r.get("questionnaire") == "http://loinc.org/93373-9")
    assert [(item["linkId"], item["answer"][0]["valueCoding"]["code"]) for item in cssrs["item"]] == [
        ("93246-7", "LA33-6"), ("93247-5", "LA32-8"), ("93267-3", "LA32-8")
    ]  # fmt: skip
