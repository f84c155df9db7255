"""Addresses of the pages that gather several apps; each keeps the path it had in the app it shows most of."""

from django.urls import path

from . import views

app_name = "homes"

urlpatterns = [
    path("", views.home_view, name="home"),
    path("patients/<int:pk>/", views.patient_chart_view, name="patient_chart"),
    path("patients/<int:pk>/status/", views.patient_transition_view, name="patient_transition"),
    path("patients/<int:pk>/rems-enrollment/", views.patient_rems_enrollment_view, name="patient_rems_enrollment"),
    path("work/<slug:kind>/", views.work_list_view, name="work_list"),
    path("audit/", views.audit_log_view, name="audit_log"),
    path("treatment/my-schedule/", views.portal_schedule_view, name="portal_schedule"),
]
