from django.urls import path

from . import views

app_name = "patients"

# The chart itself, and the status and REMS forms it shows again with their errors, are in kap_clinic/homes
# (at patients/<id>/, patients/<id>/status/ and patients/<id>/rems-enrollment/): it gathers screening and treatment.

urlpatterns = [
    path("", views.patient_list_view, name="list"),
    path("new/", views.patient_create_view, name="create"),
    path("me/", views.my_record_view, name="my_record"),
    path("<int:pk>/edit/", views.patient_edit_view, name="edit"),
    path("<int:pk>/invite/", views.patient_invite_view, name="invite"),
]
