from auditlog.middleware import AuditlogMiddleware
from django.conf import settings


class ClinicAuditlogMiddleware(AuditlogMiddleware):
    """Records the client address the way the lockout sees it.

    X-Forwarded-For is trusted only when PROXY_COUNT says proxies stand in front, and then only the
    entry the nearest trusted proxy added; otherwise a client could write any address into the log.
    """

    @staticmethod
    def _get_remote_addr(request):
        proxies = settings.AXES_IPWARE_PROXY_COUNT or 0
        forwarded = [part.strip() for part in request.headers.get("X-Forwarded-For", "").split(",") if part.strip()]
        if proxies and len(forwarded) >= proxies:
            return forwarded[-proxies]
        return request.META.get("REMOTE_ADDR")
