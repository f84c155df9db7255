from django.urls import path

from . import views

app_name = "patients"

urlpatterns = [
    path("", views.patient_list_view, name="list"),
    path("new/", views.patient_create_view, name="create"),
    path("me/", views.my_record_view, name="my_record"),
    path("<int:pk>/", views.patient_detail_view, name="detail"),
    path("<int:pk>/edit/", views.patient_edit_view, name="edit"),
    path("<int:pk>/status/", views.patient_transition_view, name="transition"),
    path("<int:pk>/invite/", views.patient_invite_view, name="invite"),
    path("<int:pk>/rems-enrollment/", views.patient_rems_enrollment_view, name="rems_enrollment"),
]
