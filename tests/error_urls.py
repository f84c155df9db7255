"""A URL configuration with a view that fails, for tests of the 500 page and error mail (tests/test_hardening.py)."""

from django.urls import include, path


def boom(request, token):
    raise RuntimeError("simulated failure")


urlpatterns = [
    path("treatment/calendar/<str:token>.ics", boom),
    path("", include("kap_clinic.urls")),
]
handler500 = "kap_clinic.kernel.errors.server_error"
