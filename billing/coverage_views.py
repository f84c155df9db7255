"""Pages of coverage and pre-authorization requests: the patient's policies, assembling and submitting a request,
its packet, and the staff work list (send, follow up, renew)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from kap_clinic.kernel.audit.services import record_chart_view, record_reads
from kap_clinic.kernel.forms import form_submit, message_validation_error
from kap_clinic.kernel.paging import page_of

from . import access, coverage
from .coverage_forms import AssembleForm, PolicyForm, SelfPayForm, WorkDoneForm
from .coverage_selectors import open_work_items, with_display
from .preauth import lifecycle
from .preauth.assemble import preauth_request_assemble
from .preauth.packet import request_packet_pdf

WORK_ITEMS_PER_PAGE = 50


def _coverage_page(request, patient, *, policy_form=None, self_pay_form=None, status=200):
    record_chart_view(obj=patient)
    ctx = {
        "patient": patient,
        "coverage": coverage.coverage_of(patient),
        "policy_form": policy_form or PolicyForm(initial={"effective_from": timezone.localdate()}),
        "self_pay_form": self_pay_form or SelfPayForm(initial={"since": timezone.localdate()}),
        "can_work": access.can_work(request),
    }
    return render(request, "billing/patient_coverage.html", ctx, status=status)


@access.staff_page
def patient_coverage_view(request, patient_pk):
    return _coverage_page(request, access.billing_patient(request, patient_pk))


@access.working_page
@require_POST
def policy_create_view(request, patient_pk):
    patient = access.working_patient(request, patient_pk)
    form = PolicyForm(request.POST)
    if form_submit(form, coverage.policy_create, patient=patient, by=request.user).done:
        messages.success(request, "Policy saved.")
        return redirect("billing:patient_coverage", patient_pk=patient.pk)
    return _coverage_page(request, patient, policy_form=form, status=400)


@access.working_page
def policy_edit_view(request, pk):
    policy = access.billing_policy(request, pk, work=True)
    form = PolicyForm(request.POST or None, instance=policy)
    if request.method == "POST" and form_submit(form, coverage.policy_update, policy=policy, by=request.user).done:
        messages.success(request, "Policy saved.")
        return redirect("billing:patient_coverage", patient_pk=policy.patient_id)
    record_chart_view(obj=policy)
    ctx = {"form": form, "policy": policy, "patient": policy.patient}
    return render(request, "billing/policy_form.html", ctx, status=400 if form.errors else 200)


@access.working_page
@require_POST
def self_pay_view(request, patient_pk):
    patient = access.working_patient(request, patient_pk)
    form = SelfPayForm(request.POST)
    if form_submit(form, coverage.self_pay_set, patient=patient, by=request.user).done:
        messages.success(request, "Recorded as self-pay.")
        return redirect("billing:patient_coverage", patient_pk=patient.pk)
    return _coverage_page(request, patient, self_pay_form=form, status=400)


@access.working_page
@require_POST
def preauth_assemble_view(request, patient_pk):
    patient = access.working_patient(request, patient_pk)
    form = AssembleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose the payer to ask.")
        return redirect("billing:patient_authorizations", patient_pk=patient.pk)
    try:
        authorization = preauth_request_assemble(patient=patient, payer=form.cleaned_data["payer"], by=request.user)
    except ValidationError as exc:
        message_validation_error(request, exc)
        return redirect("billing:patient_authorizations", patient_pk=patient.pk)
    messages.success(request, "Request assembled from the record: review and edit it, then submit.")
    return redirect("billing:authorization_edit", pk=authorization.pk)


@access.working_page
@require_POST
def authorization_submit_view(request, pk):
    authorization = access.billing_authorization(request, pk, work=True)
    try:
        lifecycle.preauth_submit(authorization=authorization, by=request.user)
    except ValidationError as exc:
        message_validation_error(request, exc)
    else:
        messages.success(request, "Submitted: the request packet is being prepared and sent.")
    return redirect("billing:authorization_detail", pk=authorization.pk)


@access.working_page
def authorization_packet_view(request, pk):
    """The packet as sent (the latest sending), or as it would be sent now while the request is a draft."""
    authorization = access.billing_authorization(request, pk, work=True)
    record_chart_view(obj=authorization)
    sent = authorization.submissions.filter(status="sent").order_by("-pk").first()
    pdf = bytes(sent.packet) if sent is not None else request_packet_pdf(authorization)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="request-{authorization.pk}.pdf"'
    response["Cache-Control"] = "no-store"
    return response


@access.staff_page
def preauth_work_view(request):
    """Open work on pre-authorizations: packets to send by fax or portal, follow-ups, renewals."""
    page = page_of(request, open_work_items(request.user), WORK_ITEMS_PER_PAGE)
    with_display(page.object_list)
    record_reads(rows=[item.authorization for item in page.object_list])
    ctx = {"page": page, "can_work": access.can_work(request)}
    return render(request, "billing/preauth_work.html", ctx)


@access.working_page
@require_POST
def preauth_work_done_view(request, pk):
    item = access.billing_work_item(request, pk, work=True)
    form = WorkDoneForm(request.POST)
    if form.is_valid():
        try:
            lifecycle.work_item_done(item=item, by=request.user, note=form.cleaned_data["note"])
        except ValidationError as exc:
            message_validation_error(request, exc)
        else:
            messages.success(request, "Marked done.")
    return redirect("billing:preauth_work")
