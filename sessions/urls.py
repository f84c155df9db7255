from django.urls import path

from . import record_views, views

app_name = "sessions"

urlpatterns = [
    path("enroll/<int:patient_pk>/", views.enroll_view, name="enroll"),
    path("plan/new/<int:patient_pk>/", views.plan_create_view, name="plan_create"),
    path("plan/<int:pk>/", views.plan_detail_view, name="plan_detail"),
    path("plan/<int:pk>/booster/", views.booster_book_view, name="booster_book"),
    path("session/<int:pk>/reschedule/", views.session_reschedule_view, name="session_reschedule"),
    path("session/<int:pk>/cancel/", views.session_cancel_view, name="session_cancel"),
    path("session/<int:pk>/check-in/", views.session_check_in_view, name="session_check_in"),
    path("session/<int:pk>/no-show/", views.session_no_show_view, name="session_no_show"),
    path("schedule/", views.schedule_view, name="schedule"),
    # The session record on the day: one page, one POST endpoint per step.
    path("session/<int:pk>/record/", record_views.record_detail_view, name="record_detail"),
    path("session/<int:pk>/record/checks/", record_views.record_check_view, name="record_check"),
    path("session/<int:pk>/record/bp/", record_views.record_bp_acknowledge_view, name="record_bp_acknowledge"),
    path("session/<int:pk>/record/dose/", record_views.record_dose_view, name="record_dose"),
    path("session/<int:pk>/record/vitals/", record_views.record_vitals_view, name="record_vitals"),
    path("session/<int:pk>/record/scores/", record_views.record_score_view, name="record_score"),
    path("session/<int:pk>/record/events/", record_views.record_adverse_event_view, name="record_adverse_event"),
    path(
        "session/<int:pk>/record/events/resolve/",
        record_views.record_adverse_event_resolve_view,
        name="record_adverse_event_resolve",
    ),
    path("session/<int:pk>/record/discharge/", record_views.record_discharge_view, name="record_discharge"),
    path("session/<int:pk>/record/sign/", record_views.record_sign_view, name="record_sign"),
    path("session/<int:pk>/record/amendments/", record_views.record_amend_view, name="record_amend"),
]
