"""Security-relevant changes land in the same append-only, hash-chained audit log as patient data.

Recorded through models and signals, not views, so every way in is covered (the sign-in and two-factor pages, the
staff pages, the Django admin, management commands):
- users: created, and changes of role, role groups, permissions, active, staff and superuser flags, name and email
  (django-auditlog); password changes (compared with the stored hash before each save; the hash is never logged);
- authenticators (django-otp devices): added, confirmed, removed, and second-factor failures (the device's failure
  counter); the secret key and counters of each code are never logged;
- clinic settings changes;
- sign-in, sign-out, failed sign-ins (with the user name tried) and lockouts.
"""

from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.contrib.contenttypes.models import ContentType
from django.db.models.signals import post_save, pre_save

from .middleware import ClinicAuditlogMiddleware

EVENT = "event"
USER_FIELDS = ["username", "email", "first_name", "last_name", "role", "is_active", "is_staff", "is_superuser"]
# Never the key, the drift or the last time step of a device.
DEVICE_FIELDS = ["name", "user", "confirmed", "throttling_failure_count"]
DEVICE_MODELS = (
    ("django_otp.plugins.otp_totp", "otp_totp", "TOTPDevice"),
    ("django_otp.plugins.otp_static", "otp_static", "StaticDevice"),
    ("django_otp.plugins.otp_email", "otp_email", "EmailDevice"),
)


def register_models() -> None:
    User = get_user_model()
    auditlog.register(User, include_fields=USER_FIELDS, m2m_fields={"groups", "user_permissions"})
    for app_name, label, model_name in DEVICE_MODELS:
        if apps.is_installed(app_name):
            auditlog.register(apps.get_model(label, model_name), include_fields=DEVICE_FIELDS)
    auditlog.register(apps.get_model("clinic", "ClinicSettings"), exclude_fields=["updated_at"])


def connect_signals() -> None:
    User = get_user_model()
    pre_save.connect(_note_password_change, sender=User, dispatch_uid="kap_clinic.kernel.audit.note_password_change")
    post_save.connect(
        _record_password_change, sender=User, dispatch_uid="kap_clinic.kernel.audit.record_password_change"
    )
    user_logged_in.connect(_record_sign_in, dispatch_uid="kap_clinic.kernel.audit.sign_in")
    user_logged_out.connect(_record_sign_out, dispatch_uid="kap_clinic.kernel.audit.sign_out")
    user_login_failed.connect(_record_sign_in_failure, dispatch_uid="kap_clinic.kernel.audit.sign_in_failed")
    try:
        from axes.signals import user_locked_out  # optional: only where django-axes is installed
    except ImportError:  # axes is optional here
        pass
    else:
        user_locked_out.connect(_record_lockout, dispatch_uid="kap_clinic.kernel.audit.locked_out")
    try:
        from django_otp.forms import otp_verification_failed  # optional: only where django-otp is installed
    except ImportError:
        pass
    else:
        otp_verification_failed.connect(
            _record_second_factor_failure, dispatch_uid="kap_clinic.kernel.audit.otp_failed"
        )


def security_event_log(*, event: str, text: str, user=None, actor=None, request=None, action=None, **data):
    """Write one security event; about `user` when known, otherwise about the user model as a whole."""
    action = LogEntry.Action.ACCESS if action is None else action
    fields = {
        "action": action,
        "actor": actor,
        "changes_text": text,
        "additional_data": {EVENT: event, **data},
    }
    if request is not None:
        fields["remote_addr"] = ClinicAuditlogMiddleware._get_remote_addr(request)
    if user is not None and user.pk is not None:
        return LogEntry.objects.log_create(user, force_log=True, **fields)
    return LogEntry.objects.create(
        content_type=ContentType.objects.get_for_model(get_user_model()),
        object_pk="",
        object_repr="unknown user",
        **fields,
    )


def _note_password_change(sender, instance, raw=False, update_fields=None, **kwargs):
    instance._audit_password_changed = False
    if raw or instance.pk is None or (update_fields is not None and "password" not in update_fields):
        return
    stored = sender._default_manager.filter(pk=instance.pk).values_list("password", flat=True).first()
    instance._audit_password_changed = stored is not None and stored != instance.password


def _record_password_change(sender, instance, created, raw=False, **kwargs):
    if raw or not getattr(instance, "_audit_password_changed", False):
        return
    instance._audit_password_changed = False
    security_event_log(event="password_changed", text="Password changed", user=instance, action=LogEntry.Action.UPDATE)


def _record_sign_in(sender, request, user, **kwargs):
    # UPDATE, not ACCESS: signing in moves the user's last sign-in; ACCESS entries by a user are their chart reads.
    security_event_log(
        event="sign_in", text="Signed in", user=user, actor=user, request=request, action=LogEntry.Action.UPDATE
    )


def _record_sign_out(sender, request, user, **kwargs):
    if user is not None and user.is_authenticated:
        security_event_log(
            event="sign_out", text="Signed out", user=user, actor=user, request=request, action=LogEntry.Action.UPDATE
        )


def _record_sign_in_failure(sender, credentials, request=None, **kwargs):
    User = get_user_model()
    username = str(credentials.get(User.USERNAME_FIELD) or credentials.get("username") or "")[:150]
    user = User._default_manager.filter(**{User.USERNAME_FIELD: username}).first() if username else None
    security_event_log(event="sign_in_failed", text="Sign-in failed", user=user, request=request, username=username)


def _record_lockout(sender, request=None, username=None, ip_address=None, **kwargs):
    User = get_user_model()
    username = str(username or "")[:150]
    user = User._default_manager.filter(**{User.USERNAME_FIELD: username}).first() if username else None
    security_event_log(
        event="locked_out", text="Locked out after failed sign-ins", user=user, request=request, username=username
    )


def _record_second_factor_failure(sender, user=None, **kwargs):
    security_event_log(event="second_factor_failed", text="Second-factor code refused", user=user)
