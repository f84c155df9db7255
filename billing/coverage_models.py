"""Coverage and pre-authorization paperwork: each patient's insurance policies (or self-pay), the request packets sent
to payers, the work staff do by hand (send by fax or portal, follow up, ask for a renewal), and the written overrides
of the authorization hard stop at booking."""

from auditlog.registry import auditlog
from django.conf import settings
from django.db import models
from django.db.models import F, Q

from patients.models import Patient

__all__ = [
    "AuthorizationOverride",
    "InsurancePolicy",
    "PreauthSubmission",
    "PreauthWorkItem",
    "SelfPay",
    "ChannelTestReceipt",
]


class InsurancePolicy(models.Model):
    """One insurance policy of a patient. At most one active primary policy per patient (the database says so)."""

    class Rank(models.TextChoices):
        PRIMARY = "primary", "Primary"
        SECONDARY = "secondary", "Secondary"

    class Relationship(models.TextChoices):
        SELF = "self", "Self"
        SPOUSE = "spouse", "Spouse or partner"
        CHILD = "child", "Child"
        OTHER = "other", "Other"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="insurance_policies")
    payer = models.ForeignKey("billing.Payer", on_delete=models.PROTECT, related_name="policies")
    plan_name = models.CharField("Plan", max_length=120, blank=True)
    member_id = models.CharField("Member ID", max_length=40)
    group_id = models.CharField("Group number", max_length=40, blank=True)
    subscriber_name = models.CharField("Subscriber", max_length=120)
    subscriber_relationship = models.CharField(
        "Patient's relationship to the subscriber", max_length=10, choices=Relationship.choices, default="self"
    )
    effective_from = models.DateField("Effective from")
    effective_to = models.DateField("Effective to", null=True, blank=True)
    rank = models.CharField(max_length=10, choices=Rank.choices, default=Rank.PRIMARY)
    is_active = models.BooleanField(default=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-is_active", "rank", "-effective_from", "pk"]
        verbose_name_plural = "insurance policies"
        constraints = [
            models.UniqueConstraint(
                fields=["patient"], condition=Q(rank="primary", is_active=True), name="policy_one_active_primary"
            ),
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True) | Q(effective_from__lte=F("effective_to")),
                name="policy_dates_ordered",
            ),
            models.CheckConstraint(condition=Q(rank__in=["primary", "secondary"]), name="policy_rank_known"),
        ]

    def __str__(self):
        return f"insurance policy #{self.pk}"

    def get_additional_data(self):
        return {"patient_id": self.patient_id}


class SelfPay(models.Model):
    """The patient pays for themselves: recorded so "no policy on file" and "self-pay" are not confused."""

    patient = models.OneToOneField(Patient, on_delete=models.PROTECT, related_name="self_pay")
    since = models.DateField()
    note = models.CharField(max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"self-pay #{self.pk}"

    def get_additional_data(self):
        return {"patient_id": self.patient_id}


class PreauthSubmission(models.Model):
    """One sending of a request packet to its payer, written in the submitting transaction and handed to the payer's
    channel by a worker at most once: the unique key is the idempotency key, the row is claimed with a conditional
    UPDATE, and a broker that is down only delays it (the beat sweep queues pending rows again)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        SENDING = "sending", "Being sent"
        SENT = "sent", "Handed to the channel"
        FAILED = "failed", "Failed"

    authorization = models.ForeignKey(
        "billing.PriorAuthorization", on_delete=models.PROTECT, related_name="submissions"
    )
    key = models.CharField(max_length=80, unique=True)
    channel = models.CharField(max_length=20)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_try_at = models.DateTimeField(db_index=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    status_reason = models.CharField(max_length=300, blank=True)
    packet = models.BinaryField(blank=True, default=b"", editable=False)
    packet_sha256 = models.CharField(max_length=64, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="sent") | Q(sent_at__isnull=False), name="preauth_submission_sent_has_time"
            ),
        ]

    def __str__(self):
        return f"pre-authorization submission #{self.pk}"

    def get_additional_data(self):
        return {"authorization_id": self.authorization_id}


class PreauthWorkItem(models.Model):
    """Something staff do by hand for a request: send it by fax or payer portal, follow it up, ask for a renewal.
    The key makes each one once only (one follow-up per period, one renewal per last day)."""

    class Kind(models.TextChoices):
        SEND = "send", "Send by fax or payer portal"
        FOLLOW_UP = "follow_up", "Follow up with the payer"
        RENEWAL = "renewal", "Request a renewal"

    authorization = models.ForeignKey("billing.PriorAuthorization", on_delete=models.PROTECT, related_name="work_items")
    submission = models.ForeignKey(
        PreauthSubmission, null=True, blank=True, on_delete=models.PROTECT, related_name="work_items"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    key = models.CharField(max_length=80, unique=True)
    summary = models.CharField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    done_note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["done_at", "created_at", "pk"]
        # The work list reads open items oldest first: a page is a short walk of this index however much is done.
        indexes = [
            models.Index(fields=["created_at", "id"], condition=Q(done_at__isnull=True), name="preauth_work_open_idx")
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(done_at__isnull=True, done_by__isnull=True)
                | Q(done_at__isnull=False, done_by__isnull=False),
                name="preauth_work_done_has_who",
            ),
        ]

    def __str__(self):
        return f"pre-authorization work item #{self.pk}"

    def get_additional_data(self):
        return {"authorization_id": self.authorization_id}


class ChannelTestReceipt(models.Model):
    """What the test channel received: one row per submission key (a second hand-over is refused by the database)."""

    key = models.CharField(max_length=80, unique=True)
    authorization_id = models.PositiveIntegerField()
    payer_name = models.CharField(max_length=120)
    pages = models.PositiveSmallIntegerField()
    packet_sha256 = models.CharField(max_length=64)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-pk"]

    def __str__(self):
        return f"test channel receipt #{self.pk}"


class AuthorizationOverride(models.Model):
    """A written reason to book sessions the patient's authorization does not cover, past the clinic's hard stop."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="authorization_overrides")
    authorization = models.ForeignKey(
        "billing.PriorAuthorization", null=True, blank=True, on_delete=models.PROTECT, related_name="overrides"
    )
    reason = models.TextField()
    problems = models.JSONField(default=list)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-pk"]
        constraints = [models.CheckConstraint(condition=~Q(reason=""), name="authorization_override_has_reason")]

    def __str__(self):
        return f"authorization override #{self.pk}"

    def get_additional_data(self):
        return {"patient_id": self.patient_id}


auditlog.register(InsurancePolicy, exclude_fields=["updated_at"])
auditlog.register(SelfPay)
auditlog.register(PreauthSubmission, exclude_fields=["packet"])
auditlog.register(PreauthWorkItem)
auditlog.register(AuthorizationOverride)
