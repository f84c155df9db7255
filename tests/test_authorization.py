"""Every URL of the project against every role: who gets the page, who is refused, who is sent to sign in.

A URL that is added to the project without a row here fails `test_every_url_is_in_the_matrix`.
"""

import pytest
from django.contrib import admin
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.conftest import sign_in

ANON, PATIENT, INTAKE, CLINICIAN, ADMIN = "anonymous", "patient", "intake", "clinician", "admin"
# The sixth principal: the clinician (with a confirmed authenticator) signed in with the password alone.
PASSWORD_ONLY = "password_only"
ROLES = (ANON, PATIENT, INTAKE, CLINICIAN, ADMIN, PASSWORD_ONLY)

OK, LOGIN, FORBIDDEN, NOT_FOUND, REDIRECT, NOT_ALLOWED, BAD = 200, "login", 403, 404, 302, 405, 400
VERIFY = "verify"  # sent to the two-factor code page


def row(anonymous, patient, intake, clinician, admin_, password_only=VERIFY):
    """Expected answers per role; a password-only staff session is sent to the code page unless said otherwise."""
    return dict(zip(ROLES, (anonymous, patient, intake, clinician, admin_, password_only), strict=True))


STAFF_ONLY = row(LOGIN, FORBIDDEN, OK, OK, OK)
ADMIN_ONLY = row(LOGIN, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK)
ANY_SIGNED_IN = row(LOGIN, OK, OK, OK, OK)
PATIENT_ONLY = row(LOGIN, OK, FORBIDDEN, FORBIDDEN, FORBIDDEN)
RECORDS = row(LOGIN, FORBIDDEN, BAD, BAD, FORBIDDEN)
CLINICIAN_RECORDS = row(LOGIN, FORBIDDEN, FORBIDDEN, BAD, FORBIDDEN)
CLINICAL_STAFF = row(LOGIN, FORBIDDEN, FORBIDDEN, OK, OK)

