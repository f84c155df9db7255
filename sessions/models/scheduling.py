import uuid
from datetime import timedelta
from decimal import Decimal

from auditlog.registry import auditlog
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from kap_clinic.rules import cadence
from kap_clinic.rules.safety import REMS_MIN_MONITORING_MINUTES
from patients.models import Patient
from patients.status import Status as PatientStatus


class Route(models.TextChoices):
    IV = "iv", "Intravenous (IV) ketamine"
    IM = "im", "Intramuscular (IM) ketamine"
    INTRANASAL = "intranasal", "Intranasal esketamine"
    SUBLINGUAL = "sublingual", "Sublingual / buccal ketamine"
    ORAL = "oral", "Oral ketamine"


# What the dose time means for each route, as the session record labels it: monitoring counts from this moment.
DOSE_TIME_LABELS = {
    Route.IV: "Infusion start",
    Route.IM: "Injection time",
    Route.INTRANASAL: "First device",
    Route.SUBLINGUAL: "Dose taken",
    Route.ORAL: "Dose taken",
}


class Protocol(models.Model):
    """A treatment protocol as data, edited by admins: route, dose range, cadence, monitoring and preparation."""

    class DoseUnit(models.TextChoices):
        MG_PER_KG = "mg_per_kg", "mg/kg"
        MG = "mg", "mg (fixed)"

    name = models.CharField(max_length=120, unique=True)
    route = models.CharField(max_length=12, choices=Route.choices)
    dose_unit = models.CharField(max_length=10, choices=DoseUnit.choices)
    dose_min = models.DecimalField(max_digits=7, decimal_places=3, validators=[MinValueValidator(Decimal("0.001"))])
    dose_max = models.DecimalField(max_digits=7, decimal_places=3)
    default_dose = models.DecimalField(max_digits=7, decimal_places=3)
    min_interval_hours = models.PositiveSmallIntegerField(
        "Minimum hours between doses", default=48, validators=[MinValueValidator(1)]
    )
    session_minutes = models.PositiveSmallIntegerField(
        "Chair time (minutes)", default=120, validators=[MinValueValidator(15), MaxValueValidator(600)]
    )
    monitoring_minutes = models.PositiveSmallIntegerField(
        "Minimum post-dose monitoring (minutes)", default=60, validators=[MinValueValidator(0)]
    )
    preferred_weekdays = models.JSONField(
        default=list, blank=True, help_text="Weekday numbers (0 = Monday) the series prefers, e.g. [0, 2, 4]."
    )
    # At least 1 day: 0 would put the booster on the dosing day (refused, not replaced by a default).
    booster_interval_days = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(365)]
    )
    booster_policy = models.TextField(blank=True)
    preparation_instructions = models.TextField(
        blank=True, help_text="What the patient does before each session (shown in the portal and reminders)."
    )
    requires_rems = models.BooleanField("Spravato REMS monitoring form", default=False)
    # The induction lengths a clinician may choose when planning; empty for a protocol without an induction phase.
    # Seeded from kap_clinic.rules.cadence.induction_bounds; the induction phase's own count lies between them.
    induction_min_sessions = models.PositiveSmallIntegerField(
        "Fewest induction sessions",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text="The shortest induction a clinician may plan with this protocol.",
    )
    induction_max_sessions = models.PositiveSmallIntegerField(
        "Most induction sessions",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text="The longest induction a clinician may plan with this protocol.",
    )
    source = models.CharField(max_length=300, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["route", "name"]
        constraints = [
            models.CheckConstraint(
                name="protocol_dose_range_ordered",
                condition=Q(dose_min__gt=0, dose_min__lte=F("default_dose"), default_dose__lte=F("dose_max")),
            ),
            # Spravato: at least 2 hours' observation (label; REMS Patient Monitoring Form). No setting lowers it.
            models.CheckConstraint(
                name="rems_protocol_monitors_two_hours",
                condition=Q(requires_rems=False) | Q(monitoring_minutes__gte=REMS_MIN_MONITORING_MINUTES),
            ),
            models.CheckConstraint(
                name="protocol_induction_bounds_ordered",
                condition=Q(induction_min_sessions__isnull=True, induction_max_sessions__isnull=True)
                | Q(
                    induction_max_sessions__isnull=False,
                    induction_min_sessions__gte=1,
                    induction_min_sessions__lte=F("induction_max_sessions"),
                ),
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        low, high = self.induction_min_sessions, self.induction_max_sessions
        if (low is None) != (high is None):
            raise ValidationError("Give both the fewest and the most induction sessions, or neither.")
        if low is not None and low > high:
            raise ValidationError(
                {"induction_max_sessions": "The most induction sessions cannot be fewer than the fewest."}
            )
        if self.requires_rems and (self.monitoring_minutes or 0) < REMS_MIN_MONITORING_MINUTES:
            raise ValidationError(
                {
                    "monitoring_minutes": "A Spravato REMS protocol monitors for at least "
                    f"{REMS_MIN_MONITORING_MINUTES} minutes after the dose (label and REMS): no protocol may set less."
                }
            )

    @property
    def dose_is_weight_based(self) -> bool:
        return self.dose_unit == self.DoseUnit.MG_PER_KG

    @property
    def min_interval(self) -> timedelta:
        return timedelta(hours=self.min_interval_hours)

    def induction_bounds(self) -> tuple[int, int] | None:
        """The induction lengths a clinician may choose: the protocol's own, else the cadence rule's default."""
        if self.induction_min_sessions is not None and self.induction_max_sessions is not None:
            return (self.induction_min_sessions, self.induction_max_sessions)
        try:
            return cadence.induction_bounds(self.cadence_rule())
        except ValueError:  # a cadence that cannot be planned offers no choice
            return None

    def cadence_rule(self) -> cadence.CadenceRule:
        phases = tuple(
            cadence.Phase(
                name=p.name, sessions=p.sessions, per_week=p.per_week, weeks=p.weeks, every_weeks=p.every_weeks
            )
            for p in self.phases.all()
        )
        return cadence.CadenceRule(
            route=cadence.Route(self.route),
            phases=phases,
            min_interval_hours=self.min_interval_hours,
            session_minutes=self.session_minutes,
            preferred_weekdays=tuple(self.preferred_weekdays or ()),
        )


class ProtocolPhase(models.Model):
    """One phase of a protocol's planned series (induction, maintenance), in order."""

    protocol = models.ForeignKey(Protocol, on_delete=models.CASCADE, related_name="phases")
    order = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=40)
    sessions = models.PositiveSmallIntegerField(null=True, blank=True, validators=[MaxValueValidator(60)])
    per_week = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(1), MaxValueValidator(3)])
    weeks = models.PositiveSmallIntegerField(null=True, blank=True, validators=[MaxValueValidator(52)])
    every_weeks = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(1), MaxValueValidator(8)])

    class Meta:
        ordering = ["protocol", "order"]
        constraints = [
            models.UniqueConstraint(fields=["protocol", "order"], name="protocol_phase_order_unique"),
            models.CheckConstraint(
                name="protocol_phase_has_length", condition=Q(sessions__isnull=False) | Q(weeks__isnull=False)
            ),
        ]

    def __str__(self):
        return f"{self.protocol} · {self.name}"


