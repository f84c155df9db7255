"""The patient ledger's pages: the fee schedule, a patient's billing page (charges, invoices, payments, adjustments,
the sliding scale, good-faith estimates), invoices and superbills, and the patient's own billing pages in the
portal."""

from datetime import date

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from kap_clinic.kernel.audit.services import record_chart_view, record_reads
from kap_clinic.kernel.forms import form_submit, message_validation_error
from kap_clinic.kernel.paging import page_of

from . import access
from .ledger import estimate, invoices, selectors, sliding_scale
from .ledger.fees import fee_schedule
from .ledger.forms import (
    AdjustmentForm,
    EstimateForm,
    InvoiceVoidForm,
    PaymentForm,
    SlidingScaleForm,
    SuperbillPeriodForm,
)
from .ledger.superbill import period_superbill, render_superbill, superbill_pdf

PATIENT_ROWS_PER_PAGE = 25  # a patient's charges, and their invoices, per page


@access.staff_page
def fee_schedule_view(request):
    return render(request, "billing/ledger/fee_schedule.html", {"fees": fee_schedule()})


def _patient_page(request, patient, *, status=200, **forms):
    record_chart_view(obj=patient)
    billing = selectors.patient_billing(patient)
    charges = page_of(request, billing["charges"], PATIENT_ROWS_PER_PAGE, param="charges_page")
    selectors.charges_shown(charges.object_list)
    ctx = {
        "patient": patient,
        **billing,
        "charges": charges,
        "invoices": page_of(request, billing["invoices"], PATIENT_ROWS_PER_PAGE, param="invoices_page"),
        "can_work": access.can_work(request),
        "sliding_form": forms.get("sliding_form") or SlidingScaleForm(),
        "estimate_form": forms.get("estimate_form") or EstimateForm(patient=patient),
    }
    return render(request, "billing/ledger/patient_billing.html", ctx, status=status)


@access.staff_page
def patient_billing_view(request, patient_pk):
    return _patient_page(request, access.billing_patient(request, patient_pk))


@access.working_page
@require_POST
def invoice_create_view(request, patient_pk):
    patient = access.working_patient(request, patient_pk)
    try:
        invoice = invoices.invoice_create(patient=patient, by=request.user)
    except ValidationError as exc:
        message_validation_error(request, exc)
        return redirect("billing:patient_billing", patient_pk=patient.pk)
    messages.success(request, f"Invoice {invoice.number} created.")
    return redirect("billing:invoice_detail", pk=invoice.pk)


@access.working_page
@require_POST
def sliding_scale_view(request, patient_pk):
    patient = access.working_patient(request, patient_pk)
    form = SlidingScaleForm(request.POST)
    sent = form_submit(form, sliding_scale.sliding_scale_assess, patient=patient, by=request.user)
    if sent.done:
        tier, discount = sent.result.tier, sent.result.discount_percent
        messages.success(request, f"Sliding scale: tier {tier}, {discount}% discount.")
        return redirect("billing:patient_billing", patient_pk=patient.pk)
    return _patient_page(request, patient, status=400, sliding_form=form)


@access.working_page
@require_POST
def estimate_create_view(request, patient_pk):
    patient = access.working_patient(request, patient_pk)
    form = EstimateForm(request.POST, patient=patient)
    sent = form_submit(form, estimate.estimate_give, by=request.user)
    if sent.done:
        messages.success(request, f"Good-faith estimate of ${sent.result.total} given to the patient in the portal.")
        return redirect("billing:estimate_detail", pk=sent.result.pk)
    return _patient_page(request, patient, status=400, estimate_form=form)


def _invoice_page(request, invoice, *, status=200, payment_form=None, adjustment_form=None, void_form=None):
    record_chart_view(obj=invoice)
    refused = [form for form in (payment_form, adjustment_form) if form is not None]
    if refused:  # a refused post shows the invoice as it is now, with what was typed
        invoice.refresh_from_db()
    for form in refused:  # sent again, the form is checked against the balance shown now
        form.data = form.data.copy()
        form.data["balance_seen"] = str(invoice.balance)
    is_void = invoice.status == invoice.Status.VOID
    ctx = {
        "invoice": invoice,
        "patient": invoice.patient,
        # A void invoice shows the lines it billed (its charges may since be on another invoice).
        "lines": (
            [line.charge for line in invoice.voided_lines.select_related("charge")]
            if is_void
            else list(invoice.lines.all())
        ),
        "voided_by": invoice.voided_by if is_void else None,
        "payments": list(invoice.payments.all()),
        "adjustments": list(invoice.adjustments.all()),
        "can_work": access.can_work(request) and invoice.status == invoice.Status.OPEN,
        "payment_form": payment_form
        or PaymentForm(initial={"received_on": timezone.localdate(), "balance_seen": invoice.balance}),
        "adjustment_form": adjustment_form or AdjustmentForm(initial={"balance_seen": invoice.balance}),
        # Voiding is offered while nothing is paid or adjusted (the service says why otherwise).
        "can_void": access.can_work(request) and invoice.status == invoice.Status.OPEN,
        "void_form": void_form or InvoiceVoidForm(),
        "portal": access.in_portal(request),
    }
    return render(request, "billing/ledger/invoice_detail.html", ctx, status=status)


