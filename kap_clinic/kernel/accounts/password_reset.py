"""A patient who forgot their portal password gets a single-use link by email (Django's reset views and tokens).

Only active patient accounts with a password get a link: staff accounts are reset by a clinic admin (and need their
authenticator as well), and a patient still holding an invitation uses that. The page answers the same whether or not
the address belongs to anyone. The email leaves through the outbox (sent once, even if the broker is down), each
address gets at most PASSWORD_RESET_PER_HOUR links an hour, and requests and completed resets are in the audit log.
"""

import secrets

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordResetForm
from django.template.loader import render_to_string
from django.urls import reverse_lazy

from kap_clinic.kernel.audit.services import record_security_event
from kap_clinic.kernel.http import client_ip
from kap_clinic.kernel.outbox.services import email_outbox_send
from kap_clinic.kernel.validation import BoundedInput

from .models import User
from .roles import Role
from .throttle import Throttle


def _throttle() -> Throttle:
    return Throttle("password-reset", settings.PASSWORD_RESET_PER_HOUR, 3600)


class PatientPasswordResetForm(BoundedInput, PasswordResetForm):
    def get_users(self, email):
        return (
            user
            for user in super().get_users(email)
            if user.role == Role.PATIENT and getattr(user, "patient", None) is not None
        )

    def send_mail(self, subject_template_name, email_template_name, context, from_email, to_email, **kwargs):
        user: User = context["user"]
        ctx = {**context, "clinic_name": settings.CLINIC_NAME, "hours": settings.PASSWORD_RESET_TIMEOUT // 3600}
        email_outbox_send(
            to=to_email,
            subject=render_to_string(subject_template_name, ctx),
            text=render_to_string(email_template_name, ctx),
            kind="password_reset",
            key=f"password-reset-{user.pk}-{secrets.token_hex(8)}",
        )
        record_security_event(obj=user, event="password reset link emailed")


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset_form.html"
    form_class = PatientPasswordResetForm
    subject_template_name = "accounts/email/password_reset_subject.txt"
    email_template_name = "accounts/email/password_reset_body.txt"
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form):
        address = client_ip(self.request)
        throttle = _throttle()
        if throttle.is_blocked(address):
            return super(auth_views.PasswordResetView, self).form_valid(form)  # the same answer, nothing sent
        throttle.fail(address)
        form.save(
            domain_override=None,
            use_https=self.request.is_secure(),
            request=self.request,
            subject_template_name=self.subject_template_name,
            email_template_name=self.email_template_name,
            from_email=self.from_email,
            extra_email_context={"site_url": settings.SITE_URL.rstrip("/")},
        )
        return super(auth_views.PasswordResetView, self).form_valid(form)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")

    def form_valid(self, form):
        response = super().form_valid(form)
        record_security_event(obj=form.user, event="password set through a reset link")
        return response


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"
