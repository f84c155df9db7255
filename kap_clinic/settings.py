"""KAP Clinic settings: every value comes from the environment, with defaults that fail safe.

Unset, the site runs on embedded services (SQLite, a filesystem broker) so `make run` needs
nothing installed; production sets DATABASE_URL, REDIS_URL, SECRET_KEY and DEBUG=false.
"""

import os
import zoneinfo
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
RUN_DIR = BASE_DIR / ".run"


# Environment values that could not be read, as (name, value, what was expected): the site still starts, on the
# default, and `manage.py check` reports each as an error (kap_clinic/kernel/checks.py).
ENV_PROBLEMS: list[tuple[str, str, str]] = []


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        return int(value.strip())
    except ValueError:
        ENV_PROBLEMS.append((name, value, "a whole number"))
        return default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", default=False)

DEV_ONLY_KEY = "dev-only-insecure-key-never-used-when-debug-is-off"
SECRET_KEY = os.environ.get("SECRET_KEY") or (DEV_ONLY_KEY if DEBUG else "")
if not SECRET_KEY or (not DEBUG and (SECRET_KEY == DEV_ONLY_KEY or len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5)):
    raise ImproperlyConfigured("Set SECRET_KEY to a random value of at least 50 characters.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

CLINIC_NAME = os.environ.get("CLINIC_NAME", "KAP Clinic")
# The clinic's telephone number, given to patients with the crisis lines on the pages where they answer questionnaires.
# The site's own address, for links in emails and calendar feeds.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")
PATIENT_INVITE_HOURS = env_int("PATIENT_INVITE_HOURS", 72)
# The certified healthcare setting as the Spravato REMS knows it: prefilled on each Patient Monitoring Form.
REMS_SETTING_NAME = os.environ.get("REMS_SETTING_NAME", CLINIC_NAME)
REMS_SETTING_ADDRESS1 = os.environ.get("REMS_SETTING_ADDRESS1", "")
REMS_SETTING_ADDRESS2 = os.environ.get("REMS_SETTING_ADDRESS2", "")
REMS_SETTING_CITY = os.environ.get("REMS_SETTING_CITY", "")
REMS_SETTING_STATE = os.environ.get("REMS_SETTING_STATE", "")
REMS_SETTING_ZIP = os.environ.get("REMS_SETTING_ZIP", "")
REMS_SETTING_PHONE = os.environ.get("REMS_SETTING_PHONE", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",  # backup codes
    "auditlog",
    "kap_clinic.kernel.accounts",
    "kap_clinic.kernel.audit",
    "kap_clinic.kernel.clinic",
    "kap_clinic.kernel.notifications",
    "kap_clinic.kernel.outbox",
    "patients",
    "screening",
    "sessions.apps.SessionsConfig",
    "aftercare",
    "billing",
    "kap_clinic.homes",
    "kap_clinic.reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "kap_clinic.kernel.http.NoStoreWhenSignedInMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # NUL characters and oversized values get a 400 with a plain message before any view sees them.
    "kap_clinic.kernel.validation.RejectBadInputMiddleware",
    "kap_clinic.kernel.accounts.middleware.SessionLifetimeMiddleware",
    "kap_clinic.kernel.accounts.middleware.TwoFactorRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "kap_clinic.kernel.audit.middleware.ClinicAuditlogMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "kap_clinic.urls"
# `make bench` serves a one-line page beside the real ones (kap_clinic/urls.py) to compare them with; off otherwise.
BENCH_BARE_VIEW = env_bool("BENCH_BARE_VIEW", default=False)
WSGI_APPLICATION = "kap_clinic.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "kap_clinic.kernel.clinic.context_processors.clinic",
            ],
            # `{% url %}` that works out a row link's address once per page kind (kap_clinic/kernel/urltags.py).
            "builtins": ["kap_clinic.kernel.urltags"],
        },
    },
]

