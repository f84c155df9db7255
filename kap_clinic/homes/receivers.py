"""Apps above the patient registry, acting on what it announces (patients/signals.py)."""

from django.dispatch import receiver

from kap_clinic.kernel.notifications.planning import reminders_sync_for_patient
from patients.signals import contact_details_changed


@receiver(contact_details_changed, dispatch_uid="homes.reminders_follow_contact_details")
def reminders_follow_contact_details(sender, *, patient, **kwargs):
    """Re-plan the patient's upcoming reminders on the channels they may now be reached by."""
    reminders_sync_for_patient(patient)