class Room(models.Model):
    """A treatment room or chair: one patient at a time."""

    name = models.CharField(max_length=60, unique=True)
    is_active = models.BooleanField(default=True)
    notes = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class ClinicHours(models.Model):
    """The clinic's opening hours per weekday; a weekday without a row is closed."""

    weekday = models.PositiveSmallIntegerField(
        unique=True,
        choices=[
            (i, d) for i, d in enumerate(("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"))
        ],
    )
    opens = models.TimeField()
    closes = models.TimeField()

    class Meta:
        ordering = ["weekday"]
        verbose_name_plural = "clinic hours"
        constraints = [models.CheckConstraint(name="clinic_hours_ordered", condition=Q(opens__lt=F("closes")))]

    def __str__(self):
        return f"{self.get_weekday_display()} {self.opens:%H:%M}-{self.closes:%H:%M}"


class ClinicClosure(models.Model):
    day = models.DateField(unique=True)
    reason = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["day"]

    def __str__(self):
        return f"closed {self.day}"


class ClinicianHours(models.Model):
    """When a clinician works, per weekday; a clinician with no rows works the clinic's hours."""

    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="working_hours",
        limit_choices_to={"role": "clinician"},
    )
    weekday = models.PositiveSmallIntegerField(choices=ClinicHours._meta.get_field("weekday").choices)
    starts = models.TimeField()
    ends = models.TimeField()

    class Meta:
        ordering = ["clinician", "weekday"]
        verbose_name_plural = "clinician hours"
        constraints = [
            models.UniqueConstraint(fields=["clinician", "weekday"], name="clinician_hours_one_per_day"),
            models.CheckConstraint(name="clinician_hours_ordered", condition=Q(starts__lt=F("ends"))),
        ]

    def __str__(self):
        return f"hours #{self.pk}"


