"""Grow the demo clinic into a large one for `make bench`: N patients with years of history, in bulk inserts.

Per patient: an enrollment and a treatment plan, ten dosing sessions a week apart (past ones completed, some
cancelled or missed; the rest booked), seven check-ins, about 25 reminders and 18 audit entries; the charges of each
completed session, all but the newest one or two on invoices of up to four sessions (the older half paid), and an
insurance policy (in force for the one in three with a prior authorization; one such request in ten has
pre-authorization work open). Twenty clinicians (the demo clinician among them) each have a room; a day holds at most
four sessions per clinician, so a larger clinic has a longer history rather than fuller days. Runs after `seed_demo`;
running it again with the same or a smaller N adds nothing, and a larger N is refused (build it in a new
database). Refuses to run with DEBUG on unless told --allow-debug
(it is for a scratch database).
"""

import time as clock
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from auditlog.models import LogEntry
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from aftercare.models import CheckIn
from billing.ledger.charges import charge_lines
from billing.ledger.fees import fee_lookup
from billing.models import (
    Charge,
    InsurancePolicy,
    Invoice,
    Payer,
    Payment,
    PreauthWorkItem,
    PriorAuthorization,
)
from kap_clinic.kernel.accounts.models import User
from kap_clinic.kernel.accounts.roles import Role
from kap_clinic.kernel.notifications.models import Reminder, ReminderRule
from patients.models import Patient
from sessions.models import DosingSession, Enrollment, Protocol, Room, TreatmentPlan

LANES = 20  # clinicians, each with a room of their own
SLOTS = (time(8, 0), time(10, 0), time(12, 0), time(14, 0))  # a session and its monitoring fit in two hours
SESSIONS = 10
CHECKINS = 7
AUDIT_ENTRIES = 18
INVOICE_SESSIONS = 4  # completed sessions per invoice
BATCH = 5000
MRN_PREFIX = "KB"


class Command(BaseCommand):
    help = "Add N bulk patients with sessions, check-ins, reminders and audit entries (for the load benchmark)."

    def add_arguments(self, parser):
        parser.add_argument("--patients", type=int, required=True, help="How many bulk patients the clinic holds.")
        parser.add_argument("--allow-debug", action="store_true", help="Run even though DEBUG is on.")

    def handle(self, *args, patients: int, allow_debug=False, **options):
        if settings.DEBUG and not allow_debug:
            raise CommandError("DEBUG is on: this is for a scratch production-configured database (--allow-debug).")
        have = Patient.objects.filter(mrn__startswith=MRN_PREFIX).count()
        if have >= patients:
            self.stdout.write(f"{have} bulk patients already there; nothing added.")
            return
        if have:
            # The layout (which day and room each session takes) is worked out for the whole clinic at once, so a
            # grown clinic would book new sessions into cells the first ones hold.
            raise CommandError(f"This database holds a bench clinic of {have} patients: build {patients} in a new one.")
        started = clock.monotonic()
        with transaction.atomic():
            BulkClinic(self.stdout).grow(first=have, count=patients - have)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # Fresh planner statistics, as autovacuum would give a live clinic.
                for model in (
                    Patient,
                    Enrollment,
                    TreatmentPlan,
                    DosingSession,
                    CheckIn,
                    Reminder,
                    LogEntry,
                    PriorAuthorization,
                    PreauthWorkItem,
                    InsurancePolicy,
                    Charge,
                    Invoice,
                    Payment,
                ):
                    cursor.execute(f'ANALYZE "{model._meta.db_table}"')
        self.stdout.write(f"{patients - have} patients added in {clock.monotonic() - started:.0f} s.")


