import base64
from io import BytesIO
from urllib.parse import urlencode

import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp import user_has_device

from kap_clinic.kernel.forms import form_submit, message_validation_error
from kap_clinic.kernel.http import client_ip, safe_next
from kap_clinic.kernel.paging import page_of

from . import selectors, services
from .decorators import permission_required
from .forms import (
    BoundedPasswordChangeForm,
    PasswordAgainForm,
    ReplaceDeviceForm,
    SignInForm,
    StaffCreateForm,
    StaffForm,
    TokenForm,
    VerifyForm,
)
from .roles import MANAGE_STAFF

STAFF_PER_PAGE = 50


class SignInView(auth_views.LoginView):
    """Sign-in, with django-axes' per-user-and-address lockout and a per-address limit against password spraying."""

    template_name = "accounts/login.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        if services.sign_in_throttle().is_blocked(client_ip(request)):
            return render(request, "accounts/locked_out.html", {"by_address": True}, status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        services.sign_in_throttle().fail(client_ip(self.request))
        return super().form_invalid(form)


class SignOutView(auth_views.LogoutView):
    pass


@login_required
def two_factor_verify_view(request):
    if request.user.is_verified() or not user_has_device(request.user):
        return redirect(safe_next(request, "homes:home"))
    form = VerifyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if services.second_factor_verify(request=request, user=request.user, token=form.cleaned_data["token"]):
            return redirect(safe_next(request, "homes:home"))
        form.add_error("token", "That code is not valid. Wait for a new one and try again.")
    status = 400 if form.errors else 200
    return render(request, "accounts/two_factor_verify.html", {"form": form}, status=status)


@never_cache  # the page shows a new key, and its answer the backup codes
@login_required
def two_factor_setup_view(request):
    """Add an authenticator: the account's first, a replacement (verified session and password), or by reset link."""
    mode = services.enrolment_mode(request)
    if mode is None:
        if request.user.is_clinic_staff:  # has one already and has not entered its code: that comes first
            return redirect(f"{reverse('accounts:two_factor_verify')}?{urlencode({'next': request.get_full_path()})}")
        raise PermissionDenied
    device = services.totp_candidate(request=request)
    form = (ReplaceDeviceForm if mode == "replace" else TokenForm)(request.POST or None)
    if request.method == "POST" and form_submit(form, services.totp_device_add, request=request).done:
        codes = services.backup_codes_after_enrolment(user=request.user)
        messages.success(request, "Two-factor sign-in is set up.")
        if codes:
            ctx = {"codes": codes, "next": safe_next(request, reverse("homes:home"))}
            return render(request, "accounts/backup_codes_new.html", ctx)
        return redirect(safe_next(request, "homes:home"))
    ctx = {
        "form": form,
        "mode": mode,
        "qr_svg": _qr_data_uri(device.config_url),
        "secret": services.totp_candidate_secret(device),
    }
    return render(request, "accounts/two_factor_setup.html", ctx, status=400 if form.errors else 200)


@login_required
def two_factor_reset_view(request, token):
    """The link an admin's reset emailed: in a session signed in with the account's own password, it opens set-up."""
    if services.two_factor_reset_open(request=request, token=token) is None:
        return render(request, "accounts/two_factor_reset_invalid.html", status=404)
    messages.info(
        request, "Set up your new authenticator. Your old one and its backup codes stop working once you confirm."
    )
    return redirect("accounts:two_factor_setup")


@never_cache
@login_required
def backup_codes_view(request):
    """Backup codes: how many are left, and new ones (the old ones stop working) after the password again."""
    user = request.user
    if not user.is_clinic_staff:
        raise PermissionDenied
    if not user.is_verified():  # staff who need no second factor and have none yet may set one up
        return redirect("accounts:two_factor_setup")
    form = PasswordAgainForm(request.POST or None)
    if request.method == "POST":
        sent = form_submit(form, services.backup_codes_generate, request=request)
        if sent.done:
            ctx = {"codes": sent.result, "next": reverse("homes:home")}
            return render(request, "accounts/backup_codes_new.html", ctx)
    ctx = {"form": form, "remaining": services.backup_codes_remaining(user=user)}
    return render(request, "accounts/backup_codes.html", ctx, status=400 if form.errors else 200)


def _qr_data_uri(text: str) -> str:
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    form_class = BoundedPasswordChangeForm
    success_url = "/"

    def form_valid(self, form):
        messages.success(self.request, "Your password was changed.")
        return super().form_valid(form)


def admin_login_view(request):
    """The Django admin's sign-in: the clinic's own for visitors; a signed-in user it does not admit is refused.

    Sending them to sign in again would only bring them back here, in a loop.
    """
    if not request.user.is_authenticated:
        return redirect(f"{reverse('accounts:login')}?{request.GET.urlencode()}")
    if request.user.is_active and request.user.is_staff:
        return redirect("admin:index")
    raise PermissionDenied


# --- Staff accounts (clinic admins) ---------------------------------------------------------------------------------


@permission_required(MANAGE_STAFF)
def staff_list_view(request):
    page = page_of(request, selectors.staff_list_for_user(request.user), STAFF_PER_PAGE)
    return render(request, "accounts/staff_list.html", {"staff": page.object_list, "page": page})


@permission_required(MANAGE_STAFF)
def staff_create_view(request):
    form = StaffCreateForm(request.POST or None)
    if request.method == "POST":
        sent = form_submit(form, services.staff_create, only=[*form.Meta.fields, "password"], by=request.user)
        if sent.done:
            messages.success(request, "Account created. They set up their authenticator when they first sign in.")
            return redirect("accounts:staff_edit", pk=sent.result.pk)
    return render(request, "accounts/staff_form.html", {"form": form}, status=400 if form.errors else 200)


@permission_required(MANAGE_STAFF)
def staff_edit_view(request, pk):
    staff = selectors.get_staff_for_user(request.user, pk)
    # The form edits its own copy, so that the service compares against the account as it was.
    form = StaffForm(request.POST or None, instance=selectors.get_staff_for_user(request.user, pk))
    if request.method == "POST" and form_submit(form, services.staff_update, by=request.user, staff=staff).done:
        messages.success(request, "Account saved.")
        return redirect("accounts:staff_list")
    ctx = {"form": form, "staff": staff}
    return render(request, "accounts/staff_form.html", ctx, status=400 if form.errors else 200)


@permission_required(MANAGE_STAFF)
@require_POST
def staff_two_factor_reset_view(request, pk):
    staff = selectors.get_staff_for_user(request.user, pk)
    try:
        services.two_factor_reset_issue(user=staff, by=request.user)
    except ValidationError as error:
        message_validation_error(request, error)
    else:
        messages.success(
            request,
            f"A reset link was emailed to {staff.email}. It works once, within {services.RESET_LINK_HOURS} hours, "
            "after they sign in with their password.",
        )
    return redirect("accounts:staff_edit", pk=staff.pk)
