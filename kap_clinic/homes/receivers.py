"""Apps above the patient registry, acting on what it announces (patients/signals.py), and billing charging what
aftercare announces (aftercare/signals.py)."""

from django.dispatch import receiver

from aftercare.signals import integration_session_completed
from billing.ledger.charges import integration_charges_post
from kap_clinic.kernel.notifications.planning import reminders_sync_for_patient
from patients.signals import contact_details_changed


@receiver(contact_details_changed, dispatch_uid="homes.reminders_follow_contact_details")
def reminders_follow_contact_details(sender, *, patient, **kwargs):
    """Re-plan the patient's upcoming reminders on the channels they may now be reached by."""
    reminders_sync_for_patient(patient)


@receiver(integration_session_completed, dispatch_uid="homes.charge_integration_sessions")
def charge_integration_session(sender, *, session, **kwargs):
    """Billing charges a held integration session (once) from the plain facts aftercare announces."""
    integration_charges_post(
        patient_id=session.patient_id,
        integration_session_id=session.pk,
        minutes=session.duration_minutes,
        starts_at=session.starts_at,
    )