# url name -> (kwargs builder name, method, expected per role). Objects belong to patient A, whose
# portal account is the patient role's user and whose primary clinician is the clinician role's user.
MATRIX = {
    "homes:home": (None, "get", ANY_SIGNED_IN),
    "clinic:health": (None, "get", row(OK, OK, OK, OK, OK)),
    "clinic:settings": (None, "get", ADMIN_ONLY),
    "clinic:worker_check": (None, "post", row(LOGIN, FORBIDDEN, FORBIDDEN, FORBIDDEN, REDIRECT)),
    "accounts:login": (None, "get", row(OK, REDIRECT, REDIRECT, REDIRECT, REDIRECT)),
    # A password-only session reaches the code page and sign-out, and nothing else (the admin's reset link aside).
    "accounts:logout": (None, "post", row(REDIRECT, REDIRECT, REDIRECT, REDIRECT, REDIRECT, REDIRECT)),
    "accounts:two_factor_verify": (None, "get", row(LOGIN, REDIRECT, REDIRECT, REDIRECT, REDIRECT, OK)),
    # Verified staff replace their authenticator here (with the password again); a GET never creates a device.
    "accounts:two_factor_setup": (None, "get", row(LOGIN, FORBIDDEN, OK, OK, OK)),
    # An admin's reset link for the clinician: it opens set-up in the clinician's own session only.
    "accounts:two_factor_reset": (
        "two_factor_reset_token",
        "get",
        row(LOGIN, NOT_FOUND, NOT_FOUND, REDIRECT, NOT_FOUND, REDIRECT),
    ),
    "accounts:backup_codes": (None, "get", row(LOGIN, FORBIDDEN, OK, OK, OK)),
    # Staff accounts, roles and deactivation: clinic admins, on the clinic's own pages.
    "accounts:staff_list": (None, "get", ADMIN_ONLY),
    "accounts:staff_create": (None, "get", ADMIN_ONLY),
    "accounts:staff_edit": ("staff", "get", ADMIN_ONLY),
    "accounts:staff_two_factor_reset": ("staff", "post", row(LOGIN, FORBIDDEN, FORBIDDEN, FORBIDDEN, REDIRECT)),
    "accounts:password_change": (None, "get", ANY_SIGNED_IN),
    "homes:audit_log": (None, "get", ADMIN_ONLY),
    "homes:work_list": ("work_list", "get", STAFF_ONLY),
    "patients:list": (None, "get", STAFF_ONLY),
    "patients:create": (None, "get", STAFF_ONLY),
    "patients:my_record": (None, "get", row(LOGIN, REDIRECT, FORBIDDEN, FORBIDDEN, FORBIDDEN)),
    "homes:patient_chart": ("patient_a", "get", row(LOGIN, OK, OK, OK, OK)),
    "patients:edit": ("patient_a", "get", row(LOGIN, FORBIDDEN, OK, OK, OK)),
    "homes:patient_transition": ("patient_a", "post", row(LOGIN, FORBIDDEN, BAD, BAD, BAD)),
    "patients:invite": ("patient_a", "post", row(LOGIN, FORBIDDEN, REDIRECT, REDIRECT, REDIRECT)),
    "homes:patient_rems_enrollment": ("patient_a", "post", row(LOGIN, FORBIDDEN, BAD, BAD, BAD)),
    "sessions:portal_consent": (None, "get", PATIENT_ONLY),
    "sessions:portal_consent_accept": (
        "consent_document",
        "post",
        row(LOGIN, REDIRECT, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    ),
    "sessions:patient_consent": ("patient_fk", "get", STAFF_ONLY),
    "sessions:patient_consent_record": ("patient_fk", "post", row(LOGIN, FORBIDDEN, BAD, BAD, BAD)),
    "sessions:consent_scan": ("consent_scan", "get", STAFF_ONLY),
    "invite_accept": ("invite", "get", row(OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN)),
    "accounts:password_reset": (None, "get", row(OK, OK, OK, OK, OK)),
    "accounts:password_reset_done": (None, "get", row(OK, OK, OK, OK, OK)),
    "accounts:password_reset_confirm": ("reset_token", "get", row(OK, OK, OK, OK, OK)),
    "accounts:password_reset_complete": (None, "get", row(OK, OK, OK, OK, OK)),
    "screening:start": ("patient_fk", "post", row(LOGIN, FORBIDDEN, REDIRECT, REDIRECT, REDIRECT)),
    "screening:detail": ("screening", "get", row(LOGIN, FORBIDDEN, OK, OK, OK)),
    "screening:instrument": ("instrument", "get", row(LOGIN, FORBIDDEN, OK, OK, OK)),
    "screening:medical": ("screening", "get", row(LOGIN, FORBIDDEN, OK, OK, OK)),
    "screening:complete": ("screening", "post", row(LOGIN, FORBIDDEN, REDIRECT, REDIRECT, REDIRECT)),
    "screening:sign_off": ("screening", "post", row(LOGIN, FORBIDDEN, FORBIDDEN, BAD, FORBIDDEN)),
    "screening:alert_clear": ("alert", "get", row(LOGIN, FORBIDDEN, FORBIDDEN, OK, FORBIDDEN)),
    "screening:self_report": ("self_report", "get", row(LOGIN, OK, FORBIDDEN, FORBIDDEN, FORBIDDEN)),
    "homes:portal_schedule": (None, "get", PATIENT_ONLY),
    "sessions:portal_session": ("session", "get", PATIENT_ONLY),
    "sessions:portal_calendar": (None, "get", PATIENT_ONLY),
    "sessions:calendar_feed_create": (None, "post", row(LOGIN, REDIRECT, FORBIDDEN, FORBIDDEN, FORBIDDEN)),
    "sessions:calendar_feed_revoke": (None, "post", row(LOGIN, REDIRECT, FORBIDDEN, FORBIDDEN, FORBIDDEN)),
    # Calendar apps cannot sign in: the unguessable token in the address is the credential.
    "sessions:calendar_feed": ("feed_token", "get", row(OK, OK, OK, OK, OK)),
    "calendar_feed": ("feed_token", "get", row(OK, OK, OK, OK, OK)),
    "sessions:enroll": ("patient_fk", "get", row(LOGIN, FORBIDDEN, FORBIDDEN, OK, FORBIDDEN)),
    "sessions:plan_create": ("patient_fk", "get", row(LOGIN, FORBIDDEN, FORBIDDEN, OK, FORBIDDEN)),
    "sessions:plan_detail": ("plan", "get", row(LOGIN, FORBIDDEN, OK, OK, OK)),
    # The booster page shows the booster and its forecast; booking it posts to the same address.
    "sessions:booster_book": ("plan", "get", row(LOGIN, FORBIDDEN, FORBIDDEN, OK, FORBIDDEN)),
    "sessions:session_reschedule": ("session", "get", row(LOGIN, FORBIDDEN, OK, OK, OK)),
    # An empty cancellation POST (no reason, no say of who cancelled) is refused with the form again (400).
    "sessions:session_cancel": ("session", "post", row(LOGIN, FORBIDDEN, BAD, BAD, BAD)),
    "sessions:session_check_in": ("session", "post", row(LOGIN, FORBIDDEN, REDIRECT, REDIRECT, REDIRECT)),
    "sessions:session_check_in_undo": ("session", "post", row(LOGIN, FORBIDDEN, REDIRECT, REDIRECT, REDIRECT)),
    "sessions:session_no_show": ("session", "post", row(LOGIN, FORBIDDEN, REDIRECT, REDIRECT, REDIRECT)),
    "sessions:schedule": (None, "get", row(LOGIN, FORBIDDEN, OK, OK, OK)),
    # An empty dose is refused with the dose page again (400).
    "sessions:session_dose": ("session", "post", row(LOGIN, FORBIDDEN, FORBIDDEN, BAD, FORBIDDEN)),
    "sessions:rems_detail": ("rems_session", "get", row(LOGIN, FORBIDDEN, OK, OK, OK)),
    "sessions:rems_edit": ("rems_session", "get", row(LOGIN, FORBIDDEN, FORBIDDEN, OK, FORBIDDEN)),
    "sessions:rems_sign": ("rems_session", "post", row(LOGIN, FORBIDDEN, FORBIDDEN, REDIRECT, FORBIDDEN)),
    "sessions:rems_submit": ("rems_session", "post", row(LOGIN, FORBIDDEN, REDIRECT, REDIRECT, REDIRECT)),
    "sessions:rems_pdf": ("rems_session", "get", row(LOGIN, FORBIDDEN, OK, OK, OK)),
    "sessions:rems_pending": (None, "get", row(LOGIN, FORBIDDEN, OK, OK, OK)),
    "sessions:cs_lot_list": (None, "get", row(LOGIN, FORBIDDEN, FORBIDDEN, OK, OK)),
    "sessions:cs_receive": (None, "get", row(LOGIN, FORBIDDEN, FORBIDDEN, OK, OK)),
    "sessions:cs_lot_log": ("lot", "get", row(LOGIN, FORBIDDEN, FORBIDDEN, OK, OK)),
    "sessions:cs_reconcile": ("lot", "get", ADMIN_ONLY),
    "sessions:cs_dose_record": ("session", "get", row(LOGIN, FORBIDDEN, FORBIDDEN, OK, FORBIDDEN)),
    # The session record: every staff member who may see the patient reads it; clinicians and intake staff record,
    # clinicians alone dose, acknowledge a raised BP, discharge and sign. An empty POST is refused with the page (400).
    "sessions:record_detail": ("session", "get", row(LOGIN, FORBIDDEN, OK, OK, OK)),
    "sessions:record_check": ("session", "post", RECORDS),
    "sessions:record_bp_acknowledge": ("session", "post", CLINICIAN_RECORDS),
    "sessions:record_dose": ("session", "post", CLINICIAN_RECORDS),  # giving the drug is a clinician's act
    "sessions:record_risk_acknowledge": ("session", "post", CLINICIAN_RECORDS),
    "sessions:record_dosing_end": ("session", "post", RECORDS),
    "sessions:record_top_up": ("session", "post", CLINICIAN_RECORDS),
    "sessions:record_vitals": ("session", "post", RECORDS),
    "sessions:record_score": ("session", "post", RECORDS),
    "sessions:record_adverse_event": ("session", "post", RECORDS),
    "sessions:record_adverse_event_resolve": ("session", "post", RECORDS),
    "sessions:record_discharge": ("session", "post", CLINICIAN_RECORDS),
    "sessions:record_sign": ("session", "post", CLINICIAN_RECORDS),
    "sessions:record_amend": ("session", "post", RECORDS),
    # Aftercare: staff work on a patient's integration sessions and check-ins (integration notes by clinicians);
    # the patient fills their own check-ins. An empty cancellation POST is refused with the form (400).
    "aftercare:patient": ("patient_fk", "get", STAFF_ONLY),
    "aftercare:integration_book": ("patient_fk", "get", STAFF_ONLY),
    "aftercare:integration_reschedule": ("integration", "get", STAFF_ONLY),
    "aftercare:integration_cancel": ("integration", "post", row(LOGIN, FORBIDDEN, BAD, BAD, BAD)),
    "aftercare:integration_complete": ("integration", "get", row(LOGIN, FORBIDDEN, FORBIDDEN, OK, FORBIDDEN)),
    "aftercare:integration_no_show": ("integration", "post", row(LOGIN, FORBIDDEN, REDIRECT, REDIRECT, REDIRECT)),
    "aftercare:checkin_series_create": ("patient_fk", "get", STAFF_ONLY),
    "aftercare:checkin_series_cancel": ("patient_fk", "post", row(LOGIN, FORBIDDEN, REDIRECT, REDIRECT, REDIRECT)),
    "aftercare:checkin_detail": ("checkin", "get", STAFF_ONLY),
    "aftercare:checkin_cancel": ("checkin", "post", row(LOGIN, FORBIDDEN, REDIRECT, REDIRECT, REDIRECT)),
    "aftercare:portal_checkins": (None, "get", PATIENT_ONLY),
    "aftercare:portal_checkin_fill": ("checkin", "get", PATIENT_ONLY),
    "notifications:list": (None, "get", STAFF_ONLY),
    # Only a failed reminder is sent again; for this pending one staff are told so and sent back to the list.
    "notifications:resend": ("reminder", "post", row(LOGIN, FORBIDDEN, REDIRECT, REDIRECT, REDIRECT)),
    "notifications:alerts": (None, "get", STAFF_ONLY),
    # A clinical alert about patient A is for their clinician and admins; intake staff are not in its audience.
    "notifications:alert_acknowledge": ("staff_alert", "post", row(LOGIN, FORBIDDEN, NOT_FOUND, REDIRECT, REDIRECT)),
    # The patient's confirmation link: the signed token in the address is the credential, as for the calendar feed.
    "session_confirm": ("confirm_token", "get", row(OK, OK, OK, OK, OK)),
    # Prior authorizations: every staff member who may see the patient reads them; intake staff and admins work them.
    # An empty status POST is refused with the page (400).
    "billing:payer_list": (None, "get", STAFF_ONLY),
    "billing:authorization_list": (None, "get", STAFF_ONLY),
    "billing:patient_authorizations": ("patient_fk", "get", STAFF_ONLY),
    "billing:authorization_create": ("patient_fk", "get", row(LOGIN, FORBIDDEN, OK, FORBIDDEN, OK)),
    "billing:authorization_detail": ("authorization", "get", STAFF_ONLY),
    "billing:authorization_edit": ("authorization", "get", row(LOGIN, FORBIDDEN, OK, FORBIDDEN, OK)),
    "billing:authorization_transition": ("authorization", "post", row(LOGIN, FORBIDDEN, BAD, FORBIDDEN, BAD)),
    "billing:authorization_refresh": ("authorization", "post", row(LOGIN, FORBIDDEN, REDIRECT, FORBIDDEN, REDIRECT)),
    # Exports: intake staff download the patient list; clinicians and admins the clinical lists (clinicians for the
    # patients they may open) and the outcomes; admins the operations report. A patient's FHIR record: their
    # clinician and admins from the chart, the patient from the portal.
    "exports:index": (None, "get", STAFF_ONLY),
    "exports:patients": (None, "get", STAFF_ONLY),
    "exports:sessions": (None, "get", CLINICAL_STAFF),
    "exports:checkins": (None, "get", CLINICAL_STAFF),
    "exports:authorizations": (None, "get", CLINICAL_STAFF),
    "exports:outcomes": (None, "get", CLINICAL_STAFF),
    "exports:operations": (None, "get", ADMIN_ONLY),
    "exports:patient_sessions": ("patient_a", "get", CLINICAL_STAFF),
    "exports:patient_fhir": ("patient_a", "get", CLINICAL_STAFF),
    "exports:my_fhir": (None, "get", PATIENT_ONLY),
    # Reports: clinicians and admins. The treatment summary is for the patient's own clinician and admins; the audit
    # report for admins (an empty form is refused with the page, 400); each kind against each role: REPORT_KINDS. A
    # background report's page, progress and file are for the person who asked (here the admin), while they may still
    # produce it, and answer 404 to everyone else.
    "reports:index": (None, "get", row(LOGIN, FORBIDDEN, FORBIDDEN, OK, OK)),
    "reports:run": ("report_kind", "post", row(LOGIN, FORBIDDEN, FORBIDDEN, FORBIDDEN, BAD)),
    "reports:patient_summary": ("patient_a", "get", row(LOGIN, FORBIDDEN, FORBIDDEN, OK, OK)),
    "reports:patient_summary_page": ("patient_a", "get", row(LOGIN, FORBIDDEN, FORBIDDEN, OK, OK)),
    "reports:job": ("report_job", "get", row(LOGIN, FORBIDDEN, FORBIDDEN, NOT_FOUND, OK)),
    "reports:job_progress": ("report_job", "get", row(LOGIN, FORBIDDEN, FORBIDDEN, NOT_FOUND, OK)),
    "reports:job_download": ("report_job", "get", row(LOGIN, FORBIDDEN, FORBIDDEN, NOT_FOUND, OK)),
    # Coverage and pre-authorization requests: staff who may see the patient read them; intake staff and admins record
    # coverage, assemble, submit and send requests. An empty form POST is refused with the page (400); an empty
    # assemble or submit is sent back with a message.
    "billing:patient_coverage": ("patient_fk", "get", STAFF_ONLY),
    "billing:policy_create": ("patient_fk", "post", row(LOGIN, FORBIDDEN, BAD, FORBIDDEN, BAD)),
    "billing:self_pay": ("patient_fk", "post", row(LOGIN, FORBIDDEN, BAD, FORBIDDEN, BAD)),
    "billing:policy_edit": ("policy", "get", row(LOGIN, FORBIDDEN, OK, FORBIDDEN, OK)),
    "billing:preauth_assemble": ("patient_fk", "post", row(LOGIN, FORBIDDEN, REDIRECT, FORBIDDEN, REDIRECT)),
    "billing:authorization_submit": ("authorization", "post", row(LOGIN, FORBIDDEN, REDIRECT, FORBIDDEN, REDIRECT)),
    "billing:authorization_packet": ("authorization", "get", row(LOGIN, FORBIDDEN, OK, FORBIDDEN, OK)),
    "billing:preauth_work": (None, "get", STAFF_ONLY),
    "billing:preauth_work_done": ("work_item", "post", row(LOGIN, FORBIDDEN, REDIRECT, FORBIDDEN, REDIRECT)),
    "billing:fee_schedule": (None, "get", STAFF_ONLY),
    "billing:patient_billing": ("patient_fk", "get", STAFF_ONLY),
    "billing:invoice_create": ("patient_fk", "post", row(LOGIN, FORBIDDEN, REDIRECT, FORBIDDEN, REDIRECT)),
    "billing:sliding_scale": ("patient_fk", "post", row(LOGIN, FORBIDDEN, BAD, FORBIDDEN, BAD)),
    "billing:estimate_create": ("patient_fk", "post", row(LOGIN, FORBIDDEN, BAD, FORBIDDEN, BAD)),
    "billing:invoice_detail": ("invoice", "get", STAFF_ONLY),
    "billing:payment_create": ("invoice", "post", row(LOGIN, FORBIDDEN, BAD, FORBIDDEN, BAD)),
    "billing:adjustment_create": ("invoice", "post", row(LOGIN, FORBIDDEN, BAD, FORBIDDEN, BAD)),
    "billing:invoice_void": ("invoice", "post", row(LOGIN, FORBIDDEN, BAD, FORBIDDEN, BAD)),  # no reason: the form
    "billing:superbill": ("invoice", "get", STAFF_ONLY),
    # One superbill over a period, across invoices: intake staff and admins from the billing page (the period form
    # without dates), the patient for their own account in the portal.
    "billing:period_superbill": ("patient_fk", "get", row(LOGIN, FORBIDDEN, OK, FORBIDDEN, OK)),
    "billing:estimate_detail": ("estimate", "get", STAFF_ONLY),
    "billing:portal_billing": (None, "get", PATIENT_ONLY),
    "billing:portal_invoice": ("invoice", "get", PATIENT_ONLY),
    "billing:portal_superbill": ("invoice", "get", PATIENT_ONLY),
    "billing:portal_period_superbill": (None, "get", PATIENT_ONLY),
    "billing:portal_estimate": ("estimate", "get", PATIENT_ONLY),
}

# The Django admin site is the admins' back office: every one of its pages sends everyone else away.
ADMIN_SITE = row(REDIRECT, REDIRECT, REDIRECT, REDIRECT, OK)


def _all_url_names(patterns=None, namespace=""):
    names = set()
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            names |= _all_url_names(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.add(f"{namespace}{pattern.name}")
    return names


def test_every_url_is_in_the_matrix():
    names = {name for name in _all_url_names() if not name.startswith("admin:")}
    assert names - set(MATRIX) == set(), "add these URLs to the authorization matrix"
    assert set(MATRIX) - names == set(), "these matrix rows name URLs that no longer exist"


@pytest.fixture
def people(admin_user, clinician, front_desk, patient_user, patient):
    return {ADMIN: admin_user, CLINICIAN: clinician, INTAKE: front_desk, PATIENT: patient_user}


def _request(client, method, url):
    return client.post(url) if method == "post" else client.get(url)


def _check(response, expected, url):
    if expected == LOGIN:
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("accounts:login")), url
    elif expected == VERIFY:
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("accounts:two_factor_verify")), url
    else:
        assert response.status_code == expected, f"{url}: {response.status_code}"


