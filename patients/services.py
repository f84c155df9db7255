import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from kap_clinic.kernel.accounts.models import User
from kap_clinic.kernel.accounts.roles import STAFF_ROLES, Role
from kap_clinic.kernel.outbox.services import email_outbox_cancel, email_outbox_send
from kap_clinic.kernel.validation import birth_date

from . import signals
from . import status as path
from .models import MRN_PREFIX, Patient, PatientInvite, PatientRegistration, PatientStatusChange

INVITE_SALT = "patients.invite"


def _new_mrn() -> str:
    return f"{MRN_PREFIX}-{secrets.randbelow(10**8):08d}"


def patient_create(*, created_by: User | None, **fields) -> Patient:
    """Register a referred patient under a newly generated, unique medical record number."""
    if isinstance(fields.get("date_of_birth"), date):
        birth_date(fields["date_of_birth"])
    for _ in range(10):
        mrn = _new_mrn()
        if Patient.objects.filter(mrn=mrn).exists():
            continue
        try:
            with transaction.atomic():
                return Patient.objects.create(mrn=mrn, **fields)
        except IntegrityError:
            if not Patient.objects.filter(mrn=mrn).exists():
                raise
    raise RuntimeError("Could not allocate a medical record number.")


# ---- Registering a patient once --------------------------------------------------------------------------------

REGISTRATION_SALT = "patients.registration"
REGISTRATION_FORM_MAX_AGE = timedelta(days=1)  # a form left open longer gets a fresh token (and is checked again)


def registration_token_issue(*, by: User) -> str:
    """The one-time token a "Register a patient" form carries: signed, for this user, unused until a post spends it."""
    return signing.dumps({"n": secrets.token_urlsafe(24), "u": by.pk}, salt=REGISTRATION_SALT)


def _registration_nonce(token: str, by: User | None) -> str:
    try:
        data = signing.loads(token or "", salt=REGISTRATION_SALT, max_age=REGISTRATION_FORM_MAX_AGE.total_seconds())
    except signing.BadSignature:
        data = None
    if not isinstance(data, dict) or data.get("u") != getattr(by, "pk", None) or not data.get("n"):
        raise ValidationError(
            "This registration form has expired or was not opened by you. Check the details and save again.",
            code="registration_token",
        )
    return str(data["n"])[:64]


def _normal_name(text: str) -> str:
    return " ".join((text or "").split()).lower()


def _phone_digits(text: str) -> str:
    return "".join(ch for ch in (text or "") if ch.isdigit())


def _same_phone(a: str, b: str) -> bool:
    """The same number written differently: equal digits, or the same last ten digits (with or without +1)."""
    a, b = _phone_digits(a), _phone_digits(b)
    if len(a) < 7 or len(b) < 7:
        return False
    return a == b or (len(a) >= 10 and len(b) >= 10 and a[-10:] == b[-10:])


def patient_possible_duplicates(
    *, family_name: str = "", date_of_birth: date | None = None, email: str = "", phone: str = "", **_ignored
) -> list[Patient]:
    """Patients already on file who may be this person: the same family name and date of birth, the same email or the
    same phone number (case, spacing and punctuation ignored). Oldest registration first."""
    found: dict[int, Patient] = {}
    if date_of_birth and _normal_name(family_name):
        for candidate in Patient.objects.filter(date_of_birth=date_of_birth):
            if _normal_name(candidate.family_name) == _normal_name(family_name):
                found[candidate.pk] = candidate
    if (email or "").strip():
        for candidate in Patient.objects.filter(email__iexact=email.strip()):
            found[candidate.pk] = candidate
    digits = _phone_digits(phone)
    if len(digits) >= 7:
        for candidate in Patient.objects.filter(phone__contains=digits[-2:]).exclude(pk__in=found):
            if _same_phone(candidate.phone, phone):
                found[candidate.pk] = candidate
    return sorted(found.values(), key=lambda p: (p.created_at, p.pk))


class PossibleDuplicate(ValidationError):
    """The new patient looks like one already on file; registering needs an explicit "register anyway"."""

    def __init__(self, matches: list[Patient]):
        super().__init__(
            "This person may already be registered (see the possible matches). Open their chart instead, or tick "
            "\u201cRegister anyway\u201d if this is a different person.",
            code="possible_duplicate",
        )
        self.matches = matches


@dataclass(frozen=True)
class Registration:
    patient: Patient
    created: bool  # False: this form had already registered the patient, who is shown instead
    matches: list[Patient] = field(default_factory=list)  # possible duplicates registered over with confirmation


