"""Load a demo clinic: one user per role and a handful of fictional patients.

Refuses to run with DEBUG off unless told --allow-production (the benchmark seeds a
production-configured copy). Running it again resets the demo passwords and adds nothing twice; on a demo seeded
days ago it brings the in-office series back to today, so there is always a dosing session to run.
"""

import base64
import os
import secrets
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from aftercare.services import checkin_series_create, integration_session_book
from billing.coverage import policy_create, self_pay_set
from billing.ledger.estimate import estimate_give
from billing.ledger.fees import fee_lookup
from billing.ledger.invoices import invoice_create, payment_record
from billing.models import Charge, GoodFaithEstimate, InsurancePolicy, Invoice, Payer, PriorAuthorization, SelfPay
from billing.preauth.lifecycle import preauth_record_sent
from billing.services import authorization_create, authorization_transition
from billing.sweep import authorization_check
from kap_clinic.kernel.accounts.models import User
from kap_clinic.kernel.accounts.roles import Role
from kap_clinic.kernel.clinic.models import ClinicSettings
from kap_clinic.kernel.reference_data import seed_reference_data
from kap_clinic.rules.cadence import Route
from patients.models import Patient
from patients.services import patient_create, patient_rems_enrollment_record
from screening import services as screening
from sessions.consent.services import consent_document_in_force, consent_record_by_staff
from sessions.controlled.services import cs_lot_receive
from sessions.models import (
    ClinicClosure,
    ControlledProduct,
    DosingSession,
    Enrollment,
    ProductLot,
    Protocol,
    Room,
    TreatmentPlan,
)
from sessions.scheduling.changes import session_no_show, session_reschedule
from sessions.scheduling.closures import closures_import_public_holidays
from sessions.scheduling.enrollment import enrollment_create
from sessions.scheduling.planning import plan_create

DEMO_USERS = (
    ("admin", Role.ADMIN, "Avery", "Admin"),
    ("clinician", Role.CLINICIAN, "Casey", "Clinician"),
    ("intake", Role.INTAKE, "Indira", "Intake"),
    ("patient", Role.PATIENT, "Pat", "Demo"),
)

# (given, family, born, sex for scoring, weight kg, how far through screening the demo takes them)
DEMO_PATIENTS = (
    ("Pat", "Demo", date(1984, 3, 14), "female", Decimal("68.0"), "booked"),
    ("Jordan", "Rivera", date(1979, 11, 2), "male", Decimal("82.5"), "completed"),
    ("Sam", "Okafor", date(1991, 6, 21), "male", Decimal("74.0"), "draft"),
    ("Alex", "Lindqvist", date(1968, 1, 30), "female", Decimal("61.2"), "dosing_today"),
    ("Morgan", "Tanaka", date(2000, 9, 9), "female", None, None),
)
FINE_ANSWERS = {
    "phq9": [2, 2, 1, 2, 1, 1, 2, 1, 0],
    "gad7": [1, 2, 1, 1, 1, 0, 1],
    "cssrs": [0, 0, None, None, None, 0, None],
    "audit": [1, 1, 0, 0, 0, 0, 0, 0, 0, 0],
    "dast10": [0, 0, 1, 0, 0, 0, 0, 0, 0, 0],
}


DEMO_PAYERS = (("Northwind Health Plan", "NWHP1"), ("Contoso Care Advantage", "CCA01"))