@access.staff_page
def invoice_detail_view(request, pk):
    return _invoice_page(request, access.billing_invoice(request, pk))


@access.working_page
@require_POST
def payment_create_view(request, pk):
    invoice = access.billing_invoice(request, pk, work=True)
    form = PaymentForm(request.POST)
    if form_submit(form, invoices.payment_record, invoice=invoice, by=request.user).done:
        messages.success(request, "Payment recorded.")
        return redirect("billing:invoice_detail", pk=invoice.pk)
    return _invoice_page(request, invoice, status=400, payment_form=form)


@access.working_page
@require_POST
def adjustment_create_view(request, pk):
    invoice = access.billing_invoice(request, pk, work=True)
    form = AdjustmentForm(request.POST)
    if form_submit(form, invoices.adjustment_record, invoice=invoice, by=request.user).done:
        messages.success(request, "Adjustment recorded.")
        return redirect("billing:invoice_detail", pk=invoice.pk)
    return _invoice_page(request, invoice, status=400, adjustment_form=form)


@access.working_page
@require_POST
def invoice_void_view(request, pk):
    invoice = access.billing_invoice(request, pk, work=True)
    form = InvoiceVoidForm(request.POST)
    if form_submit(form, invoices.invoice_void, invoice=invoice, by=request.user).done:
        messages.success(request, f"Invoice {invoice.number} is void; its charges can go on a new invoice.")
        return redirect("billing:invoice_detail", pk=invoice.pk)
    return _invoice_page(request, invoice, status=400, void_form=form)


def _superbill_response(invoice) -> HttpResponse:
    if invoice.status == invoice.Status.VOID:
        raise Http404("A void invoice gives no superbill.")
    record_chart_view(obj=invoice)
    response = HttpResponse(superbill_pdf(invoice), content_type="application/pdf")
    # The file name carries the invoice number, never the patient's name.
    response["Content-Disposition"] = f'attachment; filename="superbill-{invoice.number}.pdf"'
    response["Cache-Control"] = "no-store"
    return response


@access.staff_page
def superbill_view(request, pk):
    return _superbill_response(access.billing_invoice(request, pk))


def _last_quarter(today: date) -> dict:
    """The calendar quarter before today's: what a patient most often files for."""
    first_month = (today.month - 1) // 3 * 3 + 1
    end = date.fromordinal(date(today.year, first_month, 1).toordinal() - 1)
    return {"start": date(end.year, (end.month - 1) // 3 * 3 + 1, 1), "end": end}


def _period_superbill(request, patient):
    """The period form (first visit, or shown again with the reason when the dates will not do) or the PDF."""
    record_chart_view(obj=patient)
    template = "billing/ledger/superbill_period.html"
    ctx = {"patient": patient, "portal": access.in_portal(request)}
    if "start" not in request.GET and "end" not in request.GET:
        form = SuperbillPeriodForm(initial=_last_quarter(timezone.localdate()))
        return render(request, template, {**ctx, "form": form})
    form = SuperbillPeriodForm(request.GET)
    if form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
        bill = period_superbill(patient=patient, start=start, end=end)
        if bill.lines or bill.payments:
            response = HttpResponse(render_superbill(bill), content_type="application/pdf")
            # The file name carries the dates, never the patient's name.
            response["Content-Disposition"] = f'attachment; filename="superbill-{start:%Y%m%d}-{end:%Y%m%d}.pdf"'
            response["Cache-Control"] = "no-store"
            return response
        form.add_error(None, f"No invoiced services or payments between {start:%m/%d/%Y} and {end:%m/%d/%Y}.")
    return render(request, template, {**ctx, "form": form}, status=400)


@access.working_page
def period_superbill_view(request, patient_pk):
    return _period_superbill(request, access.working_patient(request, patient_pk))


def _estimate_page(request, given):
    record_chart_view(obj=given)
    ctx = {
        "estimate": given,
        "patient": given.patient,
        "row": selectors.estimate_rows([given])[0],
        "portal": access.in_portal(request),
    }
    return render(request, "billing/ledger/estimate_detail.html", ctx)


@access.staff_page
def estimate_detail_view(request, pk):
    return _estimate_page(request, access.billing_estimate(request, pk))


# ---- The patient's own pages in the portal ----------------------------------------------------------


@access.portal_page
def portal_billing_view(request):
    patient = access.portal_patient(request)
    billing = selectors.portal_billing(patient)
    ctx = {"patient": patient, **billing, "invoices": page_of(request, billing["invoices"], PATIENT_ROWS_PER_PAGE)}
    record_reads(rows=[patient, *ctx["invoices"].object_list, *ctx["estimates"]])
    return render(request, "billing/ledger/portal_billing.html", ctx)


@access.portal_page
def portal_invoice_view(request, pk):
    return _invoice_page(request, access.billing_invoice(request, pk))


@access.portal_page
def portal_superbill_view(request, pk):
    return _superbill_response(access.billing_invoice(request, pk))


@access.portal_page
def portal_period_superbill_view(request):
    return _period_superbill(request, access.portal_patient(request))


@access.portal_page
def portal_estimate_view(request, pk):
    return _estimate_page(request, access.billing_estimate(request, pk))