def _lock_registration_keys(fields: dict) -> None:
    """Serialise registrations of what looks like the same person (PostgreSQL advisory locks, to the transaction's
    end), so two forms with the same details posted at once cannot both miss each other."""
    if connection.vendor != "postgresql":
        return
    keys = set()
    if fields.get("date_of_birth") and _normal_name(fields.get("family_name", "")):
        keys.add(f"name:{_normal_name(fields['family_name'])}:{fields['date_of_birth']}")
    if (fields.get("email") or "").strip():
        keys.add(f"email:{fields['email'].strip().lower()}")
    if len(_phone_digits(fields.get("phone", ""))) >= 7:
        keys.add(f"phone:{_phone_digits(fields['phone'])[-10:]}")
    with connection.cursor() as cursor:
        for key in sorted(keys):  # always in the same order: two registrations never wait on each other in a circle
            number = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big", signed=True)
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [number])


def _registered_by_token(nonce: str) -> Patient | None:
    row = PatientRegistration.objects.select_related("patient").filter(token=nonce).first()
    return row.patient if row else None


def patient_register(
    *, created_by: User | None, form_token: str, register_anyway: bool = False, **fields
) -> Registration:
    """Register a patient from the front desk's form, once.

    The form's one-time token is spent in the same transaction as the patient is created (unique in the database):
    the same form posted again, or twice at once, shows the patient the first post registered. A patient who looks
    like one already on file (`patient_possible_duplicates`) is registered only with `register_anyway`.
    """
    nonce = _registration_nonce(form_token, created_by)
    earlier = _registered_by_token(nonce)
    if earlier is not None:
        return Registration(earlier, created=False)
    with transaction.atomic():
        _lock_registration_keys(fields)
        earlier = _registered_by_token(nonce)  # a post of the same form that held the lock before this one
        if earlier is not None:
            return Registration(earlier, created=False)
        matches = patient_possible_duplicates(**fields)
        if matches and not register_anyway:
            raise PossibleDuplicate(matches)
        try:
            with transaction.atomic():
                patient = patient_create(created_by=created_by, **fields)
                PatientRegistration.objects.create(
                    token=nonce, patient=patient, registered_by=created_by, duplicate_confirmed=bool(matches)
                )
        except IntegrityError:
            earlier = _registered_by_token(nonce)  # the same form, posted at the same moment, registered first
            if earlier is None:
                raise
            return Registration(earlier, created=False)
    return Registration(patient, created=True, matches=matches)


CONTACT_FIELDS = ("email", "phone", "consents_to_email", "consents_to_sms")


@transaction.atomic
def patient_update(*, patient: Patient, updated_by: User, **fields) -> Patient:
    """Change a patient's details; the audit log records each changed field.

    A change of contact details or consent is announced (`signals.contact_details_changed`) in the same transaction,
    so the patient's upcoming reminders are re-planned with it: a channel consented to now is reminded of sessions
    booked before, a withdrawn one is not used again.
    """
    contact_before = [getattr(patient, name) for name in CONTACT_FIELDS]
    for name, value in fields.items():
        setattr(patient, name, value)
    patient.full_clean()
    patient.save()
    if [getattr(patient, name) for name in CONTACT_FIELDS] != contact_before:
        signals.contact_details_changed.send(sender=Patient, patient=patient)
    return patient


@transaction.atomic
def patient_transition(*, patient: Patient, to: str, by: User | None, reason: str = "") -> Patient:
    """Move a patient along an allowed step of the program path, recording who and why.

    Locks the patient row so two simultaneous moves cannot both start from the same status.
    """
    locked = Patient.objects.select_for_update().get(pk=patient.pk)
    if locked.status == to:
        return locked
    if not path.can_move(locked.status, to):
        raise ValidationError(
            f"A patient cannot move from {path.Status(locked.status).label.lower()} to {path.Status(to).label.lower()}."
        )
    PatientStatusChange.objects.create(
        patient=locked, from_status=locked.status, to_status=to, changed_by=by, reason=reason.strip()
    )
    locked.status = to
    locked.save(update_fields=["status", "updated_at"])
    patient.status = to
    return locked


def patient_manual_transition(*, patient: Patient, to: str, by: User, reason: str) -> Patient:
    """A move made by staff from the chart: only the manual steps, always with a reason."""
    if by.role not in STAFF_ROLES:
        raise PermissionDenied
    if path.Status(to) not in path.MANUAL_TARGETS:
        raise ValidationError("That status is set by the screening sign-off or the enrollment gate.")
    if not reason.strip():
        raise ValidationError("Give a reason for the change.")
    return patient_transition(patient=patient, to=to, by=by, reason=reason)


# ---- Portal invitations ------------------------------------------------------------------------


def invite_token(invite: PatientInvite) -> str:
    return signing.dumps({"i": invite.pk, "n": invite.nonce}, salt=INVITE_SALT)