class Command(BaseCommand):
    help = "Create a demo clinic (one user per role, a few patients) and print the sign-in details."

    def add_arguments(self, parser):
        parser.add_argument("--allow-production", action="store_true", help="Run even though DEBUG is off.")

    def handle(self, *args, allow_production=False, **options):
        if not settings.DEBUG and not allow_production:
            raise CommandError("DEBUG is off: refusing to load demo data. Pass --allow-production to insist.")
        password = settings_password()
        with transaction.atomic():
            seed_reference_data()  # protocols, reminder rules, role groups... where a flushed database lacks them
            users = {
                username: _demo_user(username, role, first, last, password)
                for username, role, first, last in DEMO_USERS
            }
            keys = {
                username: _demo_totp_key(users[username])
                for username, role, _, _ in DEMO_USERS
                if users[username].requires_two_factor
            }
            _demo_clinic_settings()
            _demo_holidays()
            _demo_rooms()
            _demo_payers()
            _demo_controlled_stock(users["clinician"])
            _demo_patients(users)
            _demo_coverage(users["intake"])
        problem = _demo_dosing_due_today(users["clinician"])
        if problem:
            self.stdout.write(self.style.WARNING(f"No dosing session could be brought to today: {problem}"))
        site = settings.SITE_URL.rstrip("/") + "/"
        self.stdout.write(self.style.SUCCESS(f"Demo clinic ready. Open {site} and sign in with:"))
        for username, role, _, _ in DEMO_USERS:
            self.stdout.write(f"  {Role(role).label:<13} username {username:<10} password {password}")
        self.stdout.write("Staff also enter a code from an authenticator app; add these keys to one:")
        for name, key in keys.items():
            self.stdout.write(f"  {name:<10} {key}   (or: python manage.py totp_code {name})")
        self.stdout.write("Lost the app? Each staff member's backup codes work once each instead of a code:")
        for name in keys:
            self.stdout.write(f"  {name:<10} {' '.join(_demo_backup_codes(users[name]))}")
        today = _demo_dosing_today()
        if today is not None:
            when = timezone.localtime(today.starts_at)
            self.stdout.write(
                f"A dosing session to run from check-in to discharge: {today.patient.given_name} "
                f"{today.patient.family_name} at {when:%H:%M} on "
                f"{when:%a %d %b} (clinician's home page)."
            )
        self.stdout.write(f"Serving on another address? Set SITE_URL (now {site}) so links in emails lead back here.")


def settings_password() -> str:
    return os.environ.get("DEMO_PASSWORD") or secrets.token_urlsafe(12)


def _demo_user(username, role, first, last, password) -> User:
    user, _ = User.objects.get_or_create(username=username, defaults={"role": role})
    user.role, user.first_name, user.last_name = role, first, last
    user.email = f"{username}@demo.invalid"
    user.is_active = True
    user.set_password(password)
    user.save()
    return user


def _demo_totp_key(user: User) -> str:
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Demo authenticator", confirmed=True)
    return base64.b32encode(device.bin_key).decode()