class TreatmentPlan(models.Model):
    """A planned dosing series for an enrolled patient under one protocol; its sessions are rows of their own."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="treatment_plans")
    enrollment = models.ForeignKey("treatment_sessions.Enrollment", on_delete=models.PROTECT, related_name="plans")
    protocol = models.ForeignKey(Protocol, on_delete=models.PROTECT, related_name="plans")
    planned_dose = models.DecimalField(max_digits=7, decimal_places=3)  # the usual dose; each session carries its own
    # A clinician's written reason for per-session doses outside the label's dose rules (Spravato,
    # docs/clinical-references.md#spravato).
    dose_override_reason = models.TextField(blank=True)
    dose_override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    first_day = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"plan #{self.pk}"

    @property
    def offers_booster(self) -> bool:
        """A booster is offered once the induction series is over, never while an induction session is still ahead."""
        if self.patient.status == PatientStatus.INDUCTION:
            return False
        return not self.sessions.filter(phase="induction", status__in=DosingSession.UPCOMING_STATUSES).exists()

    def get_additional_data(self):
        return {"patient_id": self.patient_id}


class DosingSessionQuerySet(models.QuerySet):
    """Sessions by the status groups on `DosingSession`, and by time."""

    def active(self):
        return self.filter(status__in=DosingSession.ACTIVE_STATUSES)

    def treated(self):
        return self.filter(status__in=DosingSession.TREATED_STATUSES)

    def upcoming(self):
        return self.filter(status__in=DosingSession.UPCOMING_STATUSES)

    def overlapping(self, starts_at, ends_at):
        """Sessions whose booked time overlaps [starts_at, ends_at)."""
        return self.filter(starts_at__lt=ends_at, ends_at__gt=starts_at)


class DosingSession(models.Model):
    """One dosing session: a booking of a room and a clinician for a patient, and later its clinical record.

    No two active sessions share a room, a clinician or a patient at the same time, and no two of a patient's
    doses fall within the protocol's minimum interval (`dose_window_ends_at`): checked by the service and, on
    PostgreSQL, enforced by exclusion constraints (migration 0003).
    """

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        CHECKED_IN = "checked_in", "Checked in"
        IN_PROGRESS = "in_progress", "In progress"
        COMPLETED = "completed", "Completed"
        NO_SHOW = "no_show", "No-show"
        CANCELLED = "cancelled", "Cancelled"

    # The status groups, named once here and used everywhere (also by `DosingSessionQuerySet`).
    # Active: the session holds its room, clinician and patient (as the database's exclusion constraints do).
    ACTIVE_STATUSES = (Status.SCHEDULED, Status.CHECKED_IN, Status.IN_PROGRESS, Status.COMPLETED)
    # Treated: the patient arrived (checked in or later), so the session used an authorized unit and owes its forms.
    TREATED_STATUSES = (Status.CHECKED_IN, Status.IN_PROGRESS, Status.COMPLETED)
    # Upcoming: still ahead of the patient or under way.
    UPCOMING_STATUSES = (Status.SCHEDULED, Status.CHECKED_IN, Status.IN_PROGRESS)
    # Open for dosing: booked or checked in, not yet dosed; such a session may still be moved, cancelled or re-dosed.
    OPEN_FOR_DOSING_STATUSES = (Status.SCHEDULED, Status.CHECKED_IN)
    # Closed: the session did not take place.
    CLOSED_STATUSES = (Status.CANCELLED, Status.NO_SHOW)

    class Kind(models.TextChoices):
        SERIES = "series", "Planned series"
        BOOSTER = "booster", "Booster"

    class CancelledBy(models.TextChoices):
        PATIENT = "patient", "The patient cancelled"
        CLINIC = "clinic", "The clinic cancelled"

    plan = models.ForeignKey(TreatmentPlan, on_delete=models.PROTECT, related_name="sessions")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="dosing_sessions")
    protocol = models.ForeignKey(Protocol, on_delete=models.PROTECT, related_name="+")
    sequence = models.PositiveSmallIntegerField()
    phase = models.CharField(max_length=40)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.SERIES)
    # The dose planned for this session, in the protocol's unit (Spravato: 56 mg first, then 56 or 84 mg).
    planned_dose = models.DecimalField(max_digits=7, decimal_places=3)
    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="sessions")
    clinician = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="dosing_sessions")
    starts_at = models.DateTimeField(db_index=True)
    ends_at = models.DateTimeField()
    dose_window_ends_at = models.DateTimeField(editable=False)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SCHEDULED, db_index=True)
    status_reason = models.CharField(max_length=200, blank=True)
    # Who cancelled a cancelled session (set exactly when it is cancelled): only the patient's own late cancellation
    # costs them the clinic's late-cancellation fee.
    cancelled_by = models.CharField(max_length=8, choices=CancelledBy.choices, null=True, blank=True)
    planner_notes = models.JSONField(default=list, blank=True)
    calendar_sequence = models.PositiveIntegerField(default=0, editable=False)
    # The start the patient said, from the reminder's link, they can't attend: the front desk calls them. A moved
    # session no longer matches it (the rule is `sessions.attendance.CANNOT_ATTEND`).
    cannot_attend_start = models.DateTimeField(null=True, blank=True, editable=False)
    # The event's UID in the patient's calendar feed: random, so it tells nothing (not the row id, not the host),
    # and stable for the life of the booking.
    calendar_uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DosingSessionQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at", "pk"]
        indexes = [
            models.Index(fields=["room", "starts_at"], name="session_room_start_idx"),
            models.Index(fields=["clinician", "starts_at"], name="session_clinician_start_idx"),
            models.Index(fields=["patient", "starts_at"], name="session_patient_start_idx"),
        ]
        constraints = [
            models.CheckConstraint(name="session_ends_after_start", condition=Q(ends_at__gt=F("starts_at"))),
            models.CheckConstraint(
                name="session_dose_window_after_start", condition=Q(dose_window_ends_at__gt=F("starts_at"))
            ),
            models.UniqueConstraint(fields=["plan", "sequence"], name="session_sequence_unique_in_plan"),
            models.CheckConstraint(
                name="session_cancelled_by_when_cancelled",
                condition=Q(status="cancelled", cancelled_by__in=["patient", "clinic"])
                | (~Q(status="cancelled") & Q(cancelled_by__isnull=True)),
            ),
        ]

    def __str__(self):
        return self.name_of(self.pk)

    def save(self, *args, **kwargs):
        if self.planned_dose is None and self.plan_id is not None:
            self.planned_dose = self.plan.planned_dose  # a session booked on its own takes its plan's usual dose
        super().save(*args, **kwargs)

    @staticmethod
    def name_of(pk: int) -> str:
        """A booking's name in the audit log and the back office, from its id alone (a list that reads plain values
        names the bookings it shows without building them)."""
        return f"session #{pk}"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE_STATUSES

    @property
    def status_text(self) -> str:
        """The status as staff read it: a cancellation says who cancelled ("Cancelled by the patient")."""
        if self.status == self.Status.CANCELLED and self.cancelled_by:
            return f"Cancelled by the {self.cancelled_by}"
        return self.get_status_display()

    def get_additional_data(self):
        return {"patient_id": self.patient_id}


auditlog.register(Protocol)
auditlog.register(TreatmentPlan)
auditlog.register(DosingSession, exclude_fields=["updated_at", "calendar_sequence"])
