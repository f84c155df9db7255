from django.apps import AppConfig


class ReportsConfig(AppConfig):
    """Reports: the documents a clinic hands to referrers, payers and auditors, as PDF and CSV, run in the
    background when large."""

    name = "kap_clinic.reports"
    label = "reports"
    verbose_name = "Reports"