class BulkClinic:
    def __init__(self, stdout):
        self.stdout = stdout
        self.tz = ZoneInfo(settings.TIME_ZONE)
        self.now = timezone.now()
        self.protocol = Protocol.objects.filter(requires_rems=False, is_active=True).order_by("pk").first()
        self.clinicians = self._clinicians()
        self.rooms = self._rooms()
        self.session_rules = list(
            ReminderRule.objects.filter(event=ReminderRule.Event.DOSING_SESSION, is_active=True).order_by("pk")
        )
        self.checkin_rules = list(
            ReminderRule.objects.filter(event=ReminderRule.Event.CHECKIN_OPENS, is_active=True).order_by("pk")
        )
        self.payer = Payer.objects.order_by("pk").first()
        self.types = ContentType.objects.get_for_models(Patient, DosingSession, CheckIn, TreatmentPlan)
        # The demo clinician's own demo sessions: bulk sessions never overlap them.
        self.busy = [
            (s.starts_at, s.ends_at)
            for s in DosingSession.objects.filter(
                clinician=self.clinicians[0], status__in=DosingSession.ACTIVE_STATUSES
            )
        ]

    def _clinicians(self) -> list[User]:
        lanes = [User.objects.get(username="clinician")]
        for n in range(1, LANES):
            user, _ = User.objects.get_or_create(
                username=f"bench-clinician-{n:02}",
                defaults={"role": Role.CLINICIAN, "first_name": "Bench", "last_name": f"Clinician {n:02}"},
            )
            lanes.append(user)
        return lanes

    def _rooms(self) -> list[Room]:
        return [Room.objects.get_or_create(name=f"Bench room {n:02}")[0] for n in range(LANES)]

    def _step(self, label: str, started: float) -> float:
        self.stdout.write(f"  {label}: {clock.monotonic() - started:.1f} s")
        return clock.monotonic()

    def _cell_start(self, index: int, sequence: int, first_day: date) -> tuple[int, datetime]:
        """Lane and start of a patient's n-th session: each (day, slot, lane) cell holds one session.

        A generation fills every cell of one weekday for ten weeks; seven generations fill a block of ten weeks.
        The blocks run newest first from the last patient, so the one block short of seven generations (and the one
        generation short of a full day) is the oldest: every day around today is as full at 1,000 patients as at
        10,000, and the pages about today show the same rows at every size."""
        cell = index % (LANES * len(SLOTS))
        generation = index // (LANES * len(SLOTS))
        block = self.blocks - 1 - generation // 7
        day = first_day + timedelta(days=block * 70 + generation % 7 + 7 * sequence)
        lane, slot = cell % LANES, cell // LANES
        return lane, datetime.combine(day, SLOTS[slot], self.tz)

    def grow(self, *, first: int, count: int) -> None:
        total = first + count
        generations = -(-total // (LANES * len(SLOTS)))
        self.blocks = -(-generations // 7)
        span = self.blocks * 7 * SESSIONS
        # Most of the history is past; the newest block's sessions run on for some weeks.
        first_day = timezone.localdate() - timedelta(days=int(span * 0.85))
        indexes = range(first, total)
        t = clock.monotonic()

        patients = Patient.objects.bulk_create(
            [
                Patient(
                    mrn=f"{MRN_PREFIX}-{i:07}",
                    given_name=f"Given{i}",
                    family_name=f"Family{i % 4999}",
                    family_name_key=f"family{i % 4999}",
                    date_of_birth=date(1950, 1, 1) + timedelta(days=(i * 37) % 20000),
                    email=f"bench{i}@patients.invalid",
                    consents_to_email=True,
                    status="induction",
                    primary_clinician=self.clinicians[self._cell_start(i, 0, first_day)[0]],
                )
                for i in indexes
            ],
            batch_size=BATCH,
        )
        t = self._step("patients", t)
        clinician = self.clinicians[0]
        enrollments = Enrollment.objects.bulk_create(
            [Enrollment(patient=p, enrolled_by=clinician, override_justification="Bench clinic") for p in patients],
            batch_size=BATCH,
        )
        plans = TreatmentPlan.objects.bulk_create(
            [
                TreatmentPlan(
                    patient=p,
                    enrollment=e,
                    protocol=self.protocol,
                    planned_dose=self.protocol.default_dose,
                    first_day=self._cell_start(i, 0, first_day)[1].date(),
                    created_by=clinician,
                )
                for i, p, e in zip(indexes, patients, enrollments, strict=True)
            ],
            batch_size=BATCH,
        )
        t = self._step("enrollments and plans", t)

        minutes = min(self.protocol.session_minutes + self.protocol.monitoring_minutes, 110)
        interval = timedelta(hours=min(self.protocol.min_interval_hours, 24 * 6))
        sessions, upcoming = [], set()
        for i, patient, plan in zip(indexes, patients, plans, strict=True):
            for n in range(SESSIONS):
                lane, starts = self._cell_start(i, n, first_day)
                ends = starts + timedelta(minutes=minutes)
                if lane == 0 and any(s < ends and starts < e for s, e in self.busy):
                    continue
                if starts > self.now:
                    status = DosingSession.Status.SCHEDULED
                    upcoming.add(patient.pk)
                elif (i + n) % 23 == 0:
                    status = DosingSession.Status.CANCELLED
                elif (i + n) % 29 == 0:
                    status = DosingSession.Status.NO_SHOW
                else:
                    status = DosingSession.Status.COMPLETED
                sessions.append(
                    DosingSession(
                        plan=plan,
                        patient=patient,
                        protocol=self.protocol,
                        sequence=n + 1,
                        phase="induction" if n < 6 else "maintenance",
                        planned_dose=plan.planned_dose,
                        room=self.rooms[lane],
                        clinician=self.clinicians[lane],
                        starts_at=starts,
                        ends_at=ends,
                        dose_window_ends_at=starts + interval,
                        status=status,
                        cancelled_by="patient" if status == DosingSession.Status.CANCELLED else None,
                    )
                )
        sessions = DosingSession.objects.bulk_create(sessions, batch_size=BATCH)
        done = [p.pk for p in patients if p.pk not in upcoming]
        Patient.objects.filter(pk__in=done).update(status="maintenance")
        TreatmentPlan.objects.filter(patient_id__in=done).update(status=TreatmentPlan.Status.COMPLETED)
        t = self._step(f"{len(sessions)} dosing sessions", t)

        checkins = []
        by_patient: dict[int, list[DosingSession]] = {}
        for s in sessions:
            by_patient.setdefault(s.patient_id, []).append(s)
        for patient in patients:
            for n, s in enumerate(by_patient.get(patient.pk, [])[:CHECKINS]):
                opens = s.starts_at + timedelta(days=2)
                closes = opens + timedelta(days=4)
                if closes < self.now:
                    status = CheckIn.Status.MISSED if n % 5 == 4 else CheckIn.Status.COMPLETED
                else:
                    status = CheckIn.Status.OPEN
                checkins.append(
                    CheckIn(
                        patient=patient,
                        instruments=["phq9", "gad7"],
                        opens_at=opens,
                        due_at=opens + timedelta(days=2),
                        closes_at=closes,
                        status=status,
                        completed_at=opens + timedelta(hours=5) if status == CheckIn.Status.COMPLETED else None,
                        created_by=s.clinician,
                    )
                )
        checkins = CheckIn.objects.bulk_create(checkins, batch_size=BATCH)
        t = self._step(f"{len(checkins)} check-ins", t)

        self._reminders(sessions, checkins)
        t = self._step("reminders", t)
        self._authorizations(patients)
        self._audit(patients, sessions)
        t = self._step("authorizations and audit entries", t)
        self._billing(patients, sessions)
        self._step("policies, charges and invoices", t)

    def _reminder(self, *, patient_id, rule, event_at, **target) -> Reminder:
        scheduled = event_at - timedelta(minutes=rule.offset_minutes)
        sent = scheduled <= self.now
        return Reminder(
            patient_id=patient_id,
            rule=rule,
            channel="email",
            scheduled_for=scheduled,
            event_at=event_at,
            next_try_at=scheduled,
            status=Reminder.Status.SENT if sent else Reminder.Status.PENDING,
            sent_at=scheduled if sent else None,
            attempts=1 if sent else 0,
            recipient=f"bench{patient_id}@patients.invalid",
            **target,
        )

    def _reminders(self, sessions, checkins) -> None:
        rows = []
        for s in sessions:
            # Two per session and one per check-in for its first five: about 25 per patient.
            for rule in self.session_rules[:2]:
                rows.append(self._reminder(patient_id=s.patient_id, rule=rule, event_at=s.starts_at, session=s))
        seen: dict[int, int] = {}
        for c in checkins:
            seen[c.patient_id] = seen.get(c.patient_id, 0) + 1
            if seen[c.patient_id] <= 5:
                for rule in self.checkin_rules[:1]:
                    rows.append(self._reminder(patient_id=c.patient_id, rule=rule, event_at=c.opens_at, checkin=c))
        Reminder.objects.bulk_create(rows, batch_size=BATCH)
        self.stdout.write(f"  {len(rows)} reminders")

    def _authorizations(self, patients) -> None:
        if self.payer is None:
            return
        today = timezone.localdate()
        authorizations = PriorAuthorization.objects.bulk_create(
            [
                PriorAuthorization(
                    patient=p,
                    payer=self.payer,
                    reference=f"BA{p.pk}",
                    codes=["G2082"],
                    units_authorized=12,
                    starts_on=today - timedelta(days=200 - n % 150),
                    ends_on=today + timedelta(days=n % 200),
                    status=PriorAuthorization.Status.APPROVED,
                )
                for n, p in enumerate(patients[::3])
            ],
            batch_size=BATCH,
        )
        # Pre-authorization work: one request in ten waits for a follow-up with the payer.
        PreauthWorkItem.objects.bulk_create(
            [
                PreauthWorkItem(
                    authorization=a,
                    kind=PreauthWorkItem.Kind.FOLLOW_UP,
                    key=f"bench-follow-up-{a.pk}",
                    summary=f"Follow up with {self.payer.name}.",
                )
                for a in authorizations[::10]
            ],
            batch_size=BATCH,
        )

    def _billing(self, patients, sessions) -> None:
        """Insurance policies, the charges of every completed session, and invoices for most of them."""
        today = timezone.localdate()
        if self.payer is not None:
            InsurancePolicy.objects.bulk_create(
                [
                    InsurancePolicy(
                        patient=p,
                        payer=self.payer,
                        member_id=f"BM{p.pk}",
                        subscriber_name=f"Given{n} Family",
                        effective_from=today - timedelta(days=400),
                        # The one in three with a prior authorization is insured now; the others' policy ran out.
                        effective_to=None if n % 3 == 0 else today - timedelta(days=30),
                        is_active=n % 3 == 0,
                    )
                    for n, p in enumerate(patients)
                ],
                batch_size=BATCH,
            )
        prices = self._prices()
        by_patient: dict[int, list[DosingSession]] = {}
        for s in sessions:
            if s.status == DosingSession.Status.COMPLETED:
                by_patient.setdefault(s.patient_id, []).append(s)
        clinician = self.clinicians[0]
        invoices, charges, paid = [], [], []
        for patient in patients:
            done = by_patient.get(patient.pk, [])
            # The newest completed session or two are charged and not yet invoiced.
            billed = len(done) - min(len(done), 1 + patient.pk % 2)
            for k, s in enumerate(done):
                invoice = None
                if k < billed and k % INVOICE_SESSIONS == 0:
                    invoice = Invoice(
                        patient=patient,
                        number=f"B{patient.pk}-{k // INVOICE_SESSIONS + 1}",
                        issued_on=min(
                            timezone.localtime(s.starts_at).date() + timedelta(days=7 * INVOICE_SESSIONS), today
                        ),
                        created_by=clinician,
                    )
                    invoices.append(invoice)
                    paid.append(k < billed // 2)
                elif k < billed:
                    invoice = invoices[-1]
                for code, units, fee in prices:
                    amount = (fee.price * units).quantize(Decimal("0.01"))
                    charges.append(
                        Charge(
                            patient=patient,
                            session=s,
                            code=code,
                            description=fee.description,
                            service_date=timezone.localtime(s.starts_at).date(),
                            units=units,
                            unit_price=fee.price,
                            list_amount=amount,
                            amount=amount,
                            invoice=invoice,
                        )
                    )
                    if invoice is not None:
                        invoice.total_charged += amount
        for invoice, was_paid in zip(invoices, paid, strict=True):
            invoice.total_paid = invoice.total_charged if was_paid else Decimal("0.00")
            invoice.balance = invoice.total_charged - invoice.total_paid
            invoice.status = Invoice.Status.PAID if was_paid else Invoice.Status.OPEN
        invoices = Invoice.objects.bulk_create(invoices, batch_size=BATCH)
        Charge.objects.bulk_create(charges, batch_size=BATCH)
        Payment.objects.bulk_create(
            [
                Payment(
                    invoice=invoice,
                    amount=invoice.total_paid,
                    method=Payment.Method.CARD,
                    received_on=invoice.issued_on + timedelta(days=10),
                    recorded_by=clinician,
                )
                for invoice in invoices
                if invoice.total_paid
            ],
            batch_size=BATCH,
        )
        self.stdout.write(f"  {len(charges)} charges on {len(invoices)} invoices")

    def _prices(self) -> list[tuple[str, Decimal, object]]:
        """(code, units, fee) for a completed session of the bench protocol, from the clinic's fee schedule."""
        lines = charge_lines(
            route=self.protocol.route,
            dose_mg=self.protocol.default_dose,
            infusion_minutes=self.protocol.session_minutes,
        )
        prices = []
        for line in lines:
            fee = fee_lookup(line.code, route=self.protocol.route)
            if fee is not None:
                prices.append((line.code, line.units, fee))
        return prices

    def _audit(self, patients, sessions) -> None:
        staff = [u.pk for u in self.clinicians] + list(
            User.objects.filter(username__in=["intake", "admin"]).values_list("pk", flat=True)
        )
        by_patient: dict[int, list[DosingSession]] = {}
        for s in sessions:
            by_patient.setdefault(s.patient_id, []).append(s)
        rows = []
        for patient in patients:
            mine = by_patient.get(patient.pk, [])
            for n in range(AUDIT_ENTRIES):
                if n < 2 or not mine:
                    ct, pk, when = self.types[Patient], patient.pk, patient.created_at
                    action = LogEntry.Action.CREATE if n == 0 else LogEntry.Action.UPDATE
                    when = min(mine[0].starts_at - timedelta(days=3), self.now) if mine else self.now
                else:
                    s = mine[n % len(mine)]
                    ct, pk, when = self.types[DosingSession], s.pk, min(s.starts_at, self.now)
                    action = LogEntry.Action.ACCESS if n % 3 else LogEntry.Action.UPDATE
                    when = when - timedelta(minutes=n)
                rows.append(
                    LogEntry(
                        content_type=ct,
                        object_pk=str(pk),
                        object_id=pk,
                        object_repr=str(pk),
                        action=action,
                        changes={} if action == LogEntry.Action.ACCESS else {"status": ["scheduled", "completed"]},
                        actor_id=staff[(patient.pk + n) % len(staff)],
                        remote_addr="127.0.0.1",
                        timestamp=when.astimezone(UTC),
                        additional_data={"patient_id": patient.pk},
                    )
                )
        LogEntry.objects.bulk_create(rows, batch_size=BATCH)
        self.stdout.write(f"  {len(rows)} audit entries")
