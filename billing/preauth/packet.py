"""The request packet: a PDF with the cover letter, the payer's required facts, the screening scores and the plan,
rendered from an HTML template by WeasyPrint (kap_clinic.kernel.pdf: its links resolve against the static files only,
no network, no other file)."""

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from kap_clinic.kernel.clinic.models import ClinicSettings
from kap_clinic.kernel.pdf import render_pdf
from kap_clinic.rules.billing_codes import AUTHORIZATION_CODES

from ..models import PriorAuthorization
from .assemble import request_facts


def packet_context(authorization: PriorAuthorization) -> dict:
    patient = authorization.patient
    return {
        "authorization": authorization,
        "patient": patient,
        "payer": authorization.payer,
        "policy": authorization.policy,
        "codes": [(code, AUTHORIZATION_CODES.get(code, "")) for code in authorization.codes],
        "facts": request_facts(patient),
        "clinic_phone": ClinicSettings.load().phone or getattr(settings, "REMS_SETTING_PHONE", ""),
        "clinic_name": getattr(settings, "REMS_SETTING_NAME", "") or "KAP Clinic",
        "today": timezone.localdate(),
    }


def request_packet_pdf(authorization: PriorAuthorization) -> bytes:
    """The request packet of this authorization as a PDF."""
    return render_pdf(render_to_string("billing/pdf/preauth_packet.html", packet_context(authorization)))
