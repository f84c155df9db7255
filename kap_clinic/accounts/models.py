from django.contrib.auth.models import AbstractUser
from django.db import models

from .roles import STAFF_ROLES, TWO_FACTOR_ROLES, Role


class User(AbstractUser):
    """A person who signs in: clinic staff in one of the staff roles, or a patient."""

    role = models.CharField(max_length=16, choices=Role.choices, default=Role.PATIENT)

    class Meta:
        db_table = "accounts_user"

    def __str__(self):
        return f"user #{self.pk}"

    def save(self, *args, **kwargs):
        # The Django admin site is the admins' back office; nobody else gets in.
        if self.is_superuser:
            self.role = Role.ADMIN
        self.is_staff = self.role == Role.ADMIN
        super().save(*args, **kwargs)

    @property
    def is_clinic_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def requires_two_factor(self) -> bool:
        if self.role in TWO_FACTOR_ROLES:
            return True
        if self.role == Role.INTAKE:
            from kap_clinic.clinic.models import ClinicSettings

            return ClinicSettings.load().require_2fa_for_intake
        return False

    def has_role(self, *roles: str) -> bool:
        return self.is_authenticated and self.is_active and self.role in roles
