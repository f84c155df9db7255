"""Addresses of the downloads (under /exports/)."""

from django.urls import path

from . import export_views as views

app_name = "exports"

urlpatterns = [
    path("", views.export_index_view, name="index"),
    path("patients.csv", views.patient_list_csv_view, name="patients"),
    path("dosing-sessions.csv", views.sessions_csv_view, name="sessions"),
    path("check-ins.csv", views.checkins_csv_view, name="checkins"),
    path("authorizations.csv", views.authorizations_csv_view, name="authorizations"),
    path("clinic-outcomes.csv", views.outcomes_csv_view, name="outcomes"),
    path("operations.csv", views.operations_csv_view, name="operations"),
    path("patients/<int:pk>/dosing-sessions.csv", views.patient_sessions_csv_view, name="patient_sessions"),
    path("patients/<int:pk>/health-record.json", views.patient_fhir_view, name="patient_fhir"),
    path("my-health-record.json", views.my_fhir_view, name="my_fhir"),
]
