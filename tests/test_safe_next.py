"""The one `next` check of the site: a path on this site, or the default."""

import pytest
from django.test import RequestFactory

from kap_clinic.kernel.http import safe_next

HOSTILE = [
    "//evil.example",
    "//evil.example/path",
    "https://evil.example",
    "http://evil.example/",
    "/\\evil.example",
    "\\\\evil.example",
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    " //evil.example",
    "/\t/evil.example",
    "https://testserver/patients/",  # this host, but a full address: only paths are taken
    "patients:list",  # a view name would be resolved by redirect(): never taken from the request
    "",
]


@pytest.mark.parametrize("target", HOSTILE)
@pytest.mark.parametrize("method", ["get", "post"])
def test_a_hostile_next_gives_the_default(target, method):
    request = getattr(RequestFactory(), method)("/somewhere/", {"next": target})

    assert safe_next(request, "/home/") == "/home/"


@pytest.mark.parametrize("target", ["/", "/patients/12/", "/sessions/schedule/?day=2026-12-07#row-3"])
def test_a_path_on_this_site_is_kept(target):
    assert safe_next(RequestFactory().post("/x/", {"next": target}), "/home/") == target
    assert safe_next(RequestFactory().get("/x/", {"next": target}), "/home/") == target


def test_without_next_the_default_may_be_a_view_name():
    assert safe_next(RequestFactory().get("/x/"), "homes:home") == "homes:home"