def _objects(patient, front_desk, clinician, kind=None):
    from datetime import date, timedelta
    from decimal import Decimal

    from django.utils import timezone

    from screening.services import response_save, screening_start
    from sessions.calendar import calendar_feed_create
    from sessions.controlled.services import cs_lot_receive
    from sessions.models import ControlledProduct, Protocol, Room
    from sessions.rems.delivery import rems_form_start
    from sessions.scheduling.enrollment import enrollment_create
    from sessions.scheduling.planning import plan_create

    if kind == "staff":  # a staff account, no patient data
        return {"staff": clinician}
    if kind == "two_factor_reset_token":  # an admin's (here: another staff member's) reset link for the clinician
        return {"two_factor_reset_token": _reset_token(clinician, front_desk)}
    # Enrolled first: an open suicide-risk alert (the one below) refuses enrollment, override or not.
    enrollment_create(patient=patient, by=clinician, override_justification="Authorization matrix fixture patient.")
    patient.refresh_from_db()
    screening = screening_start(patient=patient, by=front_desk)
    response_save(screening=screening, code="phq9", answers=[0] * 8 + [1], complete=True, by=front_desk)
    room = Room.objects.create(name="Room A")
    plan = plan_create(
        patient=patient,
        protocol=Protocol.objects.get(route="iv"),
        first_day=timezone.localdate() + timedelta(days=1),
        start_time=None,
        room=room,
        clinician=clinician,
        planned_dose=Decimal("0.5"),
        by=clinician,
    )
    objects = {
        "feed_token": calendar_feed_create(patient=patient, by=patient.user)[1],
        "screening": screening,
        "alert": screening.risk_alerts.get(),
        "plan": plan,
        "session": plan.sessions.first(),
    }
    if kind == "rems_session":  # a Spravato series after the IV one, its first session with a draft REMS form
        rems_plan = plan_create(
            patient=patient,
            protocol=Protocol.objects.get(route="intranasal"),
            first_day=timezone.localdate() + timedelta(days=1),
            start_time=None,
            room=room,
            clinician=clinician,
            planned_dose=Decimal("56"),
            by=clinician,
        )
        objects["rems_session"] = rems_plan.sessions.order_by("starts_at").first()
        rems_form_start(session=objects["rems_session"], by=clinician)
    if kind == "consent_document":
        from sessions.models import ConsentDocument

        objects["consent_document"] = ConsentDocument.objects.get(route="iv", version=1)
    if kind == "consent_scan":
        from django.core.files.uploadedfile import SimpleUploadedFile

        from sessions.consent.services import consent_record_by_staff
        from sessions.models import ConsentDocument

        objects["consent_scan"] = consent_record_by_staff(
            patient=patient,
            document=ConsentDocument.objects.get(route="iv", version=1),
            scan=SimpleUploadedFile("signed.pdf", b"%PDF-1.4 matrix", content_type="application/pdf"),
            signed_on=timezone.localdate(),
            by=front_desk,
        )
    if kind == "reminder":
        from kap_clinic.kernel.notifications.planning import reminders_sync

        patient.email, patient.consents_to_email = "ada@example.org", True
        patient.save()
        import time_machine

        # Planned at midday: at night the clinic's quiet hours leave nothing due yet for tomorrow's session.
        with time_machine.travel(timezone.localtime().replace(hour=12, minute=0), tick=False):
            objects["reminder"] = reminders_sync(objects["session"])[0]
    if kind == "staff_alert":
        from kap_clinic.kernel.notifications.alerts import staff_alert_raise

        objects["staff_alert"] = staff_alert_raise(
            kind="relapse",
            key="matrix-alert",
            patient_id=patient.pk,
            clinician_id=patient.primary_clinician_id,
            summary="Relapse warning on a check-in.",
        )
    if kind == "authorization":
        from billing.models import Payer
        from billing.services import authorization_create

        objects["authorization"] = authorization_create(
            patient=patient,
            payer=Payer.objects.create(name="Matrix Health"),
            by=front_desk,
            starts_on=date(2027, 1, 4),
            ends_on=date(2027, 3, 31),
        )
    if kind in ("policy", "work_item"):
        from billing.models import InsurancePolicy, Payer, PreauthWorkItem
        from billing.services import authorization_create

        the_payer = Payer.objects.create(name="Matrix Health")
        objects["policy"] = InsurancePolicy.objects.create(
            patient=patient,
            payer=the_payer,
            member_id="M-1",
            subscriber_name="Ada Quill",
            effective_from=date(2026, 1, 1),
        )
        objects["work_item"] = PreauthWorkItem.objects.create(
            authorization=authorization_create(patient=patient, payer=the_payer, by=front_desk),
            kind="follow_up",
            key="matrix-follow-up",
            summary="Follow up with the payer.",
        )
    if kind == "invoice":  # a charge for the first session, invoiced
        from billing.ledger.invoices import invoice_create
        from billing.models import Charge

        Charge.objects.create(
            patient=patient,
            session=objects["session"],
            code="96365",
            description="IV infusion, first hour",
            service_date=timezone.localdate(),
            units=1,
            unit_price=Decimal("200.00"),
            list_amount=Decimal("200.00"),
            amount=Decimal("200.00"),
        )
        objects["invoice"] = invoice_create(patient=patient, by=front_desk)
    if kind == "estimate":
        from billing.ledger.estimate import estimate_give

        objects["estimate"] = estimate_give(plan=plan, by=front_desk)
    if kind == "integration":  # well clear of the dosing series booked above for the same clinician
        from datetime import datetime, time

        from aftercare.services import integration_session_book

        day = timezone.localdate() + timedelta(days=400)
        objects["integration"] = integration_session_book(
            patient=patient,
            clinician=clinician,
            modality="cbt",
            starts_at=timezone.make_aware(datetime.combine(day, time(7, 0))),
            by=clinician,
        )
    if kind == "checkin":
        from aftercare.models import CheckIn

        opens = timezone.now() - timedelta(hours=1)
        objects["checkin"] = CheckIn.objects.create(
            patient=patient,
            instruments=["phq9"],
            opens_at=opens,
            due_at=opens + timedelta(days=3),
            closes_at=opens + timedelta(days=10),
        )
    if kind == "report_job":  # an audit report of patient A, asked for by the admin and produced
        from kap_clinic.kernel.accounts.models import User
        from kap_clinic.reports.models import ReportJob
        from kap_clinic.reports.services import report_job_run

        job = ReportJob.objects.create(
            requested_by=User.objects.filter(role="admin").order_by("pk").first(),
            kind="audit",
            parameters={"patient": patient.pk, "format": "csv"},
            idempotency_key="matrix-report-job",
            expires_at=timezone.now() + timedelta(hours=1),
        )
        report_job_run(job_id=job.pk)
        objects["report_job"] = job
    if kind == "lot":
        product = ControlledProduct.objects.create(name="Ketamine", strength="ketamine HCl 50 mg/mL")
        objects["lot"] = cs_lot_receive(
            product=product, lot_number="AUTH1", expires_on=date(2099, 1, 1), quantity="500", by=clinician
        )
    return objects


