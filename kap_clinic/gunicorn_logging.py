"""gunicorn's access log without secrets: every atom of the log line (request line, path, query, referrer) is
redacted by kap_clinic.kernel.logs.redact before it is formatted. Used by gunicorn.conf.py (`logger_class`)."""

from gunicorn.glogging import Logger

from kap_clinic.kernel.logs import redact


class RedactingLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        values = super().atoms(resp, req, environ, request_time)
        return {key: redact(value) if isinstance(value, str) else value for key, value in values.items()}
