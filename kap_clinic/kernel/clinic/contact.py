"""How patients reach the clinic: the one place pages and messages read the clinic's phone number from."""

from django.conf import settings


def clinic_phone() -> str:
    """The clinic's phone number as patients should dial it ("" when the clinic has not set one)."""
    return (getattr(settings, "REMS_SETTING_PHONE", "") or "").strip()
