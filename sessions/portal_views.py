"""The patient's portal pages for their sessions, and the calendar feed that calendar apps read without signing in.

The schedule page itself, which lists integration sessions too, is in kap_clinic/homes. Patients only see their
schedule here: booking, moving and cancelling stay with the clinic's staff.
"""

from django.contrib import messages
from django.http import HttpResponse, HttpResponseNotFound
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from kap_clinic.kernel.accounts.decorators import role_required
from kap_clinic.kernel.accounts.roles import Role
from kap_clinic.kernel.audit.services import record_chart_view
from patients.selectors import get_patient_of_portal_user

from . import calendar
from .selectors import get_session_for_user

# The new link's token waits in the server-side session between the POST that made it and the page that shows it.
NEW_TOKEN_KEY = "calendar_feed_new_token"  # noqa: S105 - a session key, not a secret


@role_required(Role.PATIENT)
def portal_session_view(request, pk):
    session = get_session_for_user(request.user, pk)  # the patient's own sessions only; 404 otherwise
    record_chart_view(obj=session)
    return render(request, "sessions/portal/session_detail.html", {"session": session})


@never_cache
@role_required(Role.PATIENT)
def portal_calendar_view(request):
    patient = get_patient_of_portal_user(request.user)
    feed = calendar.live_feed(patient)
    token = request.session.pop(NEW_TOKEN_KEY, None)
    new_url = None
    if token and feed is not None and calendar.token_digest(token) == feed.token_hash:
        new_url = calendar.feed_url(token)
    ctx = {"feed": feed, "new_url": new_url, "webcal_url": new_url and "webcal://" + new_url.split("://", 1)[1]}
    return render(request, "sessions/portal/calendar_feed.html", ctx)


@role_required(Role.PATIENT)
@require_POST
def calendar_feed_create_view(request):
    patient = get_patient_of_portal_user(request.user)
    replaced = calendar.live_feed(patient) is not None
    _, token = calendar.calendar_feed_create(patient=patient, by=request.user)
    request.session[NEW_TOKEN_KEY] = token
    if replaced:
        messages.success(request, "You have a new calendar link. The old one no longer works.")
    else:
        messages.success(request, "Your calendar link is ready.")
    return redirect("sessions:portal_calendar")


@role_required(Role.PATIENT)
@require_POST
def calendar_feed_revoke_view(request):
    patient = get_patient_of_portal_user(request.user)
    request.session.pop(NEW_TOKEN_KEY, None)
    if calendar.calendar_feed_revoke(patient=patient, by=request.user) is None:
        messages.info(request, "You have no calendar link to turn off.")
    else:
        messages.success(
            request, "Your calendar link no longer works. Remove the subscription from your calendar app as well."
        )
    return redirect("sessions:portal_calendar")


def _unlogged(response: HttpResponse) -> HttpResponse:
    # Django logs every 4xx with the request path, and this path holds the feed's secret: keep it out of the logs.
    response._has_been_logged = True
    return response


@require_safe
def calendar_feed_view(request, token):
    """The patient's appointments for calendar apps: public, but only through an unguessable, revocable link."""
    if not calendar.feed_fetch_allowed(token):
        response = HttpResponse("Too many requests.", status=429, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = "60"
        return _unlogged(response)
    feed = calendar.feed_for_token(token)
    if feed is None:
        return _unlogged(HttpResponseNotFound("Not found.", content_type="text/plain; charset=utf-8"))
    response = HttpResponse(calendar.feed_ical(feed.patient), content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    response["Content-Disposition"] = 'inline; filename="appointments.ics"'
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
