from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from kap_clinic.kernel.audit.services import record_chart_view, record_reads
from kap_clinic.kernel.forms import form_submit, message_validation_error
from kap_clinic.kernel.paging import page_of

from . import access, services
from .forms import AuthorizationFilterForm, AuthorizationForm, TransitionForm
from .models import Payer
from .preauth import lifecycle
from .preauth.channels import channel_label
from .selectors import authorization_list, authorizations_visible_to

AUTHORIZATIONS_PER_PAGE = 50
PAYERS_PER_PAGE = 50


@access.staff_page
def payer_list_view(request):
    page = page_of(request, Payer.objects.order_by("name", "pk"), PAYERS_PER_PAGE)
    return render(request, "billing/payer_list.html", {"payers": page.object_list, "page": page})


@access.staff_page
def authorization_list_view(request):
    today = timezone.localdate()
    form = AuthorizationFilterForm(request.GET or None)
    status, ending_soon = "", False
    if form.is_valid():
        status, ending_soon = form.cleaned_data["status"], form.cleaned_data["ending_soon"]
    qs = authorization_list(request.user, status=status, ending_soon=ending_soon, today=today)
    page = page_of(request, qs, AUTHORIZATIONS_PER_PAGE)  # read once: recorded as read, then shown
    record_reads(rows=page.object_list)
    ctx = {"page": page, "form": form, "today": today, "can_work": access.can_work(request)}
    return render(request, "billing/authorization_list.html", ctx)


@access.staff_page
def patient_authorizations_view(request, patient_pk):
    patient = access.billing_patient(request, patient_pk)
    record_chart_view(obj=patient)
    ctx = {
        "patient": patient,
        "authorizations": authorizations_visible_to(request.user).filter(patient=patient).order_by("-created_at"),
        "can_work": access.can_work(request),
        "today": timezone.localdate(),
        "payers": Payer.objects.filter(is_active=True),
    }
    return render(request, "billing/patient_authorizations.html", ctx)


@access.working_page
def authorization_create_view(request, patient_pk):
    patient = access.working_patient(request, patient_pk)
    form = AuthorizationForm(request.POST or None)
    if request.method == "POST":
        sent = form_submit(form, services.authorization_create, patient=patient, by=request.user)
        if sent.done:
            messages.success(request, "Authorization saved as a draft.")
            return redirect("billing:authorization_detail", pk=sent.result.pk)
    record_chart_view(obj=patient)
    ctx = {"form": form, "patient": patient}
    return render(request, "billing/authorization_form.html", ctx, status=400 if form.errors else 200)


@access.staff_page
def authorization_detail_view(request, pk):
    return _detail(request, access.billing_authorization(request, pk))


def _detail(request, authorization, *, transition_form=None, status=200):
    record_chart_view(obj=authorization)
    submissions = list(authorization.submissions.defer("packet"))
    for submission in submissions:
        submission.channel_shown = channel_label(submission.channel)
    ctx = {
        "authorization": authorization,
        "patient": authorization.patient,
        "status_changes": authorization.status_changes.select_related("changed_by"),
        "transition_form": transition_form or TransitionForm(current=authorization.status),
        "can_work": access.can_work(request),
        "is_editable": authorization.status in services.EDITABLE_STATUSES,
        "running_out": services.is_running_out(authorization, today=timezone.localdate()),
        "retired_codes": services.retired_codes_named(authorization),
        "submissions": submissions,
        "work_items": authorization.work_items.select_related("done_by"),
    }
    return render(request, "billing/authorization_detail.html", ctx, status=status)


@access.working_page
def authorization_edit_view(request, pk):
    authorization = access.billing_authorization(request, pk, work=True)
    form = AuthorizationForm(request.POST or None, instance=authorization)
    if request.method == "POST":
        if form_submit(form, services.authorization_update, authorization=authorization, by=request.user).done:
            messages.success(request, "Saved.")
            return redirect("billing:authorization_detail", pk=authorization.pk)
    record_chart_view(obj=authorization)
    ctx = {"form": form, "patient": authorization.patient, "authorization": authorization}
    return render(request, "billing/authorization_form.html", ctx, status=400 if form.errors else 200)


@access.working_page
@require_POST
def authorization_transition_view(request, pk):
    authorization = access.billing_authorization(request, pk, work=True)
    form = TransitionForm(request.POST, current=authorization.status)
    sent = form_submit(form, lifecycle.authorization_mark, authorization=authorization, by=request.user)
    if sent.done:
        messages.success(request, f"Authorization marked {sent.result.get_status_display().lower()}.")
        return redirect("billing:authorization_detail", pk=authorization.pk)
    return _detail(request, authorization, transition_form=form, status=400)


@access.working_page
@require_POST
def authorization_refresh_view(request, pk):
    authorization = access.billing_authorization(request, pk, work=True)
    try:
        authorization = services.authorization_units_refresh(authorization=authorization, by=request.user)
    except ValidationError as exc:
        message_validation_error(request, exc)
    else:
        messages.success(request, f"Units counted again: {authorization.units_used} used.")
    return redirect("billing:authorization_detail", pk=authorization.pk)
