"""Addresses of the patient ledger's pages (included from billing/urls.py, under the billing namespace)."""

from django.urls import path

from . import ledger_views as views

urlpatterns = [
    path("fees/", views.fee_schedule_view, name="fee_schedule"),
    path("patients/<int:patient_pk>/account/", views.patient_billing_view, name="patient_billing"),
    path("patients/<int:patient_pk>/invoices/new/", views.invoice_create_view, name="invoice_create"),
    path("patients/<int:patient_pk>/sliding-scale/", views.sliding_scale_view, name="sliding_scale"),
    path("patients/<int:patient_pk>/estimates/new/", views.estimate_create_view, name="estimate_create"),
    path("invoices/<int:pk>/", views.invoice_detail_view, name="invoice_detail"),
    path("invoices/<int:pk>/payments/", views.payment_create_view, name="payment_create"),
    path("invoices/<int:pk>/adjustments/", views.adjustment_create_view, name="adjustment_create"),
    path("invoices/<int:pk>/void/", views.invoice_void_view, name="invoice_void"),
    path("invoices/<int:pk>/superbill.pdf", views.superbill_view, name="superbill"),
    path("patients/<int:patient_pk>/superbill/", views.period_superbill_view, name="period_superbill"),
    path("estimates/<int:pk>/", views.estimate_detail_view, name="estimate_detail"),
    path("my-account/", views.portal_billing_view, name="portal_billing"),
    path("my-account/invoices/<int:pk>/", views.portal_invoice_view, name="portal_invoice"),
    path("my-account/invoices/<int:pk>/superbill.pdf", views.portal_superbill_view, name="portal_superbill"),
    path("my-account/superbill/", views.portal_period_superbill_view, name="portal_period_superbill"),
    path("my-account/estimates/<int:pk>/", views.portal_estimate_view, name="portal_estimate"),
]
