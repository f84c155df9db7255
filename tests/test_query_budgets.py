"""Every page that lists things costs the same number of queries with 10 rows as with 1,000.

One clinic is grown in bulk (patients, their sessions on one day and across years, reminders, check-ins, alerts,
authorizations and the work on them, audit entries, Spravato sessions owing a REMS form, controlled-substance lots
and a lot's ledger, staff, payers, and the patient's policies, charges, invoices and estimates) from 10 rows of each
to 1,000, and each listing page of the authorization matrix is asked for before and after: the second answer may not
take more queries than the first.
"""

from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from aftercare.models import CheckIn
from billing.models import (
    Charge,
    GoodFaithEstimate,
    InsurancePolicy,
    Invoice,
    Payer,
    PreauthWorkItem,
    PriorAuthorization,
)
from kap_clinic.homes.selectors import HOME_TODAY_LIMIT
from kap_clinic.kernel.accounts.models import User
from kap_clinic.kernel.accounts.roles import Role
from kap_clinic.kernel.notifications.models import Reminder, ReminderRule, StaffAlert
from kap_clinic.reports.models import ReportJob
from patients.models import Patient
from sessions.models import (
    ControlledProduct,
    CSLogEntry,
    DosingSession,
    Enrollment,
    ProductLot,
    Protocol,
    Room,
    TreatmentPlan,
)
from tests.sessions.test_portal import book_plan

pytestmark = pytest.mark.django_db

SMALL, LARGE = 10, 1000
DAY_AHEAD = 40  # the schedule's day: the bulk patients' sessions all fall on it


