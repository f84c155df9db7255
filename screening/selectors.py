from collections.abc import Callable

from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.http import Http404

from kap_clinic.kernel.accounts.models import User
from kap_clinic.kernel.accounts.roles import STAFF_ROLES
from kap_clinic.rules import instruments
from patients.selectors import visible_through

from .models import InstrumentResponse, Screening, SuicideRiskAlert

# The apps above screening that raise suicide-risk alerts (check-ins, the dosing-day re-screen) say how to read back
# the answers behind one: source_ref prefix -> reader(source_ref, instrument code) giving (question, answer) rows,
# or None.
AlertAnswerReader = Callable[[str, str], list[tuple[str, str]] | None]
_ALERT_ANSWER_READERS: dict[str, AlertAnswerReader] = {}


def alert_answer_reader_register(prefix: str, reader: AlertAnswerReader) -> None:
    _ALERT_ANSWER_READERS[prefix] = reader


def alert_answers(alert: SuicideRiskAlert) -> list[tuple[str, str]]:
    """The instrument's items and the answers that raised this alert, as (question, answer) rows; [] if unknown."""
    if alert.screening_id is not None:
        response = InstrumentResponse.objects.filter(
            screening_id=alert.screening_id, code=alert.instrument_code
        ).first()
        if response is None:
            return []
        return instruments.answer_rows(response.code, response.answers)
    prefix = alert.source_ref.split("-", 1)[0]
    reader = _ALERT_ANSWER_READERS.get(prefix)
    return (reader(alert.source_ref, alert.instrument_code) or []) if reader else []


def get_screening_for_user(user: User, pk: int) -> Screening:
    """A screening of a patient the staff member may open; 404 otherwise (patients never open screenings)."""
    if user.role not in STAFF_ROLES:
        raise Http404("No such screening.")
    screening = (
        Screening.objects.select_related("patient", "created_by", "signed_off_by", "completed_by")
        .filter(visible_through(user), pk=pk)
        .first()
    )
    if screening is None:
        raise Http404("No such screening.")
    return screening


def get_alert_for_user(user: User, pk: int) -> SuicideRiskAlert:
    alert = SuicideRiskAlert.objects.select_related("patient", "screening").filter(visible_through(user), pk=pk).first()
    if alert is None or user.role not in STAFF_ROLES:
        raise Http404("No such alert.")
    return alert


def open_alerts_for(user: User) -> QuerySet[SuicideRiskAlert]:
    """Open suicide-risk alerts for the patients this user may see, highest risk and oldest first."""
    rank = Case(
        When(level="high", then=Value(0)),
        When(level="moderate", then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    return (
        SuicideRiskAlert.objects.filter(visible_through(user), status=SuicideRiskAlert.Status.OPEN)
        .select_related("patient")
        .annotate(rank=rank)
        .order_by("rank", "raised_at")
    )


def screenings_awaiting_sign_off(user: User) -> QuerySet[Screening]:
    return (
        Screening.objects.filter(visible_through(user), status=Screening.Status.COMPLETED)
        .select_related("patient")
        .order_by("completed_at")
    )


def screenings_in_progress(user: User) -> QuerySet[Screening]:
    return (
        Screening.objects.filter(visible_through(user), status=Screening.Status.DRAFT)
        .select_related("patient")
        .order_by("-updated_at")
    )
