from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("", views.reminder_list_view, name="list"),
    path("<int:pk>/resend/", views.reminder_resend_view, name="resend"),
    path("confirm/<str:token>/", views.confirm_view, name="confirm"),
]