# Database: SQLite beside the code unless DATABASE_URL names another.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded demo has the site, a worker and beat writing to one file at once. Write-ahead logging lets readers
    # go on while one writes; IMMEDIATE transactions take the write lock when they begin, so a writer waits its turn
    # (up to the timeout, in seconds) instead of failing with "database is locked" when a read turns into a write.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
# A chart view and its audit entry commit together, or not at all.
DATABASES["default"]["ATOMIC_REQUESTS"] = True
# A kept-open connection is checked before a request reuses it: the first request after a database restart
# reconnects instead of failing.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# PostgreSQL roles: the site and workers connect (DATABASE_URL) as a runtime role that cannot rewrite the audit trail;
# `migrate` runs as the owner; DATABASE_RUNTIME_ROLE names the role it then grants
# (kap_clinic/kernel/audit/privileges.py) and DATABASE_RUNTIME_PASSWORD, when set, creating that role or setting its
# password. Unset: no grants (SQLite).
DATABASE_RUNTIME_ROLE = os.environ.get("DATABASE_RUNTIME_ROLE", "")
DATABASE_RUNTIME_PASSWORD = os.environ.get("DATABASE_RUNTIME_PASSWORD", "")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Patients' forgotten-password links (kap_clinic.kernel.accounts.password_reset): how long one works, and how many one
# address may ask for in an hour.
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_HOURS", 2) * 3600
PASSWORD_RESET_PER_HOUR = env_int("PASSWORD_RESET_PER_HOUR", 5)
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "homes:home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Sessions: signed out after SESSION_IDLE_MINUTES without a request, and after
# SESSION_MAX_HOURS in any case (kap_clinic.kernel.accounts.middleware enforces both).
SESSION_IDLE_MINUTES = env_int("SESSION_IDLE_MINUTES", 15)
SESSION_MAX_HOURS = env_int("SESSION_MAX_HOURS", 12)
SESSION_COOKIE_AGE = SESSION_MAX_HOURS * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

# Lockout after repeated failures for one user from one address (django-axes).
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_USERNAME_FORM_FIELD = "username"
# Reverse proxies in front of the site: kap_clinic.kernel.http.client_ip trusts exactly that many X-Forwarded-For hops,
# for the lockout, the sign-in throttle and the audit log alike.
PROXY_COUNT = env_int("PROXY_COUNT", 0)
AXES_CLIENT_IP_CALLABLE = "kap_clinic.kernel.http.client_ip"
AXES_IPWARE_PROXY_COUNT = PROXY_COUNT or None
AXES_VERBOSE = False
# Password spraying (one password, many usernames) from one address: refused after this many failed sign-ins
# from it within the window, whatever the usernames (kap_clinic.kernel.accounts.throttle).
LOGIN_IP_FAILURE_LIMIT = env_int("LOGIN_IP_FAILURE_LIMIT", 30)
LOGIN_IP_WINDOW_MINUTES = env_int("LOGIN_IP_WINDOW_MINUTES", 15)
# Wrong witness passwords on the controlled-substance log, per witness, before the witness check waits (no lockout
# of the witness's own sign-in).
WITNESS_FAILURE_LIMIT = env_int("WITNESS_FAILURE_LIMIT", 5)
WITNESS_WINDOW_MINUTES = env_int("WITNESS_WINDOW_MINUTES", 15)

# Two-factor: always for admins and clinicians; for intake staff when the clinic says so.
OTP_TOTP_ISSUER = CLINIC_NAME
OTP_ADMIN_HIDE_SENSITIVE_DATA = True  # no authenticator key or backup code in the Django admin
REQUIRE_2FA_FOR_INTAKE_DEFAULT = env_bool("REQUIRE_2FA_FOR_INTAKE", default=True)

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "America/New_York")
try:
    zoneinfo.ZoneInfo(TIME_ZONE)