class Clinic:
    """The fixtures' clinic, and `grow_to(n)`: n rows in every list, added with bulk inserts."""

    def __init__(self, patient, clinician, plan):
        self.patient, self.clinician, self.plan = patient, clinician, plan
        self.rows = 0
        self.day = timezone.localdate() + timedelta(days=DAY_AHEAD)
        self.now = timezone.now().replace(microsecond=0)
        self.last = plan.sessions.order_by("-starts_at").first()
        self.payer = Payer.objects.create(name="Bulk Health", payer_code="BULK1")
        self.session_rule = ReminderRule.objects.filter(event="dosing_session").first()
        self.spravato = Protocol.objects.get(route="intranasal")
        self.product = ControlledProduct.objects.create(name="Ketamine", strength="ketamine HCl 50 mg/mL")
        self.lot = self._lots(["BULK-LOT"])[0]

    def _lots(self, numbers: list[str]) -> list[ProductLot]:
        lots = ProductLot.objects.bulk_create(
            ProductLot(
                product=self.product,
                lot_number=number,
                expires_on=self.day + timedelta(days=365),
                received_mg=Decimal("100000"),
                received_at=self.now - timedelta(days=400),
                received_by=self.clinician,
            )
            for number in numbers
        )
        CSLogEntry.objects.bulk_create(
            CSLogEntry(lot=lot, kind="received", amount_mg=lot.received_mg, at=lot.received_at, by=self.clinician)
            for lot in lots
        )
        return lots

    def grow_to(self, n: int) -> None:
        first, self.rows = self.rows, n
        today = timezone.localdate()
        indexes = range(first, n)
        tz = timezone.get_current_timezone()
        patients = Patient.objects.bulk_create(
            Patient(
                mrn=f"KQ-{i:06}",
                given_name=f"Given{i}",
                family_name=f"Bulk{i}",
                family_name_key=f"bulk{i}",
                date_of_birth=self.patient.date_of_birth,
                status="induction",
                primary_clinician=self.clinician,
            )
            for i in indexes
        )
        # One session each on the schedule's day, each with a room and a clinician of its own.
        clinicians = User.objects.bulk_create(
            User(username=f"bulk-clinician-{i}", role=Role.CLINICIAN, last_name=f"Bulk{i}") for i in indexes
        )
        rooms = Room.objects.bulk_create(Room(name=f"Bulk room {i}") for i in indexes)
        enrollments = Enrollment.objects.bulk_create(
            Enrollment(patient=p, enrolled_by=self.clinician, override_justification="Bulk") for p in patients
        )
        protocol = self.last.protocol
        plans = TreatmentPlan.objects.bulk_create(
            TreatmentPlan(
                patient=p,
                enrollment=e,
                protocol=protocol,
                planned_dose=protocol.default_dose,
                first_day=self.day,
                created_by=self.clinician,
            )
            for p, e in zip(patients, enrollments, strict=True)
        )
        starts = datetime.combine(self.day, time(10), tz)
        day_sessions = [
            DosingSession(
                plan=plan,
                patient=p,
                protocol=protocol,
                sequence=1,
                phase="induction",
                planned_dose=plan.planned_dose,
                room=room,
                clinician=clinician,
                starts_at=starts,
                ends_at=starts + timedelta(hours=2),
                dose_window_ends_at=starts + timedelta(hours=2),
            )
            for p, plan, room, clinician in zip(patients, plans, rooms, clinicians, strict=True)
        ]
        # The patient's own plan grows over the years.
        last = self.last
        series = [
            DosingSession(
                plan=self.plan,
                patient=self.patient,
                protocol=protocol,
                sequence=last.sequence + i + 1,
                phase="Maintenance",
                kind="booster",
                planned_dose=last.planned_dose,
                room=last.room,
                clinician=self.clinician,
                starts_at=last.starts_at + timedelta(days=7 * (i + 1)),
                ends_at=last.ends_at + timedelta(days=7 * (i + 1)),
                dose_window_ends_at=last.dose_window_ends_at + timedelta(days=7 * (i + 1)),
            )
            for i in indexes
        ]
        # A Spravato session each, treated in the last weeks, its REMS form not yet submitted (some overdue).
        rems_sessions = [
            DosingSession(
                plan=plan,
                patient=p,
                protocol=self.spravato,
                sequence=2,
                phase="induction",
                planned_dose=Decimal("56"),
                room=room,
                clinician=clinician,
                starts_at=datetime.combine(self.day - timedelta(days=DAY_AHEAD + 1 + i % 20), time(10), tz),
                ends_at=datetime.combine(self.day - timedelta(days=DAY_AHEAD + 1 + i % 20), time(12), tz),
                dose_window_ends_at=datetime.combine(self.day - timedelta(days=DAY_AHEAD + 1 + i % 20), time(12), tz),
                status=DosingSession.Status.COMPLETED,
            )
            for i, p, plan, room, clinician in zip(indexes, patients, plans, rooms, clinicians, strict=True)
        ]
        DosingSession.objects.bulk_create(day_sessions + series + rems_sessions)
        # Controlled substances: a lot each, and a draw for each day session on the one lot whose ledger is read.
        self._lots([f"BULK-{i}" for i in indexes])
        CSLogEntry.objects.bulk_create(
            CSLogEntry(lot=self.lot, kind="drawn", amount_mg=Decimal("1"), session=s, at=self.now, by=self.clinician)
            for s in day_sessions
        )
        Payer.objects.bulk_create(Payer(name=f"Bulk payer {i}", payer_code=f"BP{i}") for i in indexes)
        # The patient's account: a charge for each session of the series, every other one on an invoice of its own.
        invoices = Invoice.objects.bulk_create(
            Invoice(
                patient=self.patient,
                number=f"BQ{i:06}",
                issued_on=self.day,
                total_charged=Decimal("200.00"),
                balance=Decimal("200.00"),
                created_by=self.clinician,
            )
            for i in indexes
        )
        Charge.objects.bulk_create(
            Charge(
                patient=self.patient,
                session=session,
                code="96365",
                description="IV infusion, first hour",
                service_date=self.day,
                units=1,
                unit_price=Decimal("200.00"),
                list_amount=Decimal("200.00"),
                amount=Decimal("200.00"),
                invoice=invoice if i % 2 else None,
            )
            for i, session, invoice in zip(indexes, series, invoices, strict=True)
        )
        InsurancePolicy.objects.bulk_create(
            InsurancePolicy(
                patient=self.patient,
                payer=self.payer,
                member_id=f"M{i}",
                subscriber_name="Ada Quill",
                effective_from=today - timedelta(days=1000 + i),
                effective_to=today - timedelta(days=1 + i),
                is_active=False,
            )
            for i in indexes
        )
        # A few good-faith estimates for the plan (one per grow), each compared with what was billed.
        GoodFaithEstimate.objects.bulk_create(
            GoodFaithEstimate(
                patient=self.patient,
                plan=self.plan,
                total=Decimal("900.00"),
                scheduled_on=today,
                first_service_on=today,
                due_by=today + timedelta(days=3),
                given_at=self.now,
                given_by=self.clinician,
            )
            for _ in range(1 if first == 0 else 3)
        )
        Reminder.objects.bulk_create(
            Reminder(
                session=last,
                patient=self.patient,
                rule=self.session_rule,
                channel="email",
                scheduled_for=self.now + timedelta(hours=i - LARGE // 2),
                next_try_at=self.now + timedelta(hours=i - LARGE // 2),
                event_at=last.starts_at,
                status="sent" if i < LARGE // 2 else "pending",
                sent_at=self.now if i < LARGE // 2 else None,
            )
            for i in indexes
        )
        CheckIn.objects.bulk_create(
            CheckIn(
                patient=self.patient,
                instruments=["phq9"],
                opens_at=self.now - timedelta(days=3 * i + 10),
                due_at=self.now - timedelta(days=3 * i + 9),
                closes_at=self.now - timedelta(days=3 * i + 8),
                status="missed",
            )
            for i in indexes
        )
        StaffAlert.objects.bulk_create(
            StaffAlert(
                kind=StaffAlert.Kind.RELAPSE,
                audience=StaffAlert.Audience.CLINICAL,
                key=f"bulk-{i}",
                patient=p,
                summary="PHQ-9 up since the last session",
            )
            for i, p in zip(indexes, patients, strict=True)
        )
        authorizations = PriorAuthorization.objects.bulk_create(
            PriorAuthorization(
                patient=self.patient if i % 2 else p,
                payer=self.payer,
                reference=f"B{i}",
                codes=["G2082"],
                units_authorized=10,
                starts_on=today - timedelta(days=30),
                ends_on=today + timedelta(days=60 + i % 100),
                status=PriorAuthorization.Status.APPROVED,
            )
            for i, p in zip(indexes, patients, strict=True)
        )
        PreauthWorkItem.objects.bulk_create(
            PreauthWorkItem(authorization=a, kind="follow_up", key=f"bulk-{i}", summary="Follow up with the payer.")
            for i, a in zip(indexes, authorizations, strict=True)
        )
        patient_type = ContentType.objects.get_for_model(Patient)
        LogEntry.objects.bulk_create(
            LogEntry(
                content_type=patient_type,
                object_pk=str(self.patient.pk),
                object_id=self.patient.pk,
                object_repr=str(self.patient),
                action=LogEntry.Action.ACCESS,
                actor=self.clinician,
                additional_data={"patient_id": self.patient.pk},
            )
            for _ in indexes
        )
        # The clinician's background reports: treatment summaries of the bulk patients, every other one no longer
        # theirs (the reports page lists only those they may still open).
        ReportJob.objects.bulk_create(
            ReportJob(
                requested_by=self.clinician,
                kind="patient_summary",
                parameters={"patient": p.pk, "format": "pdf"},
                idempotency_key=f"bulk-{i}",
                expires_at=self.now + timedelta(hours=1),
            )
            for i, p in zip(indexes, patients, strict=True)
        )
        Patient.objects.filter(pk__in=[p.pk for i, p in zip(indexes, patients, strict=True) if i % 2]).update(
            primary_clinician=clinicians[0]
        )

    def bring_day_sessions_near(self) -> None:
        """The schedule's day's sessions moved to today and tomorrow (every other one), at the hour they had, so the
        homes' lists of today's arrivals and tomorrow's unconfirmed sessions grow with the clinic."""
        start = timezone.make_aware(datetime.combine(self.day, time.min))
        ids = list(
            DosingSession.objects.filter(starts_at__gte=start, starts_at__lt=start + timedelta(days=1))
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        for days, moved in ((DAY_AHEAD, ids[::2]), (DAY_AHEAD - 1, ids[1::2])):
            back = timedelta(days=days)
            DosingSession.objects.filter(pk__in=moved).update(
                starts_at=F("starts_at") - back,
                ends_at=F("ends_at") - back,
                dose_window_ends_at=F("dose_window_ends_at") - back,
            )


@pytest.fixture
def clinic(patient, clinician):
    return Clinic(patient, clinician, book_plan(patient, clinician))


# (who asks, url name, url kwargs from the clinic, query string)
PAGES = {
    "clinician home": ("clinician", "homes:home", None, ""),
    "intake home": ("front_desk", "homes:home", None, ""),
    "admin home": ("admin_user", "homes:home", None, ""),
    "portal home": ("patient_user", "homes:home", None, ""),
    "portal schedule": ("patient_user", "homes:portal_schedule", None, ""),
    "portal check-ins": ("patient_user", "aftercare:portal_checkins", None, ""),
    "day schedule": ("front_desk", "sessions:schedule", None, "day={day}"),
    "day schedule, a later page": ("front_desk", "sessions:schedule", None, "day={day}&page=2"),
    "week schedule": ("front_desk", "sessions:schedule", None, "day={day}&span=week"),
    "patient chart": ("clinician", "homes:patient_chart", "patient", ""),
    "treatment plan": ("clinician", "sessions:plan_detail", "plan", ""),
    "aftercare page": ("clinician", "aftercare:patient", "patient_fk", ""),
    "patient list": ("front_desk", "patients:list", None, ""),
    "reminders": ("front_desk", "notifications:list", None, ""),
    "alerts": ("clinician", "notifications:alerts", None, ""),
    "audit log": ("admin_user", "homes:audit_log", None, ""),
    "audit log by patient": ("admin_user", "homes:audit_log", None, "patient={mrn}"),
    "REMS forms pending": ("clinician", "sessions:rems_pending", None, ""),
    "authorizations": ("front_desk", "billing:authorization_list", None, ""),
    "patient's authorizations": ("front_desk", "billing:patient_authorizations", "patient_fk", ""),
    "staff": ("admin_user", "accounts:staff_list", None, ""),
    "work list: open risk alerts": ("clinician", "homes:work_list", "risk-alerts", ""),
    "work list: sign-off": ("clinician", "homes:work_list", "sign-off", ""),
    "work list: in progress": ("front_desk", "homes:work_list", "in-progress", ""),
    "work list: my patients": ("clinician", "homes:work_list", "my-patients", ""),
    "work list: unassigned": ("clinician", "homes:work_list", "unassigned", ""),
    "work list: overdue check-ins": ("clinician", "homes:work_list", "overdue-checkins", ""),
    "work list: new referrals": ("front_desk", "homes:work_list", "new-referrals", ""),
    "controlled-substance lots": ("clinician", "sessions:cs_lot_list", None, ""),
    "a lot's ledger": ("clinician", "sessions:cs_lot_log", "lot", ""),
    "payers": ("front_desk", "billing:payer_list", None, ""),
    "pre-authorization work": ("front_desk", "billing:preauth_work", None, ""),
    "patient's coverage": ("front_desk", "billing:patient_coverage", "patient_fk", ""),
    "patient's billing": ("front_desk", "billing:patient_billing", "patient_fk", ""),
    "patient's billing, later pages": (
        "front_desk",
        "billing:patient_billing",
        "patient_fk",
        "charges_page=2&invoices_page=2",
    ),
    "portal billing": ("patient_user", "billing:portal_billing", None, ""),
    "reports page": ("clinician", "reports:index", None, ""),
}


def _url(clinic: Clinic, name: str, kwargs: str | None, query: str) -> str:
    args = {
        None: None,
        "patient": {"pk": clinic.patient.pk},
        "patient_fk": {"patient_pk": clinic.patient.pk},
        "plan": {"pk": clinic.plan.pk},
        "lot": {"pk": clinic.lot.pk},
    }.get(kwargs, {"kind": kwargs})
    url = reverse(name, kwargs=args)
    if query:
        url += "?" + query.format(day=clinic.day.isoformat(), mrn=clinic.patient.mrn)
    return url


def statements(captured) -> int:
    """Queries run, an audit log bulk insert counting once: SQLite splits one into batches of its parameter limit
    (PostgreSQL sends one statement however many patients a page names)."""
    count, previous = 0, ""
    for query in captured:
        sql = query["sql"]
        if not (sql.startswith('INSERT INTO "auditlog_logentry"') and previous.startswith(sql[:40])):
            count += 1
        previous = sql
    return count


@pytest.mark.parametrize("page", PAGES)
def test_a_page_costs_as_many_queries_with_1000_rows_as_with_10(
    page, clinic, request, client_for, django_assert_max_num_queries
):
    who, name, kwargs, query = PAGES[page]
    client = client_for(request.getfixturevalue(who))
    url = _url(clinic, name, kwargs, query)
    clinic.grow_to(SMALL)
    assert client.get(url).status_code == 200  # warm the per-process caches
    with django_assert_max_num_queries(200) as few:
        assert client.get(url).status_code == 200
    clinic.grow_to(LARGE)
    with django_assert_max_num_queries(200) as many:
        assert client.get(url).status_code == 200
    assert statements(many.captured_queries) <= statements(few.captured_queries)


# The work homes' own budgets: statements per request (the audit insert counting once), with the sign-in checks and the
# request's savepoint and its release. (The admin's home is held to the same count at 10 and 1,000 rows above.)
HOME_BUDGETS = {"clinician home": 15, "intake home": 12}


@pytest.mark.parametrize("page", HOME_BUDGETS)
def test_a_home_keeps_its_budget_and_its_bounds_with_1000_sessions_today_and_tomorrow(
    page, clinic, request, client_for, django_assert_max_num_queries
):
    who, name, kwargs, query = PAGES[page]
    client = client_for(request.getfixturevalue(who))
    url = _url(clinic, name, kwargs, query)
    for rows in (SMALL, LARGE):
        clinic.grow_to(rows)
        clinic.bring_day_sessions_near()
        assert client.get(url).status_code == 200  # warm the per-process caches
        with django_assert_max_num_queries(200) as queries:
            body = client.get(url).content.decode()
        sql = [query["sql"][:80] for query in queries.captured_queries]
        assert statements(queries.captured_queries) <= HOME_BUDGETS[page], sql
        if page == "intake home":  # the front desk sees every clinician's sessions: each list stops at its bound
            today = body.split('data-testid="today"', 1)[1].split("</table>", 1)[0]
            tomorrow = body.split('data-testid="unconfirmed-tomorrow"', 1)[1].split("</table>", 1)[0]
            for table in (today, tomorrow):
                shown = table.count("<tr>") - 1  # the header's row aside
                assert shown >= min(rows // 2, HOME_TODAY_LIMIT) and shown <= HOME_TODAY_LIMIT
            assert 'data-testid="more-today"' in body and 'data-testid="more-unconfirmed"' in body or rows == SMALL
