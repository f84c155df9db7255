from django.urls import path

from . import portal_views
from .consent import views as consent_views
from .controlled import views as controlled_views
from .record import views as record_views
from .rems import views as rems_views
from .scheduling import views

app_name = "sessions"

urlpatterns = [
    # The patient's portal (view only; the schedule page is in kap_clinic/homes) and the calendar feed, whose
    # address is its own credential.
    path("my-schedule/<int:pk>/", portal_views.portal_session_view, name="portal_session"),
    path("my-schedule/calendar/", portal_views.portal_calendar_view, name="portal_calendar"),
    path("my-schedule/calendar/new/", portal_views.calendar_feed_create_view, name="calendar_feed_create"),
    path("my-schedule/calendar/revoke/", portal_views.calendar_feed_revoke_view, name="calendar_feed_revoke"),
    path("calendar/<str:token>.ics", portal_views.calendar_feed_view, name="calendar_feed"),
    # Informed consent: versioned forms per route, accepted in the portal or recorded by staff with a scan.
    path("my-consent/", consent_views.portal_consent_view, name="portal_consent"),
    path("my-consent/<int:pk>/accept/", consent_views.portal_consent_accept_view, name="portal_consent_accept"),
    path("patient/<int:patient_pk>/consent/", consent_views.patient_consent_view, name="patient_consent"),
    path(
        "patient/<int:patient_pk>/consent/record/",
        consent_views.patient_consent_record_view,
        name="patient_consent_record",
    ),
    path("consent/scan/<int:pk>/", consent_views.consent_scan_view, name="consent_scan"),
    path("enroll/<int:patient_pk>/", views.enroll_view, name="enroll"),
    path("plan/new/<int:patient_pk>/", views.plan_create_view, name="plan_create"),
    path("plan/<int:pk>/", views.plan_detail_view, name="plan_detail"),
    path("plan/<int:pk>/booster/", views.booster_book_view, name="booster_book"),
    path("session/<int:pk>/reschedule/", views.session_reschedule_view, name="session_reschedule"),
    path("session/<int:pk>/cancel/", views.session_cancel_view, name="session_cancel"),
    path("session/<int:pk>/dose/", views.session_dose_view, name="session_dose"),
    path("session/<int:pk>/check-in/", views.session_check_in_view, name="session_check_in"),
    path("session/<int:pk>/check-in/undo/", views.session_check_in_undo_view, name="session_check_in_undo"),
    path("session/<int:pk>/no-show/", views.session_no_show_view, name="session_no_show"),
    path("schedule/", views.schedule_view, name="schedule"),
    # Spravato REMS Patient Monitoring Form
    path("session/<int:pk>/rems/", rems_views.rems_detail_view, name="rems_detail"),
    path("session/<int:pk>/rems/edit/", rems_views.rems_edit_view, name="rems_edit"),
    path("session/<int:pk>/rems/sign/", rems_views.rems_sign_view, name="rems_sign"),
    path("session/<int:pk>/rems/submitted/", rems_views.rems_submit_view, name="rems_submit"),
    path("session/<int:pk>/rems/form.pdf", rems_views.rems_pdf_view, name="rems_pdf"),
    path("rems/pending/", rems_views.rems_pending_view, name="rems_pending"),
    # Controlled-substance log
    path("controlled/", controlled_views.cs_lot_list_view, name="cs_lot_list"),
    path("controlled/receive/", controlled_views.cs_receive_view, name="cs_receive"),
    path("controlled/lot/<int:pk>/", controlled_views.cs_lot_log_view, name="cs_lot_log"),
    path("controlled/lot/<int:pk>/reconcile/", controlled_views.cs_reconcile_view, name="cs_reconcile"),
    path("session/<int:pk>/controlled-dose/", controlled_views.cs_dose_record_view, name="cs_dose_record"),
    # The session record on the day: one page, one POST endpoint per step.
    path("session/<int:pk>/record/", record_views.record_detail_view, name="record_detail"),
    path("session/<int:pk>/record/checks/", record_views.record_check_view, name="record_check"),
    path("session/<int:pk>/record/bp/", record_views.record_bp_acknowledge_view, name="record_bp_acknowledge"),
    path("session/<int:pk>/record/dose/", record_views.record_dose_view, name="record_dose"),
    path("session/<int:pk>/record/risk/", record_views.record_risk_acknowledge_view, name="record_risk_acknowledge"),
    path("session/<int:pk>/record/dosing-end/", record_views.record_dosing_end_view, name="record_dosing_end"),
    path("session/<int:pk>/record/top-up/", record_views.record_top_up_view, name="record_top_up"),
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
