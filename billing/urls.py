from django.urls import path

from . import views

app_name = "billing"

urlpatterns = [
    path("payers/", views.payer_list_view, name="payer_list"),
    path("authorizations/", views.authorization_list_view, name="authorization_list"),
    path("authorizations/<int:pk>/", views.authorization_detail_view, name="authorization_detail"),
    path("authorizations/<int:pk>/edit/", views.authorization_edit_view, name="authorization_edit"),
    path("authorizations/<int:pk>/status/", views.authorization_transition_view, name="authorization_transition"),
    path("authorizations/<int:pk>/count/", views.authorization_refresh_view, name="authorization_refresh"),
    path("patients/<int:patient_pk>/authorizations/", views.patient_authorizations_view, name="patient_authorizations"),
    path("patients/<int:patient_pk>/authorizations/new/", views.authorization_create_view, name="authorization_create"),
]

from . import coverage_views  # noqa: E402 - coverage and pre-authorization pages

urlpatterns += [
    path("patients/<int:patient_pk>/coverage/", coverage_views.patient_coverage_view, name="patient_coverage"),
    path("patients/<int:patient_pk>/coverage/policies/new/", coverage_views.policy_create_view, name="policy_create"),
    path("patients/<int:patient_pk>/coverage/self-pay/", coverage_views.self_pay_view, name="self_pay"),
    path("policies/<int:pk>/edit/", coverage_views.policy_edit_view, name="policy_edit"),
    path(
        "patients/<int:patient_pk>/authorizations/assemble/",
        coverage_views.preauth_assemble_view,
        name="preauth_assemble",
    ),
    path("authorizations/<int:pk>/submit/", coverage_views.authorization_submit_view, name="authorization_submit"),
    path("authorizations/<int:pk>/packet/", coverage_views.authorization_packet_view, name="authorization_packet"),
    path("preauthorization/work/", coverage_views.preauth_work_view, name="preauth_work"),
    path("preauthorization/work/<int:pk>/done/", coverage_views.preauth_work_done_view, name="preauth_work_done"),
]
from .ledger_urls import urlpatterns as ledger_urlpatterns  # noqa: E402 (the patient ledger's pages)

urlpatterns += ledger_urlpatterns