def _kwargs(kind, patient, objects):
    if kind is None:
        return {}
    if kind == "work_list":
        return {"kind": "risk-alerts"}
    if kind == "feed_token":
        return {"token": objects["feed_token"]}
    if kind == "two_factor_reset_token":
        return {"token": objects[kind]}
    if kind == "reset_token":  # a link that does not work: the page says so
        return {"uidb64": "MQ", "token": "not-a-reset-token"}
    if kind == "confirm_token":
        from sessions.confirmation import confirm_token

        return {"token": confirm_token(objects["session"])}
    if kind == "patient_a":
        return {"pk": patient.pk}
    if kind == "patient_fk":
        return {"patient_pk": patient.pk}
    if kind == "self_report":
        return {"code": "phq9"}
    if kind == "report_kind":
        return {"kind": "audit"}
    if kind == "instrument":
        return {"pk": objects["screening"].pk, "code": "phq9"}
    return {"pk": objects[kind].pk}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("url_name", sorted(MATRIX))
def test_url_answers_each_role_as_the_matrix_says(client, people, patient, url_name, role):
    from patients.models import Patient

    kwargs_from, method, expected = MATRIX[url_name]
    if kwargs_from == "invite":
        from patients.services import invite_token, patient_invite

        other = Patient.objects.create(
            mrn="KAP-00000001", given_name="I", family_name="Nvite", date_of_birth="1990-01-01", email="i@example.org"
        )
        kwargs = {"token": invite_token(patient_invite(patient=other, by=people[INTAKE]))}
    elif kwargs_from in (None, "patient_a", "patient_fk", "self_report", "report_kind"):
        kwargs = _kwargs(kwargs_from, patient, {})
    elif kwargs_from == "two_factor_reset_token":
        kwargs = {"token": _reset_token(people[CLINICIAN], people[ADMIN])}
    elif kwargs_from == "staff":
        kwargs = {"pk": people[CLINICIAN].pk}
    else:
        kwargs = _kwargs(kwargs_from, patient, _objects(patient, people[INTAKE], people[CLINICIAN], kwargs_from))
    url = reverse(url_name, kwargs=kwargs)
    _sign_in_as(client, people, role)
    _check(_request(client, method, url), expected[role], url)


