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

from .ledger_urls import urlpatterns as ledger_urlpatterns  # noqa: E402 (the patient ledger's pages)

urlpatterns += ledger_urlpatterns
