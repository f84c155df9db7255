"""How patients reach the clinic: the one place pages and messages read the clinic's phone number from."""

from .models import ClinicSettings


def clinic_phone() -> str:
    """The clinic's phone number as patients should dial it: the clinic settings' number, else REMS_SETTING_PHONE
    ("" when the clinic has set neither)."""
    return ClinicSettings.load().clinic_phone().strip()