def _demo_backup_codes(user: User) -> list[str]:
    """Three fresh backup codes each run, so the ones printed always work."""
    device = StaticDevice.objects.filter(user=user).first() or StaticDevice.objects.create(
        user=user, name="Backup codes", confirmed=True
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(3)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def _demo_patients(users) -> None:
    clinician, intake = users["clinician"], users["intake"]
    for index, (given, family, born, sex, weight, stage) in enumerate(DEMO_PATIENTS):
        if Patient.objects.filter(given_name=given, family_name=family, date_of_birth=born).exists():
            continue
        patient = patient_create(
            created_by=None,
            given_name=given,
            family_name=family,
            date_of_birth=born,
            sex=sex,
            sex_for_scoring=sex,
            weight_kg=weight,
            email=f"{given.lower()}.{family.lower()}@demo.invalid",
            consents_to_email=True,
            primary_clinician=clinician if index % 2 == 0 else None,
            user=users["patient"] if index == 0 else None,
        )
        if stage:
            _demo_screening(patient, stage, intake=intake, clinician=clinician)


def _demo_screening(patient, stage, *, intake, clinician) -> None:
    record = screening.screening_start(patient=patient, by=intake)
    codes = list(FINE_ANSWERS) if stage != "draft" else ["phq9", "gad7"]
    for code in codes:
        screening.response_save(screening=record, code=code, answers=FINE_ANSWERS[code], complete=True, by=intake)
    if stage == "draft":
        return
    screening.medical_save(
        screening=record,
        by=intake,
        data={
            "conditions": [],
            "no_conditions_attested": True,
            "bp_systolic": 122,
            "bp_diastolic": 78,
            "heart_rate": 72,
            "spo2": 98,
            "weight_kg": patient.weight_kg,
            "pregnant": False,
            "breastfeeding": False,
            "adequate_antidepressant_trials": 3,
            "ect_history": False,
        },
        medications_rows=[{"name": "Sertraline", "dose": "100 mg daily"}],
        diagnoses_rows=[
            {"icd10_code": "F33.2", "description": "Recurrent major depression, severe", "is_primary": True}
        ],
        complete=True,
    )
    record = screening.screening_complete(screening=record, by=intake)
    if stage in ("signed_off", "booked"):
        screening.screening_sign_off(screening=record, by=clinician, final_outcome=record.computed_outcome)
    if stage == "dosing_today":
        screening.screening_sign_off(screening=record, by=clinician, final_outcome=record.computed_outcome)
        _demo_in_office_series(patient, clinician=clinician)
    if stage == "booked":
        _demo_booking(patient, clinician=clinician)
        _demo_aftercare(patient, clinician=clinician)
        _demo_authorization(patient, intake=intake)


DEMO_ROOMS = ("Infusion room 1", "Infusion room 2", "Spravato suite")


def _demo_rooms() -> None:
    for name in DEMO_ROOMS:
        Room.objects.get_or_create(name=name)


def _demo_payers() -> None:
    """Fictional payers, so that intake staff can enter a prior authorization straight away."""
    for name, code in DEMO_PAYERS:
        Payer.objects.get_or_create(name=name, defaults={"payer_code": code})


def _demo_booking(patient, *, clinician) -> None:
    """Enroll the demo patient through the gate and book a Spravato series from the next weekday at 10:00."""
    enrollment_create(patient=patient, by=clinician)
    # Enrolled in the Spravato REMS today; the consent form stays for the patient to accept in the portal.
    patient_rems_enrollment_record(patient=patient, enrolled_on=timezone.localdate(), by=clinician)
    first_day = timezone.localdate() + timedelta(days=1)
    while first_day.weekday() >= 5:
        first_day += timedelta(days=1)
    plan_create(
        patient=patient,
        protocol=Protocol.objects.get(route="intranasal", is_active=True),
        first_day=first_day,
        start_time=time(10, 0),
        room=Room.objects.get(name="Spravato suite"),
        clinician=clinician,
        planned_dose=Decimal("56"),
        by=clinician,
    )


def _demo_aftercare(patient, *, clinician) -> None:
    """An integration session next week and check-ins that began yesterday, so the portal has one open now."""
    today = timezone.localdate()
    day = today + timedelta(days=7)
    while day.weekday() >= 5 or ClinicClosure.objects.filter(day=day).exists():
        day += timedelta(days=1)
    integration_session_book(
        patient=patient,
        clinician=clinician,
        modality="mbct",
        starts_at=timezone.make_aware(datetime.combine(day, time(16, 0))),
        by=clinician,
    )
    checkin_series_create(patient=patient, by=clinician, induction_ended_on=today - timedelta(days=8))


def _demo_authorization(patient, *, intake) -> None:
    """An approved authorization ending in ten days, so the front office sees its warning at once."""
    today = timezone.localdate()
    authorization = authorization_create(
        patient=patient,
        payer=Payer.objects.get(name=DEMO_PAYERS[0][0]),
        by=intake,
        reference="NW-2026-0042",
        codes=["G2082", "J0013"],
        units_authorized=8,
        starts_on=today - timedelta(days=80),
        ends_on=today + timedelta(days=10),
        units_requested=8,
        requested_starts_on=today - timedelta(days=80),
        requested_ends_on=today + timedelta(days=10),
        diagnoses=["F33.2"],
        justification="Two adequate antidepressant trials failed in this episode; PHQ-9 21 at screening.",
    )
    authorization = preauth_record_sent(authorization=authorization, by=intake, note="Faxed to the payer")
    authorization = authorization_transition(
        authorization=authorization, to=PriorAuthorization.Status.APPROVED, by=intake
    )
    authorization_check(authorization=authorization, today=today)


def _demo_patient(index: int) -> Patient | None:
    given, family, born = DEMO_PATIENTS[index][:3]
    return Patient.objects.filter(given_name=given, family_name=family, date_of_birth=born).first()


def _demo_coverage(intake) -> None:
    """The demo patient is insured (their authorization is approved); the in-office patient pays for their own care,
    with a good-faith estimate of their series and an invoice for their diagnostic evaluation, part paid. Each is
    added once."""
    insured, self_pay = _demo_patient(0), _demo_patient(3)
    today = timezone.localdate()
    if insured is not None and not InsurancePolicy.objects.filter(patient=insured).exists():
        policy_create(
            patient=insured,
            by=intake,
            payer=Payer.objects.get(name=DEMO_PAYERS[0][0]),
            plan_name="Northwind Silver PPO",
            member_id="NW123456789",
            group_id="GRP-0042",
            subscriber_name=f"{insured.given_name} {insured.family_name}",
            effective_from=date(today.year, 1, 1),
        )
    if self_pay is None:
        return
    if not SelfPay.objects.filter(patient=self_pay).exists():
        self_pay_set(patient=self_pay, by=intake, since=today - timedelta(days=14), note="No insurance.")
    plan = self_pay.treatment_plans.filter(status=TreatmentPlan.Status.ACTIVE).order_by("pk").first()
    if plan is not None and not GoodFaithEstimate.objects.filter(patient=self_pay).exists():
        try:
            estimate_give(plan=plan, by=intake)
        except ValidationError:
            pass  # no session still booked in the plan: nothing to estimate
    if not Invoice.objects.filter(patient=self_pay).exists():
        _demo_invoice(self_pay, intake=intake, seen_on=today - timedelta(days=7))


def _demo_invoice(patient, *, intake, seen_on) -> None:
    """The diagnostic evaluation at screening, invoiced, with a first payment by card."""
    fee = fee_lookup("90791")
    if fee is None:
        return
    Charge.objects.create(
        patient=patient,
        code=fee.code,
        description=fee.description,
        service_date=seen_on,
        units=Decimal(1),
        unit_price=fee.price,
        list_amount=fee.price,
        amount=fee.price,
    )
    invoice = invoice_create(patient=patient, by=intake, issued_on=seen_on)
    payment_record(invoice=invoice, amount=Decimal("100.00"), method="card", by=intake, received_on=seen_on)


DEMO_PHONE = "(212) 555-0142"  # a number reserved for fiction
DEMO_HOLIDAY_REGION = ("US", "NY")
DEMO_BILLING_PROVIDER = {
    "billing_provider_name": "KAP Clinic Demo, PLLC",
    "billing_npi": "1234567893",
    "billing_tax_id": "12-3456789",
    "billing_address": "100 Example Avenue, Suite 4, New York, NY 10001",
}


def _demo_clinic_settings() -> None:
    """The number patients are asked to call, the state whose public holidays close the clinic, and the billing
    provider on superbills."""
    clinic = ClinicSettings.load()
    if not clinic.phone:
        clinic.phone = DEMO_PHONE
    if clinic.holiday_country == DEMO_HOLIDAY_REGION[0] and not clinic.holiday_subdivision:
        clinic.holiday_subdivision = DEMO_HOLIDAY_REGION[1]
    # The billing provider printed on superbills (fictional: the NPI is the standard check-digit example).
    for field, value in DEMO_BILLING_PROVIDER.items():
        if not getattr(clinic, field):
            setattr(clinic, field, value)
    clinic.save()


def _demo_holidays() -> None:
    """This year's and next year's public holidays as closures, so no session is booked on one."""
    year = timezone.localdate().year
    for each in (year, year + 1):
        closures_import_public_holidays(year=each, by=None)


# (name, form and strength, mg per mL, lot number, quantity received, unit)
DEMO_STOCK = (
    ("Ketamine", "ketamine HCl 50 mg/mL, 10 mL vial", Decimal("50"), "KET-DEMO-01", Decimal("20"), "ml"),
    ("Ketamine", "ketamine HCl 100 mg sublingual troche", None, "KET-SL-DEMO-01", Decimal("2000"), "mg"),
    ("Spravato", "esketamine 28 mg nasal device", None, "SPR-DEMO-01", Decimal("560"), "mg"),
)


def _demo_controlled_stock(clinician) -> None:
    """A received lot of each product the demo doses with, so a dose can be logged against it."""
    expires = timezone.localdate() + timedelta(days=365)
    for name, strength, mg_per_ml, lot_number, quantity, unit in DEMO_STOCK:
        product, _ = ControlledProduct.objects.get_or_create(
            name=name, strength=strength, defaults={"mg_per_ml": mg_per_ml}
        )
        if not ProductLot.objects.filter(product=product, lot_number=lot_number).exists():
            cs_lot_receive(
                product=product, lot_number=lot_number, expires_on=expires, quantity=quantity, unit=unit, by=clinician
            )


# The smallest well-formed PDF: stands in for the scan of a consent form signed on paper.
DEMO_SCAN = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n%%EOF\n"
)