def _sign_in_as(client, people, role):
    if role == PASSWORD_ONLY:
        client.force_login(people[CLINICIAN])  # the password, not yet the code of the authenticator they have
    elif role != ANON:
        sign_in(client, people[role])


def _reset_token(user, admin_user):
    from kap_clinic.kernel.accounts.models import TwoFactorReset

    user.email = "clinician@example.org"
    user.save()
    token = "matrix-reset-token"
    TwoFactorReset.objects.create(
        user=user, token_hash=TwoFactorReset.hash_token(token), created_by=admin_user, expires_at="2999-01-01T00:00Z"
    )
    return token


def _admin_site_urls():
    urls = [reverse("admin:index")]
    for model in admin.site._registry:
        opts = model._meta
        urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    return urls


@pytest.mark.parametrize("role", ROLES)
def test_admin_site_is_for_admins_only(client, people, role):
    _sign_in_as(client, people, role)
    for url in _admin_site_urls():
        response = client.get(url)
        expected = ADMIN_SITE[role]
        if role == ADMIN:
            assert response.status_code in (OK, FORBIDDEN), url  # a model admins may not view answers 403
        elif role == PASSWORD_ONLY:
            _check(response, VERIFY, url)
        else:
            assert response.status_code == expected, url
            assert "login" in response["Location"], url


