from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from kap_clinic.kernel.accounts.decorators import role_required
from kap_clinic.kernel.accounts.roles import STAFF_ROLES
from kap_clinic.kernel.audit.services import record_reads
from kap_clinic.kernel.forms import message_validation_error
from kap_clinic.kernel.paging import CappedPaginator

from .alerts import alerts_visible_to, get_alert_for_user, staff_alert_acknowledge
from .models import Reminder
from .planning import reminder_resend
from .selectors import COUNTED, get_reminder_for_user, nearest_first, reminders_listed, with_display

REMINDERS_PER_PAGE = 50


@role_required(*STAFF_ROLES)
def reminder_list_view(request):
    """Reminders nearest first (the next due at the top, then those already due or sent, latest first), by pages."""
    status = request.GET.get("status", "")
    reminders = nearest_first(reminders_listed(request.user, status=status))
    page = CappedPaginator(reminders, REMINDERS_PER_PAGE, cap=COUNTED).get_page(request.GET.get("page"))
    shown = with_display(list(page.object_list))
    record_reads(rows=shown)
    query = request.GET.copy()
    query.pop("page", None)
    ctx = {
        "reminders": shown,
        "page": page,
        "query": query.urlencode(),
        "status": status,
        "statuses": Reminder.Status.choices,
    }
    return render(request, "notifications/reminder_list.html", ctx)


@role_required(*STAFF_ROLES)
@require_POST
def reminder_resend_view(request, pk):
    reminder = get_reminder_for_user(request.user, pk)
    try:
        reminder_resend(reminder=reminder, by=request.user)
    except ValidationError as exc:
        message_validation_error(request, exc)
    else:
        messages.success(request, "The reminder will be sent again.")
    return redirect("notifications:list")


@role_required(*STAFF_ROLES)
def alert_list_view(request):
    """Alerts for this member of staff: open ones, or (with ?show=all) acknowledged ones too."""
    show_all = request.GET.get("show") == "all"
    alerts = alerts_visible_to(request.user)
    if not show_all:
        alerts = alerts.filter(acknowledged_at__isnull=True)
    shown = list(alerts[:200])
    record_reads(rows=shown)
    return render(request, "notifications/alert_list.html", {"alerts": shown, "show_all": show_all})


@role_required(*STAFF_ROLES)
@require_POST
def alert_acknowledge_view(request, pk):
    alert = get_alert_for_user(request.user, pk)
    try:
        staff_alert_acknowledge(alert=alert, by=request.user)
    except ValidationError as exc:
        message_validation_error(request, exc)
    else:
        messages.success(request, "Alert acknowledged.")
    # Acknowledged from the home page: back there; otherwise back to the list. Never an address from the form.
    return redirect("homes:home" if request.POST.get("back") == "home" else "notifications:alerts")
