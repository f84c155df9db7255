from auditlog.middleware import AuditlogMiddleware

from kap_clinic.kernel.http import client_ip


class ClinicAuditlogMiddleware(AuditlogMiddleware):
    """Records the client address the way the lockout sees it (kap_clinic.kernel.http.client_ip).

    X-Forwarded-For is trusted only when PROXY_COUNT says proxies stand in front, and then only the
    entry the outermost trusted proxy added; otherwise a client could write any address into the log.
    """

    @staticmethod
    def _get_remote_addr(request):
        return client_ip(request)