@pytest.mark.parametrize("role", [PATIENT, INTAKE, CLINICIAN])
def test_signed_in_users_outside_the_back_office_get_403_not_a_sign_in_loop(client, people, role):
    sign_in(client, people[role])
    response = client.get(reverse("admin:index"), follow=True)
    assert response.status_code == FORBIDDEN
    assert len(response.redirect_chain) == 1  # to the admin's sign-in address, which refuses instead of looping


def test_anonymous_visitors_of_the_back_office_sign_in_first(client, db):
    response = client.get(reverse("admin:index"), follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("accounts:login"))
    assert response.status_code == OK


# ---- Each kind of report, asked for with its form filled in ---------------------------------------------------------

# The treatment summary (of patient A) for their clinician and admins; the audit report and the operations report for
# admins; the clinic outcomes for clinicians (their own patients: see tests/reports/test_outcomes_access.py) and admins.
REPORT_KINDS = {
    "patient_summary": row(LOGIN, FORBIDDEN, FORBIDDEN, OK, OK),
    "audit": ADMIN_ONLY,
    "outcomes": CLINICAL_STAFF,
    "operations": ADMIN_ONLY,
}


def test_every_report_kind_is_in_the_matrix():
    from kap_clinic.reports.kinds import KINDS

    assert set(REPORT_KINDS) == set(KINDS)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("kind", sorted(REPORT_KINDS))
