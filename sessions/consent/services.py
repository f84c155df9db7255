"""Informed consent: which version of a route's consent form is in force, whether a patient has accepted it, and the
two ways an acceptance is recorded (the patient in the portal, or staff with the scanned signed form).

Decision (clinical safety, the safer reading of the issue): every dose needs an acceptance of the version in force on
the day of the dose, not only the first. When a new version comes into force, the patient's next dose waits until
they accept it, in the portal or on paper.
"""

from dataclasses import dataclass
from datetime import date, datetime, time

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from kap_clinic.kernel.accounts.models import User
from kap_clinic.kernel.accounts.roles import Role
from patients.models import Patient
from patients.selectors import is_portal_user_of

from ..models import ConsentAcceptance, ConsentDocument, DosingSession, TreatmentPlan
from ..models.scheduling import Route

# Scans of signed forms: what a phone or office scanner produces, and no larger than a multi-page PDF needs.
SCAN_TYPES = {".pdf": b"%PDF", ".png": b"\x89PNG", ".jpg": b"\xff\xd8\xff", ".jpeg": b"\xff\xd8\xff"}
SCAN_MAX_BYTES = 10 * 1024 * 1024
STAFF_RECORDERS = (Role.CLINICIAN, Role.INTAKE, Role.ADMIN)


def consent_document_in_force(route: str, on: date) -> ConsentDocument | None:
    """The route's consent form in force on a day: the highest version already effective."""
    return ConsentDocument.objects.filter(route=route, effective_on__lte=on).order_by("-version").first()


def consent_acceptance_for(patient: Patient, document: ConsentDocument) -> ConsentAcceptance | None:
    return (
        ConsentAcceptance.objects.filter(patient=patient, document=document)
        .select_related("recorded_by")
        .order_by("-accepted_at")
        .first()
    )


def consent_problems(session: DosingSession) -> list[str]:
    """Pre-dose check: the patient has accepted the consent form in force for this session's route on its day."""
    day = timezone.localdate(session.starts_at)
    route_label = Route(session.protocol.route).label
    document = consent_document_in_force(session.protocol.route, day)
    if document is None:
        return [f"No consent form is in force for {route_label}: an administrator must publish one before dosing."]
    if consent_acceptance_for(session.patient, document) is not None:
        return []
    earlier = ConsentAcceptance.objects.filter(patient=session.patient, document__route=session.protocol.route).exists()
    if earlier:
        return [
            f"A new version of the consent form for {route_label} (version {document.version}, in force from "
            f"{document.effective_on:%b} {document.effective_on.day}, {document.effective_on:%Y}) has not been "
            "accepted: the patient accepts it in the portal, or staff record the signed form."
        ]
    return [
        f"The patient has not accepted the consent form for {route_label} (version {document.version}): they accept "
        "it in the portal, or staff record the signed form."
    ]


@dataclass(frozen=True)
class ConsentStatus:
    """One route's consent form in force today and the patient's acceptance of it, if any."""

    route: str
    route_label: str
    document: ConsentDocument | None
    acceptance: ConsentAcceptance | None
    history: tuple[ConsentAcceptance, ...]

    @property
    def is_current(self) -> bool:
        return self.acceptance is not None


def patient_routes(patient: Patient) -> list[str]:
    """The routes of the patient's active treatment plans, in route order."""
    routes = set(
        TreatmentPlan.objects.filter(patient=patient, status=TreatmentPlan.Status.ACTIVE).values_list(
            "protocol__route", flat=True
        )
    )
    return [route for route in Route.values if route in routes]


def consent_statuses(patient: Patient, routes: list[str] | None = None) -> list[ConsentStatus]:
    """Per route (default: every route), the form in force today and whether the patient has accepted it."""
    today = timezone.localdate()
    accepted = list(ConsentAcceptance.objects.filter(patient=patient).select_related("document", "recorded_by"))
    statuses = []
    for route in routes if routes is not None else Route.values:
        document = consent_document_in_force(route, today)
        history = tuple(a for a in accepted if a.document.route == route)
        acceptance = next((a for a in history if document and a.document_id == document.pk), None)
        statuses.append(ConsentStatus(route, Route(route).label, document, acceptance, history))
    return statuses


