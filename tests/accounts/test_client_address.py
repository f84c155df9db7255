"""The client address behind the proxy (kap_clinic.kernel.http.client_ip): one answer for the lockout, the sign-in
throttle and the audit log, which a client cannot forge by writing X-Forwarded-For itself."""

import pytest
from axes.helpers import get_client_ip_address
from django.test import RequestFactory

from kap_clinic.kernel.audit.middleware import ClinicAuditlogMiddleware
from kap_clinic.kernel.http import client_ip

rf = RequestFactory()


def request_from(remote: str, forwarded: str | None = None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return rf.get("/", **extra)


@pytest.mark.parametrize(
    ("proxies", "remote", "forwarded", "expected"),
    [
        # No proxy: the header is the client's own words and is ignored.
        (0, "203.0.113.7", "198.51.100.1", "203.0.113.7"),
        # One proxy (nginx appends the address it saw): the last entry is the client.
        (1, "10.0.0.2", "198.51.100.9", "198.51.100.9"),
        # ... and entries the client wrote before it are not trusted.
        (1, "10.0.0.2", "192.0.2.66, 198.51.100.9", "198.51.100.9"),
        # Two proxies (a load balancer, then nginx): the entry the outer one added.
        (2, "10.0.0.2", "192.0.2.66, 198.51.100.9, 10.0.0.1", "198.51.100.9"),
        # A request that bypassed the proxy (no header) is known by its own address.
        (1, "198.51.100.20", None, "198.51.100.20"),
        # Garbage where a client wrote it does not shift the trusted hop.
        (1, "10.0.0.2", "not-an-ip, 198.51.100.9", "198.51.100.9"),
    ],
)
def test_the_client_address_counts_only_trusted_proxies(settings, proxies, remote, forwarded, expected):
    settings.PROXY_COUNT = proxies
    request = request_from(remote, forwarded)
    assert client_ip(request) == expected
    assert get_client_ip_address(request) == expected  # django-axes asks the same function
    assert ClinicAuditlogMiddleware._get_remote_addr(request) == expected  # and so does the audit log


def test_axes_is_configured_with_the_clinic_function_and_ipware_is_installed(settings):
    import ipware  # noqa: F401 - django-axes[ipware]

    assert settings.AXES_CLIENT_IP_CALLABLE == "kap_clinic.kernel.http.client_ip"
