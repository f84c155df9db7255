from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("", views.reminder_list_view, name="list"),
    path("<int:pk>/resend/", views.reminder_resend_view, name="resend"),
    path("alerts/", views.alert_list_view, name="alerts"),
    path("alerts/<int:pk>/acknowledge/", views.alert_acknowledge_view, name="alert_acknowledge"),
]
