"""The client's address, one way for every part of the site that records or limits by it.

Behind `PROXY_COUNT` reverse proxies, the client is the address the outermost trusted proxy saw: counting from the
right of X-Forwarded-For with REMOTE_ADDR (the nearest proxy) as the last hop. Entries further left were written
by the client itself and are never trusted, so nobody can lock out someone else's address or put another address
in the audit log. With PROXY_COUNT=0 the header is ignored. django-axes (AXES_CLIENT_IP_CALLABLE), the sign-in
throttle and the audit log's remote address all call `client_ip`.
"""

from django.conf import settings
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme
from python_ipware import IpWare


def client_ip(request) -> str | None:
    """The client address as the trusted proxies saw it; REMOTE_ADDR when there are none, or too few hops."""
    proxies = settings.PROXY_COUNT
    remote = request.META.get("REMOTE_ADDR", "")
    if not proxies:
        return remote or None
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    chain = ", ".join(part for part in (forwarded, remote) if part)
    # python-ipware counts the proxies in the chain after the client: chain[-(proxy_count + 1)], at least that long.
    ip, _ = IpWare(precedence=("HTTP_X_FORWARDED_FOR",), proxy_count=proxies).get_client_ip(
        {"HTTP_X_FORWARDED_FOR": chain}
    )
    if ip is None:  # fewer hops than proxies: the request did not come through them
        return remote or None
    return str(ip)


def safe_next(request, default: str) -> str:
    """The `next` address posted or in the query string when it is a path on this site, else `default`.

    Only a path beginning with one slash, on this host, over this request's scheme: never another site
    (`//evil.example`, `https://evil.example`, `/\\evil.example`) nor a `javascript:` address. `default` may be an
    address or the name of a view, as `redirect()` takes either.
    """
    target = request.POST.get("next") or request.GET.get("next") or ""
    # Only a path: redirect() would take any other word for the name of a view, and fail on it.
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


class NoStoreWhenSignedInMiddleware:
    """Every response to a signed-in user says `Cache-Control: no-store`: no chart, schedule or PDF stays in a
    browser's or proxy's cache for the next person at a shared computer to find with the Back button."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            add_never_cache_headers(response)  # no-cache, no-store, must-revalidate, private, max-age=0
        return response
