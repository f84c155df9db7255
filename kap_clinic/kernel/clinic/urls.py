from django.urls import path

from . import views

app_name = "clinic"

urlpatterns = [
    path("clinic/settings/", views.settings_view, name="settings"),
    path("clinic/worker-check/", views.worker_check_view, name="worker_check"),
    path("healthz/", views.health_view, name="health"),
]
