from django.urls import path

from . import views

app_name = "aftercare"

urlpatterns = [
    # Staff: one patient's aftercare, integration sessions and check-in series.
    path("patient/<int:patient_pk>/", views.patient_aftercare_view, name="patient"),
    path("patient/<int:patient_pk>/integration/new/", views.integration_book_view, name="integration_book"),
    path("integration/<int:pk>/move/", views.integration_reschedule_view, name="integration_reschedule"),
    path("integration/<int:pk>/cancel/", views.integration_cancel_view, name="integration_cancel"),
    path("integration/<int:pk>/complete/", views.integration_complete_view, name="integration_complete"),
    path("integration/<int:pk>/no-show/", views.integration_no_show_view, name="integration_no_show"),
    path("patient/<int:patient_pk>/checkins/new/", views.checkin_series_create_view, name="checkin_series_create"),
    path("patient/<int:patient_pk>/checkins/cancel/", views.checkin_series_cancel_view, name="checkin_series_cancel"),
    path("checkin/<int:pk>/", views.checkin_detail_view, name="checkin_detail"),
    path("checkin/<int:pk>/cancel/", views.checkin_cancel_view, name="checkin_cancel"),
    # The patient's portal.
    path("my-checkins/", views.portal_checkins_view, name="portal_checkins"),
    path("my-checkins/<int:pk>/", views.portal_checkin_fill_view, name="portal_checkin_fill"),
]
