from django.urls import path

from . import portal_views, views

app_name = "sessions"

urlpatterns = [
    # The patient's portal (view only) and the calendar feed, whose address is its own credential.
    path("my-schedule/", portal_views.portal_schedule_view, name="portal_schedule"),
    path("my-schedule/<int:pk>/", portal_views.portal_session_view, name="portal_session"),
    path("my-schedule/calendar/", portal_views.portal_calendar_view, name="portal_calendar"),
    path("my-schedule/calendar/new/", portal_views.calendar_feed_create_view, name="calendar_feed_create"),
    path("my-schedule/calendar/revoke/", portal_views.calendar_feed_revoke_view, name="calendar_feed_revoke"),
    path("calendar/<str:token>.ics", portal_views.calendar_feed_view, name="calendar_feed"),
    path("enroll/<int:patient_pk>/", views.enroll_view, name="enroll"),
    path("plan/new/<int:patient_pk>/", views.plan_create_view, name="plan_create"),
    path("plan/<int:pk>/", views.plan_detail_view, name="plan_detail"),
    path("plan/<int:pk>/booster/", views.booster_book_view, name="booster_book"),
    path("session/<int:pk>/reschedule/", views.session_reschedule_view, name="session_reschedule"),
    path("session/<int:pk>/cancel/", views.session_cancel_view, name="session_cancel"),
    path("session/<int:pk>/check-in/", views.session_check_in_view, name="session_check_in"),
    path("session/<int:pk>/no-show/", views.session_no_show_view, name="session_no_show"),
    path("schedule/", views.schedule_view, name="schedule"),
]