except (zoneinfo.ZoneInfoNotFoundError, ValueError):
    ENV_PROBLEMS.append(("TIME_ZONE", TIME_ZONE, "a known time zone (an IANA name such as America/New_York)"))
    TIME_ZONE = "America/New_York"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Uploads only staff may read (scanned consent forms): outside STATIC and MEDIA, served by access-checked views only.
PRIVATE_MEDIA_ROOT = Path(os.environ.get("PRIVATE_MEDIA_ROOT", BASE_DIR / "private_media"))

# Reports (kap_clinic/reports): the paper size of printed reports ("letter" or "a4"), how many rows a report may hold
# before it is produced in the background, and how long a background report's file is kept (in PRIVATE_MEDIA_ROOT).
REPORT_PAGE_SIZE = os.environ.get("REPORT_PAGE_SIZE", "letter")
REPORT_BACKGROUND_ROWS = env_int("REPORT_BACKGROUND_ROWS", 300)
REPORT_KEEP_HOURS = env_int("REPORT_KEEP_HOURS", 24)

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Email
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=True)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "clinic@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Who gets error mail (a 500's traceback, secrets in paths redacted): comma-separated addresses. Empty, the error
# page does not claim anyone was told.
ADMINS = [(address, address) for address in env_list("ADMINS")]
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(RUN_DIR / "mail"))
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)

# Text messages: a backend class path. Console in development; unset in production, so a missing provider shows as
# a failed reminder instead of a silent success.
# kap_clinic.kernel.notifications.backends.TwilioSmsBackend is the provider.
SMS_BACKEND = os.environ.get(
    "SMS_BACKEND", "kap_clinic.kernel.notifications.backends.ConsoleSmsBackend" if DEBUG else ""
)
SMS_FILE_PATH = os.environ.get("SMS_FILE_PATH", str(RUN_DIR / "sms" / "outbox.jsonl"))
TWILIO_ACCOUNT_SID = os.environ.get("TWILIO_ACCOUNT_SID", "")
TWILIO_AUTH_TOKEN = os.environ.get("TWILIO_AUTH_TOKEN", "")
TWILIO_FROM_NUMBER = os.environ.get("TWILIO_FROM_NUMBER", "")

# Reminders: no message between these wall-clock times in TIME_ZONE (the window may cross midnight).
REMINDER_QUIET_START = os.environ.get("REMINDER_QUIET_START", "21:00")
REMINDER_QUIET_END = os.environ.get("REMINDER_QUIET_END", "08:00")
# A reminder left in `sending` this long is settled through the backend's idempotency key. Longer than any send
# can take (EMAIL_TIMEOUT, the SMS provider's 20 s), so a slow send is never mistaken for a crash.
REMINDER_SENDING_LEASE_SECONDS = env_int("REMINDER_SENDING_LEASE_SECONDS", 600)
REMINDER_REQUEUE_SECONDS = env_int("REMINDER_REQUEUE_SECONDS", 300)
REMINDER_MAX_ATTEMPTS = env_int("REMINDER_MAX_ATTEMPTS", 5)
REMINDER_RETRY_BASE_SECONDS = env_int("REMINDER_RETRY_BASE_SECONDS", 60)
REMINDER_CONFIRM_LINK_DAYS = env_int("REMINDER_CONFIRM_LINK_DAYS", 4)

# Prior authorizations: front-office staff are warned this many days before one ends, and once this share of its
# units is used (docs/clinical-references.md#prior-authorization suggests 14 days and 80 %).
AUTHORIZATION_WARN_DAYS = env_int("AUTHORIZATION_WARN_DAYS", 14)
AUTHORIZATION_WARN_UNITS_PERCENT = env_int("AUTHORIZATION_WARN_UNITS_PERCENT", 80)
# Pre-authorization requests (billing/preauth): how packets reach payers (name -> dotted path of the channel), the
# channel used when a payer names none, tries before a submission is given up, and how many days before an
# authorization's last day staff are asked to request a renewal.
PREAUTH_CHANNELS = {
    "outbox": "billing.preauth.channels.outbox_channel",
    "test": "billing.preauth.channels.test_channel",
}
PREAUTH_DEFAULT_CHANNEL = os.environ.get("PREAUTH_DEFAULT_CHANNEL", "outbox")
PREAUTH_MAX_ATTEMPTS = env_int("PREAUTH_MAX_ATTEMPTS", 5)
PREAUTH_RENEWAL_DAYS = env_int("PREAUTH_RENEWAL_DAYS", 21)

