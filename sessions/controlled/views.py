"""Views of the controlled-substance log: stock per lot, receiving, reconciling and a session's doses."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone

from kap_clinic.kernel.accounts.decorators import role_required
from kap_clinic.kernel.accounts.roles import Role
from kap_clinic.kernel.audit.services import record_chart_view, record_reads
from kap_clinic.kernel.forms import form_submit
from kap_clinic.kernel.paging import page_of

from ..models import CSLogEntry
from ..selectors import get_session_for_user
from . import services as controlled
from .forms import DoseRecordForm, LotReceiveForm, ReconcileForm

LOG_ENTRIES_PER_PAGE = 50


@role_required(*controlled.CS_ROLES)
def cs_lot_list_view(request):
    ctx = {"products": controlled.cs_balances(), "today": timezone.localdate()}
    return render(request, "sessions/controlled/lot_list.html", ctx)


@role_required(*controlled.CS_ROLES)
def cs_lot_log_view(request, pk):
    lot = controlled.get_lot_for_user(request.user, pk)
    page = page_of(request, controlled.cs_lot_log_latest_first(lot), LOG_ENTRIES_PER_PAGE)
    entries = controlled.cs_entries_shown_to(page.object_list, request.user)
    record_reads(rows=[entry.session for entry in entries if entry.shows_patient])  # the chart numbers it shows
    ctx = {"lot": lot, "entries": entries, "page": page, "totals": controlled.cs_lot_totals(lot)}
    return render(request, "sessions/controlled/lot_log.html", ctx)


@role_required(*controlled.CS_ROLES)
def cs_receive_view(request):
    form = LotReceiveForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        sent = form_submit(form, controlled.cs_lot_receive, by=request.user)
        if sent.done:
            lot = sent.result
            messages.success(request, f"Lot {lot.lot_number} received: {lot.received_mg.normalize():f} mg.")
            return redirect("sessions:cs_lot_log", pk=lot.pk)
    return render(request, "sessions/controlled/receive_form.html", {"form": form}, status=400 if form.errors else 200)


@role_required(Role.ADMIN)
def cs_reconcile_view(request, pk):
    lot = controlled.get_lot_for_user(request.user, pk)
    form = ReconcileForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        sent = form_submit(form, controlled.cs_reconcile, lot=lot, by=request.user)
        if sent.done:
            entry = sent.result
            if entry.amount_mg:
                messages.warning(request, f"Count recorded; adjustment of {entry.amount_mg.normalize():f} mg logged.")
            else:
                messages.success(request, "Count recorded; it matches the log.")
            return redirect("sessions:cs_lot_log", pk=lot.pk)
    ctx = {"lot": lot, "form": form, "balance": controlled.cs_lot_balance(lot)}
    return render(request, "sessions/controlled/reconcile_form.html", ctx, status=400 if form.errors else 200)


@role_required(Role.CLINICIAN)
def cs_dose_record_view(request, pk):
    session = get_session_for_user(request.user, pk)
    form = DoseRecordForm(request.POST if request.method == "POST" else None, request=request, session=session)
    if request.method == "POST":
        # The witness's password is checked by the form, never handed on.
        values = ("lot", "drawn_mg", "administered_mg", "wasted_mg", "witness", "note")
        if form_submit(form, controlled.cs_dose_record, only=values, session=session, by=request.user).done:
            messages.success(request, "Dose recorded in the controlled-substance log.")
            return redirect("sessions:cs_dose_record", pk=session.pk)
    entries = CSLogEntry.objects.filter(session=session).select_related("lot__product", "by", "witness")
    record_chart_view(obj=session)
    ctx = {"session": session, "patient": session.patient, "form": form, "entries": entries}
    return render(request, "sessions/controlled/dose_form.html", ctx, status=400 if form.errors else 200)
