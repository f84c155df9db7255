import base64
from io import BytesIO

import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme

from . import services
from .forms import BoundedPasswordChangeForm, InviteSetPasswordForm, SignInForm, TokenForm


class SignInView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True


class SignOutView(auth_views.LogoutView):
    pass


def _next_url(request, default="clinic:home"):
    target = request.POST.get("next") or request.GET.get("next")
    # Only a path: redirect() would take any other word for the name of a view, and fail on it.
    if (
        target
        and target.startswith("/")
        and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure())
    ):
        return target
    return default


@login_required
def two_factor_verify_view(request):
    if request.user.is_verified():
        return redirect(_next_url(request))
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if services.totp_verify(request=request, user=request.user, token=form.cleaned_data["token"]):
            return redirect(_next_url(request))
        form.add_error("token", "That code is not valid. Wait for a new one and try again.")
    status = 400 if form.errors else 200
    return render(request, "accounts/two_factor_verify.html", {"form": form}, status=status)


@login_required
def two_factor_setup_view(request):
    device = services.totp_device_for_setup(user=request.user)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if services.totp_device_confirm(request=request, device=device, token=form.cleaned_data["token"]):
            messages.success(request, "Two-factor sign-in is set up.")
            return redirect(_next_url(request))
        form.add_error("token", "That code does not match. Check the key and try the newest code.")
    ctx = {
        "form": form,
        "qr_svg": _qr_data_uri(device.config_url),
        "secret": base64.b32encode(device.bin_key).decode(),
    }
    return render(request, "accounts/two_factor_setup.html", ctx, status=400 if form.errors else 200)


def _qr_data_uri(text: str) -> str:
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def invite_accept_view(request, token):
    """A patient chooses their portal password through the single-use link the clinic emailed."""
    from django.core.exceptions import ValidationError

    from patients.services import invite_accept, invite_for_token

    if request.user.is_authenticated:
        return render(request, "accounts/invite_signed_in.html", status=403)
    invite = invite_for_token(token)
    if invite is None:
        return render(request, "accounts/invite_invalid.html", status=404)
    form = InviteSetPasswordForm(invite.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invite_accept(invite=invite, password=form.cleaned_data["new_password1"])
        except ValidationError:
            return render(request, "accounts/invite_invalid.html", status=404)
        messages.success(request, "Your password is set. Sign in with your email address and new password.")
        return redirect("accounts:login")
    return render(request, "accounts/invite_accept.html", {"form": form}, status=400 if form.errors else 200)


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    form_class = BoundedPasswordChangeForm
    success_url = "/"

    def form_valid(self, form):
        messages.success(self.request, "Your password was changed.")
        return super().form_valid(form)
