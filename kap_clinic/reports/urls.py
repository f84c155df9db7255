from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("", views.index_view, name="index"),
    path("patients/<int:pk>/summary/", views.patient_summary_page_view, name="patient_summary_page"),
    path("patients/<int:pk>/summary.pdf", views.patient_summary_view, name="patient_summary"),
    path("jobs/<int:pk>/", views.job_view, name="job"),
    path("jobs/<int:pk>/progress/", views.job_progress_view, name="job_progress"),
    path("jobs/<int:pk>/download/", views.job_download_view, name="job_download"),
    path("<slug:kind>/", views.run_view, name="run"),
]
