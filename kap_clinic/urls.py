from django.conf import settings
from django.contrib import admin
from django.http import HttpResponse
from django.urls import include, path

from kap_clinic.kernel.accounts.views import admin_login_view
from patients.views import invite_accept_view
from sessions.confirm_views import confirm_view as session_confirm_view
from sessions.portal_views import calendar_feed_view

handler500 = "kap_clinic.kernel.errors.server_error"

admin.site.site_header = "KAP Clinic administration"
admin.site.site_title = "KAP Clinic"
# The back office links home as "Back to the clinic" (templates/admin/base_site.html) instead of "View site".
admin.site.site_url = None

urlpatterns = [
    # The back office signs in through the clinic's own sign-in (lockout and two-factor apply); a signed-in
    # user it does not admit gets 403 instead of a sign-in loop.
    path("admin/login/", admin_login_view),
    path("admin/", admin.site.urls),
    # The portal invitation's set-password page, at the address invitation emails already carry.
    path("accounts/invite/<str:token>/", invite_accept_view, name="invite_accept"),
    path("accounts/", include("kap_clinic.kernel.accounts.urls")),
    # Pages that gather several apps (homes, the staff chart, the patient's schedule), at the addresses they had.
    path("", include("kap_clinic.homes.urls")),
    path("patients/", include("patients.urls")),
    path("screening/", include("screening.urls")),
    path("treatment/", include("sessions.urls")),
    # The patient's calendar feed at an address that names no treatment (the one under treatment/ still works).
    path("calendar/<str:token>.ics", calendar_feed_view, name="calendar_feed"),
    path("aftercare/", include("aftercare.urls")),
    # The link in a dosing reminder, at an address that names no treatment.
    path("reminders/confirm/<str:token>/", session_confirm_view, name="session_confirm"),
    path("reminders/", include("kap_clinic.kernel.notifications.urls")),
    path("billing/", include("billing.urls")),
    path("exports/", include("kap_clinic.reports.export_urls")),
    path("reports/", include("kap_clinic.reports.urls")),
    path("", include("kap_clinic.kernel.clinic.urls")),
]

if settings.BENCH_BARE_VIEW:
    # The load benchmark's yardstick: a page doing nothing, served through the same middleware as every other.
    def bench_bare_view(request):
        return HttpResponse("ok", content_type="text/plain")

    urlpatterns.append(path("bench/bare/", bench_bare_view))