# Celery: Redis when REDIS_URL is set; otherwise a broker that needs no server (make run's default).
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
else:
    _broker_dir = RUN_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
# One cache for every process: the sign-in throttle and the calendar feed's rate limit must count across gunicorn
# workers. Redis (CACHE_URL, else REDIS_URL) in production; process memory only without Redis (make run).
CACHE_URL = os.environ.get("CACHE_URL") or REDIS_URL
if CACHE_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": "kap-cache",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE = {
    "record-worker-heartbeat": {
        "task": "kap_clinic.kernel.clinic.tasks.record_worker_heartbeat",
        "schedule": 60.0,
        "args": ("beat",),
    },
    "release-due-reminders": {
        "task": "kap_clinic.kernel.notifications.tasks.release_due_reminders",
        "schedule": 60.0,
    },
    "release-outbox-emails": {
        "task": "kap_clinic.kernel.outbox.tasks.release_outbox_emails",
        "schedule": 60.0,
    },
    "release-preauth-submissions": {
        "task": "billing.preauth.release_submissions",
        "schedule": 60.0,
    },
    "preauth-follow-ups": {
        "task": "billing.preauth.follow_ups",
        "schedule": crontab(hour=5, minute=40),
    },
    # Early in the clinic's day (CELERY_TIMEZONE), so the warnings are on the front desk's home page when it opens.
    "check-authorizations": {
        "task": "billing.tasks.check_authorizations",
        "schedule": crontab(hour=5, minute=30),
    },
    # Self-pay patients' good-faith estimates due today or late (No Surprises Act deadlines).
    "alert-estimates-due": {
        "task": "billing.tasks.alert_estimates_due",
        "schedule": crontab(hour=5, minute=50),
    },
    "warn-rems-forms-due": {
        "task": "sessions.tasks.warn_rems_forms_due",
        "schedule": crontab(hour=6, minute=0),
    },
    "close-overdue-checkins": {
        "task": "aftercare.tasks.checkins_close_overdue",
        "schedule": 3600.0,
    },
    # Expired report files deleted; report jobs a broker outage left waiting queued again.
    "sweep-report-jobs": {
        "task": "kap_clinic.reports.tasks.report_jobs_sweep",
        "schedule": 300.0,
    },
}

# Audit: each model holding patient data registers with django-auditlog in its own models.py.
AUDITLOG_DISABLE_REMOTE_ADDR = False

# Security headers. Production (DEBUG off) gets HTTPS-only cookies, HSTS and a strict CSP.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("BEHIND_TLS_PROXY", default=not DEBUG):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    },
}

# Logs carry ids, never names or clinical detail; request bodies and query strings are not logged.
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
# Credentials in URL paths (calendar feeds, confirmation, invitation and reset links) are redacted by every handler
# (kap_clinic.kernel.logs); runserver's request log (django.server) is redefined here only to add that filter.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact_secrets": {"()": "kap_clinic.kernel.logs.RedactSecretsFilter"},
        "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact_secrets"]},
        "django.server": {
            "class": "logging.StreamHandler",
            "formatter": "django.server",
            "filters": ["redact_secrets"],
            "level": "INFO",
        },
        "mail_admins": {
            "class": "kap_clinic.kernel.logs.RedactingAdminEmailHandler",
            "filters": ["require_debug_false"],
            "level": "ERROR",
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django's own error mail to ADMINS (none when ADMINS is empty), with secrets redacted.
        "django": {"handlers": ["mail_admins"], "level": "INFO"},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
