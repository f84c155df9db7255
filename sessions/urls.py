from django.urls import path

from . import views

app_name = "sessions"

urlpatterns = [
    path("enroll/<int:patient_pk>/", views.enroll_view, name="enroll"),
]
