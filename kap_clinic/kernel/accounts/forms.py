from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm

from kap_clinic.kernel.validation import BoundedInput

from .models import User
from .roles import STAFF_ROLES, Role


class UserChoiceField(forms.ModelChoiceField):
    """A user named as people know them: "Full Name (username, role)"."""

    def label_from_instance(self, obj):
        name = obj.get_full_name().strip()
        details = f"{obj.username}, {obj.get_role_display().lower()}"
        return f"{name} ({details})" if name else details


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


class VerifyForm(BoundedInput, forms.Form):
    """The code page: six digits from the authenticator, or one of the account's backup codes."""

    token = forms.RegexField(
        label="Six-digit code from your authenticator app, or a backup code",
        regex=r"^\s*(\d{6}|[A-Za-z2-7]{4}\s?[A-Za-z2-7]{4})\s*$",
        error_messages={
            "invalid": "Enter the six digits your authenticator app shows, or an eight-character backup code."
        },
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "one-time-code", "size": 10}),
    )

    def clean_token(self):
        return self.cleaned_data["token"].strip()


class PasswordAgainForm(BoundedInput, forms.Form):
    password = forms.CharField(
        label="Your password", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class ReplaceDeviceForm(PasswordAgainForm, TokenForm):
    """Replacing an authenticator from a verified session: the password again, and a code from the new one."""

    field_order = ["password", "token"]


class StaffForm(BoundedInput, forms.ModelForm):
    """A staff account as a clinic admin sees it: no superuser or staff status, groups or permissions."""

    role = forms.TypedChoiceField(choices=[])

    class Meta:
        model = User
        fields = ["username", "first_name", "last_name", "email", "role", "is_active"]
        labels = {"is_active": "Active (may sign in)"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(role.value, role.label) for role in Role if role in STAFF_ROLES]
        self.fields["first_name"].required = True
        self.fields["last_name"].required = True
        self.fields["email"].required = True  # device notices and reset links go there


class StaffCreateForm(StaffForm):
    """A new staff account with its first password; they set up their authenticator at first sign-in."""

    password1 = forms.CharField(
        label="Password", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    password2 = forms.CharField(
        label="Password again", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    class Meta(StaffForm.Meta):
        fields = ["username", "first_name", "last_name", "email", "role"]

    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", "The two passwords differ.")
        elif first:
            candidate = self.instance
            for field in ("username", "first_name", "last_name", "email"):
                setattr(candidate, field, cleaned.get(field) or "")
            try:
                password_validation.validate_password(first, candidate)
            except forms.ValidationError as error:
                self.add_error("password1", error)
            else:
                cleaned["password"] = first  # the one password the account is created with
        return cleaned


class BoundedPasswordChangeForm(BoundedInput, PasswordChangeForm):
    """Django's password change, with every field's length capped."""
