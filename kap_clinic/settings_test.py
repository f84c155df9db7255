"""Test overrides, in one place: fast hashing, in-memory mail, plain HTTP for the live server.

The database and broker still come from DATABASE_URL / REDIS_URL, so CI runs the suite on
real PostgreSQL and Redis.
"""

import os

os.environ.setdefault("SECRET_KEY", "test-only-" + "k" * 60)
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("SECURE_COOKIES", "false")

from kap_clinic.settings import *  # noqa: E402,F403
from kap_clinic.settings import STORAGES  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SMS_BACKEND = "kap_clinic.kernel.notifications.backends.LocmemSmsBackend"
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
# Tasks run in-process; tests/test_worker.py switches this off and starts a real worker on Redis.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
# Process memory, cleared before each test (tests/conftest.py): a Redis cache would be shared with the broker's
# database, which clearing would wipe. tests/test_settings.py checks production gets Redis.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Uploaded scans land in a throwaway folder, never beside the code.
import tempfile  # noqa: E402

PRIVATE_MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="kap-test-private-"))  # noqa: F405
