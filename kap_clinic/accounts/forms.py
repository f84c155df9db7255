from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm, SetPasswordForm

from kap_clinic.validation import BoundedInput


class SignInForm(BoundedInput, AuthenticationForm):
    username = forms.CharField(
        label="Username", widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"})
    )
    password = forms.CharField(
        label="Password", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )

    def clean_username(self):
        # Patients sign in with their email address, stored lower-cased; staff usernames stay as given.
        username = self.cleaned_data["username"].strip()
        return username.lower() if "@" in username else username


class TokenForm(BoundedInput, forms.Form):
    token = forms.RegexField(
        label="Six-digit code from your authenticator app",
        regex=r"^\s*\d{6}\s*$",
        error_messages={"invalid": "Enter the six digits your authenticator app shows."},
        widget=forms.TextInput(
            attrs={"autofocus": True, "autocomplete": "one-time-code", "inputmode": "numeric", "size": 8}
        ),
    )

    def clean_token(self):
        return self.cleaned_data["token"].strip()


class InviteSetPasswordForm(BoundedInput, SetPasswordForm):
    """A patient's first password, chosen through their invitation link."""


class BoundedPasswordChangeForm(BoundedInput, PasswordChangeForm):
    """Django's password change, with every field's length capped."""