def test_each_report_kind_answers_each_role_as_the_matrix_says(client, people, patient, kind, role):
    period = {"start": "2026-03-01", "end": "2026-03-31"}
    data = {
        "patient_summary": {"patient": patient.mrn, "format": "pdf"},
        "audit": {"patient": patient.mrn, **period, "format": "csv"},
        "outcomes": {**period, "format": "csv"},
        "operations": {**period, "format": "csv"},
    }[kind]
    _sign_in_as(client, people, role)
    url = reverse("reports:run", kwargs={"kind": kind})
    _check(client.post(url, data), REPORT_KINDS[kind][role], url)


# ---- Exports of one patient's record: another's id answers 404, as a chart does ------------------------------------


@pytest.mark.parametrize("url_name", ["exports:patient_fhir", "exports:patient_sessions"])
def test_a_patient_export_of_another_clinicians_patient_is_not_found(client, clinician, other_patient, url_name):
    sign_in(client, clinician)
    assert client.get(reverse(url_name, kwargs={"pk": other_patient.pk})).status_code == NOT_FOUND


@pytest.mark.parametrize("url_name", ["exports:patient_fhir", "exports:patient_sessions"])
def test_a_patient_export_of_no_such_patient_is_not_found(client, admin_user, url_name):
    sign_in(client, admin_user)
    assert client.get(reverse(url_name, kwargs={"pk": 999_999})).status_code == NOT_FOUND


def test_the_portal_health_record_is_the_patients_own(client, patient_user, patient, other_patient):
    sign_in(client, patient_user)
    body = client.get(reverse("exports:my_fhir")).content.decode()
    assert patient.mrn in body and other_patient.mrn not in body