@transaction.atomic
def patient_invite(*, patient: Patient, by: User) -> PatientInvite:
    """Create (or reuse) the patient's portal account and a new invitation; earlier open invitations lapse."""
    if not patient.email:
        raise ValidationError("Add the patient's email address before inviting them.")
    user = patient.user
    if user is None:
        if User.objects.filter(username__iexact=patient.email).exists():
            raise ValidationError("An account with this email address already exists.")
        user = User(username=patient.email.lower(), email=patient.email, role=Role.PATIENT, is_active=True)
        user.first_name, user.last_name = patient.given_name, patient.family_name
        user.set_unusable_password()
        user.save()
        patient.user = user
        patient.save(update_fields=["user", "updated_at"])
    elif user.has_usable_password():
        raise ValidationError("This patient already has a portal password.")
    now = timezone.now()
    lapsed = PatientInvite.objects.filter(patient=patient, used_at__isnull=True, expires_at__gt=now)
    for old_pk in lapsed.values_list("pk", flat=True):
        # Its link would only lead the patient to "not valid": an email still waiting for the worker is not sent.
        email_outbox_cancel(key=_invite_email_key(old_pk), reason="A newer invitation replaced it.")
    lapsed.update(expires_at=now)
    invite = PatientInvite.objects.create(
        patient=patient,
        user=user,
        nonce=secrets.token_urlsafe(32),
        created_by=by,
        expires_at=now + timedelta(hours=settings.PATIENT_INVITE_HOURS),
    )
    invite_send(invite=invite, base_url=settings.SITE_URL)
    return invite


def _invite_email_key(invite_pk: int) -> str:
    return f"patient-invite-{invite_pk}"


def invite_for_token(token: str) -> PatientInvite | None:
    """The open invitation a link names; None when the link is forged, used or expired."""
    try:
        data = signing.loads(token, salt=INVITE_SALT)
    except signing.BadSignature:
        return None
    invite = (
        PatientInvite.objects.select_related("user", "patient")
        .filter(pk=data.get("i"), nonce=data.get("n"), used_at__isnull=True, expires_at__gt=timezone.now())
        .first()
    )
    return invite


@transaction.atomic
def invite_accept(*, invite: PatientInvite, password: str) -> User:
    """Set the patient's password through an invitation, which can be used once only."""
    claimed = PatientInvite.objects.filter(pk=invite.pk, used_at__isnull=True, expires_at__gt=timezone.now()).update(
        used_at=timezone.now()
    )
    if claimed != 1:
        raise ValidationError("This invitation link has already been used or has expired.")
    user = invite.user
    user.set_password(password)
    user.save(update_fields=["password"])
    return user


def invite_send(*, invite: PatientInvite, base_url: str) -> None:
    """Write the invitation email to the outbox in the caller's transaction (sent once, even if the broker is down);
    the subject and body carry no clinical detail."""
    ctx = {
        "clinic_name": settings.CLINIC_NAME,
        "link": base_url.rstrip("/") + reverse("invite_accept", args=[invite_token(invite)]),
        "hours": settings.PATIENT_INVITE_HOURS,
        "given_name": invite.patient.given_name,
    }
    email_outbox_send(
        to=invite.patient.email,
        subject=render_to_string("patients/email/invite_subject.txt", ctx),
        text=render_to_string("patients/email/invite_body.txt", ctx),
        html=render_to_string("patients/email/invite_body.html", ctx),
        kind="portal_invitation",
        key=_invite_email_key(invite.pk),
    )
    PatientInvite.objects.filter(pk=invite.pk).update(emailed_at=timezone.now())


@transaction.atomic
def patient_rems_enrollment_record(*, patient: Patient, enrolled_on, by: User) -> Patient:
    """Record that the patient is enrolled in the Spravato REMS, on which day and by whom
    (docs/clinical-references.md#rems).

    The REMS requires enrollment before the first treatment, so the Spravato pre-dose check reads this fact. The
    audit log keeps every change; a correction (another date) is a new recording, never a silent edit.
    """
    if not by.has_role(Role.CLINICIAN, Role.INTAKE, Role.ADMIN):
        raise PermissionDenied("Your role cannot record a REMS enrollment.")
    if enrolled_on is None:
        raise ValidationError("Give the date the patient was enrolled in the REMS.")
    if enrolled_on > timezone.localdate():
        raise ValidationError("The REMS enrollment date is in the future.")
    if enrolled_on < patient.date_of_birth:
        raise ValidationError("The REMS enrollment date is before the patient's date of birth.")
    locked = Patient.objects.select_for_update().get(pk=patient.pk)
    locked.rems_enrolled_on = enrolled_on
    locked.rems_enrolled_by = by
    locked.rems_enrollment_recorded_at = timezone.now()
    locked.save(update_fields=["rems_enrolled_on", "rems_enrolled_by", "rems_enrollment_recorded_at", "updated_at"])
    return locked
