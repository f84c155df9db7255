from django.urls import path

from . import views

app_name = "screening"

urlpatterns = [
    path("start/<int:patient_pk>/", views.screening_start_view, name="start"),
    path("<int:pk>/", views.screening_detail_view, name="detail"),
    path("<int:pk>/instrument/<slug:code>/", views.instrument_view, name="instrument"),
    path("<int:pk>/medical/", views.medical_view, name="medical"),
    path("<int:pk>/complete/", views.screening_complete_view, name="complete"),
    path("<int:pk>/sign-off/", views.screening_sign_off_view, name="sign_off"),
    path("alerts/<int:pk>/review/", views.alert_clear_view, name="alert_clear"),
    path("my-questionnaires/<slug:code>/", views.self_report_view, name="self_report"),
]
