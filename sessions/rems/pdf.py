"""PDFs of the sessions app, rendered from HTML templates by WeasyPrint (kap_clinic.kernel.pdf)."""

from django.template.loader import render_to_string
from django.utils import timezone

from kap_clinic.kernel.pdf import render_pdf

from ..models import RemsEvent, RemsMonitoringForm
from .delivery import event_types

PRINT_CSS = "css/print.css"


def _render(template: str, context: dict) -> bytes:
    # Links resolve against the static files only (kap_clinic.kernel.pdf): no network, no other file.
    return render_pdf(render_to_string(template, context))


def _yes_no(value: bool | None) -> str:
    return {True: "Yes", False: "No"}.get(value, "")


def rems_form_pdf(form: RemsMonitoringForm) -> bytes:
    """The filled Spravato REMS Patient Monitoring Form as a PDF, for submission online or by fax."""
    answered = {e.event_type: e for e in form.events.all()}
    labels = dict(RemsEvent.EventType.choices)
    events = []
    for event_type in event_types(form):
        event = answered.get(event_type)
        events.append(
            {
                "label": labels.get(event_type, event_type),
                "occurred": _yes_no(event.occurred if event else None),
                "details": event.details if event else "",
            }
        )
    signed_at = timezone.localtime(form.signed_at) if form.signed_at else None
    context = {
        "form": form,
        "yn": {
            name: _yes_no(getattr(form, name))
            for name in (
                "is_first_treatment",
                "is_enrolled_in_rems",
                "takes_benzodiazepines",
                "takes_sedative_hypnotics",
                "takes_psychostimulants",
                "takes_maois",
                "takes_opioids",
                "vitals_ok_before_administration",
                "vitals_ok_before_completion",
            )
        },
        "events": events,
        "signed_at": signed_at,
        "stylesheet": PRINT_CSS,
    }
    return _render("sessions/pdf/rems_form.html", context)
