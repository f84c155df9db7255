"""The front office's billing alerts, each linking the page where it is dealt with.

Two kinds of page: a patient's billing page (a price missing, a good-faith estimate due or exceeded) and an
authorization (its warnings, a retired code, a packet that could not be sent). Alerts are raised once per key and
closed with `staff_alerts_acknowledge` (kap_clinic.kernel.notifications.alerts).
"""

from django.urls import reverse

from kap_clinic.kernel.notifications.alerts import staff_alert_raise
from kap_clinic.kernel.notifications.models import StaffAlert


def bill_alert_raise(*, kind: str, key: str, patient_id: int, summary: str) -> StaffAlert:
    """An alert about a patient's bill, for the front office, linking the patient's billing page."""
    return staff_alert_raise(
        kind=kind,
        key=key,
        patient_id=patient_id,
        summary=summary,
        link=reverse("billing:patient_billing", kwargs={"patient_pk": patient_id}),
        audience=StaffAlert.Audience.FRONT_OFFICE,
    )


def authorization_alert_raise(*, key: str, authorization_id: int, patient_id: int, summary: str) -> StaffAlert:
    """An alert about a prior authorization, for the front office, linking the authorization."""
    return staff_alert_raise(
        kind=StaffAlert.Kind.AUTHORIZATION,
        key=key,
        patient_id=patient_id,
        summary=summary,
        link=reverse("billing:authorization_detail", kwargs={"pk": authorization_id}),
        audience=StaffAlert.Audience.FRONT_OFFICE,
    )