def consent_documents_acceptable(route: str) -> QuerySet[ConsentDocument]:
    """The versions a patient may accept now: the one in force and any newer one already published."""
    current = consent_document_in_force(route, timezone.localdate())
    documents = ConsentDocument.objects.filter(route=route)
    if current is not None:
        documents = documents.filter(version__gte=current.version)
    return documents.order_by("version")


def _require_acceptable(document: ConsentDocument) -> None:
    if not consent_documents_acceptable(document.route).filter(pk=document.pk).exists():
        raise ValidationError("This version of the consent form has been replaced; read and accept the current one.")


@transaction.atomic
def consent_accept_in_portal(*, patient: Patient, document: ConsentDocument, by: User) -> ConsentAcceptance:
    """The patient accepts a consent form in the portal; accepting the same version twice keeps the first."""
    if not is_portal_user_of(by, patient):
        raise PermissionDenied("Only the patient can accept their consent form in the portal.")
    Patient.objects.select_for_update().filter(pk=patient.pk).first()  # two clicks at once record one acceptance
    _require_acceptable(document)
    existing = consent_acceptance_for(patient, document)
    if existing is not None:
        return existing
    return ConsentAcceptance.objects.create(
        patient=patient,
        document=document,
        accepted_at=timezone.now(),
        method=ConsentAcceptance.Method.PORTAL,
        recorded_by=by,
    )


def _check_scan(scan: UploadedFile | None) -> None:
    if scan is None:
        raise ValidationError("Attach the scan of the signed consent form.")
    name = (scan.name or "").lower()
    suffix = "." + name.rsplit(".", 1)[-1] if "." in name else ""
    if suffix not in SCAN_TYPES:
        raise ValidationError("The scan must be a PDF, PNG or JPEG file.")
    if scan.size is None or scan.size == 0:
        raise ValidationError("The scan is empty.")
    if scan.size > SCAN_MAX_BYTES:
        raise ValidationError(f"The scan is larger than {SCAN_MAX_BYTES // (1024 * 1024)} MB.")
    head = scan.read(8)
    scan.seek(0)
    if not head.startswith(SCAN_TYPES[suffix]):
        raise ValidationError("The file's contents do not match its type (PDF, PNG or JPEG).")


@transaction.atomic
def consent_record_by_staff(
    *,
    patient: Patient,
    document: ConsentDocument,
    scan: UploadedFile | None,
    signed_on: date,
    by: User,
    note: str = "",
) -> ConsentAcceptance:
    """Staff record a consent form the patient signed on paper, with its scan (stored privately)."""
    if not by.has_role(*STAFF_RECORDERS):
        raise PermissionDenied("Your role cannot record a consent form.")
    today = timezone.localdate()
    if signed_on > today:
        raise ValidationError("The signing date is in the future.")
    _require_acceptable(document)
    _check_scan(scan)
    accepted_at = timezone.now() if signed_on == today else timezone.make_aware(datetime.combine(signed_on, time(12)))
    return ConsentAcceptance.objects.create(
        patient=patient,
        document=document,
        accepted_at=accepted_at,
        method=ConsentAcceptance.Method.STAFF,
        recorded_by=by,
        scan=scan,
        note=(note or "").strip()[:200],
    )


def consent_status_for_session(session: DosingSession) -> ConsentStatus:
    """The consent form in force on the session's day for its route, and the patient's acceptance of it."""
    route = session.protocol.route
    document = consent_document_in_force(route, timezone.localdate(session.starts_at))
    acceptance = consent_acceptance_for(session.patient, document) if document else None
    return ConsentStatus(route, Route(route).label, document, acceptance, ())
