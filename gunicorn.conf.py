"""gunicorn settings for the site (Dockerfile and docker-compose.yml run `gunicorn -c gunicorn.conf.py`).

The access log goes to stdout without credentials in URL paths (calendar feeds, confirmation, invitation,
password-reset and two-factor reset links are redacted: kap_clinic.gunicorn_logging). GUNICORN_BIND and
WEB_CONCURRENCY override the address and the number of workers.
"""

import os

wsgi_app = "kap_clinic.wsgi:application"
bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
# Address, time, method, path (no query string), status, bytes, seconds.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(B)s %(L)s'
logger_class = "kap_clinic.gunicorn_logging.RedactingLogger"