IN_OFFICE_START = time(12, 30)  # after the demo patient's Spravato session (10:00), with the same clinician


def _demo_in_office_series(patient, *, clinician) -> None:
    """An in-office sublingual ketamine series whose first session is today at 12:30, when it still fits the clinic's
    day (else the next open day), with the consent form signed, so staff can run a dosing session from check-in to
    discharge. At 12:30 it follows the demo patient's Spravato sessions (10:00) with the same clinician."""
    enrollment_create(patient=patient, by=clinician)
    today = timezone.localdate()
    document = consent_document_in_force(Route.SUBLINGUAL, today)
    if document is not None:
        consent_record_by_staff(
            patient=patient,
            document=document,
            scan=SimpleUploadedFile("signed-consent.pdf", DEMO_SCAN, content_type="application/pdf"),
            signed_on=today,
            by=clinician,
            note="Signed on paper at the screening visit.",
        )
    plan_create(
        patient=patient,
        protocol=Protocol.objects.filter(route=Route.SUBLINGUAL, is_active=True).order_by("pk").first(),
        first_day=today,
        start_time=IN_OFFICE_START,
        room=Room.objects.get(name="Infusion room 1"),
        clinician=clinician,
        planned_dose=Decimal("100"),
        by=clinician,
    )


def _demo_dosing_due_today(clinician) -> str:
    """On a demo seeded days ago, a dosing session for the in-office patient today again (at 12:30, or the next
    usable time), so a new user can run one from check-in to discharge; nothing changes when there is one today.

    The sessions that passed since are marked as no-shows (nobody ran them). The series' next session moves to today,
    the later ones only as far as the minimum interval needs; when the whole series is behind, a new one is booked from
    today. Returns why it could not, or "" when done."""
    given, family, born = DEMO_PATIENTS[3][:3]
    patient = Patient.objects.filter(given_name=given, family_name=family, date_of_birth=born).first()
    if patient is None or not Enrollment.objects.filter(patient=patient, status=Enrollment.Status.ACTIVE).exists():
        return ""
    now, today = timezone.now(), timezone.localdate()
    sessions = DosingSession.objects.filter(patient=patient)
    if sessions.filter(status__in=DosingSession.UPCOMING_STATUSES, starts_at__date=today).exists():
        return ""
    try:
        with transaction.atomic():  # all or nothing: the missed sessions stay as they were when none can move
            for missed in sessions.filter(status=DosingSession.Status.SCHEDULED, starts_at__lt=now):
                session_no_show(session=missed, by=clinician)
            protocol = Protocol.objects.filter(route=Route.SUBLINGUAL, is_active=True).order_by("pk").first()
            upcoming = sessions.filter(status=DosingSession.Status.SCHEDULED, protocol=protocol)
            upcoming = upcoming.order_by("starts_at").first()
            if upcoming is not None:
                at_half_past_twelve = timezone.make_aware(datetime.combine(today, IN_OFFICE_START))
                session_reschedule(session=upcoming, new_start=max(at_half_past_twelve, now), by=clinician)
            else:
                plan_create(
                    patient=patient,
                    protocol=protocol,
                    first_day=today,
                    start_time=IN_OFFICE_START,
                    room=Room.objects.get(name="Infusion room 1"),
                    clinician=clinician,
                    planned_dose=Decimal("100"),
                    by=clinician,
                )
    except ValidationError as exc:
        return " ".join(exc.messages)
    return ""


def _demo_dosing_today() -> DosingSession | None:
    """The demo's next dosing session still to run: today's where there is one."""
    name = DEMO_PATIENTS[3]
    return (
        DosingSession.objects.filter(
            patient__given_name=name[0],
            patient__family_name=name[1],
            status=DosingSession.Status.SCHEDULED,
            starts_at__date__gte=timezone.localdate(),
        )
        .select_related("patient")
        .order_by("starts_at")
        .first()
    )
