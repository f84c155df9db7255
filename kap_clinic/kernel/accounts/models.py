import hashlib

from auditlog.registry import auditlog
from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone

from kap_clinic.kernel.clinic.models import ClinicSettings

from .roles import ROLE_MARKERS, ROLE_PERMISSION, ROLE_PERMISSIONS, STAFF_ROLES, TWO_FACTOR_ROLES, Role


class User(AbstractUser):
    """A person who signs in: clinic staff in one of the staff roles, or a patient."""

    role = models.CharField(max_length=16, choices=Role.choices, default=Role.PATIENT)

    class Meta:
        db_table = "accounts_user"
        permissions = [
            ("role_admin", "Works as a clinic admin"),
            ("role_clinician", "Works as a clinician"),
            ("role_intake", "Works as intake staff"),
            ("role_patient", "Uses the patient portal"),
            ("clinic_staff", "Works in the clinic's staff pages"),
            ("manage_staff", "Manages staff accounts, roles, deactivation and two-factor resets"),
        ]

    def __str__(self):
        return f"user #{self.pk}"

    def save(self, *args, **kwargs):
        # The Django admin site is the admins' back office; nobody else gets in.
        if self.is_superuser:
            self.role = Role.ADMIN
        self.is_staff = self.role == Role.ADMIN
        super().save(*args, **kwargs)

    def has_perm(self, perm, obj=None):
        if perm in ROLE_MARKERS:
            # The role's own permissions (roles.py), answered from the map the role groups are written from, without
            # a query on every page. A superuser works in the clinic's pages as the admin they are, not as every role.
            return self.is_active and perm in ROLE_PERMISSIONS[self.role]
        if obj is None and self.is_active and perm in ROLE_PERMISSIONS[self.role]:
            return True  # the role's group holds it (the same map): no query for a link or a button on a page
        return super().has_perm(perm, obj)

    @property
    def is_clinic_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def requires_two_factor(self) -> bool:
        if self.role in TWO_FACTOR_ROLES:
            return True
        if self.role == Role.INTAKE:
            return ClinicSettings.load().require_2fa_for_intake
        return False

    def has_role(self, *roles: str) -> bool:
        """Whether the user works in one of these roles: their group holds the role's permission (roles.py)."""
        return self.is_authenticated and self.is_active and any(self.has_perm(ROLE_PERMISSION[r]) for r in roles)


class TwoFactorReset(models.Model):
    """An admin's one-time, expiring permission for a staff member to replace a lost authenticator.

    The link is emailed to the staff member; it works only in a session signed in with their own password,
    once, before `expires_at`. Only a hash of the token is stored.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="two_factor_resets")
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"two-factor reset #{self.pk}"

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @property
    def is_open(self) -> bool:
        return self.used_at is None and self.expires_at > timezone.now()


auditlog.register(TwoFactorReset, exclude_fields=["token_hash"])
