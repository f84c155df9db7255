"""The menu each role sees. Links only; every view checks access again on its own, against the same permission.

The daily pages stay in the bar; the rest go under "More", so the bar fits a laptop screen and folds behind the
menu button on narrower ones (templates/base.html)."""

from dataclasses import dataclass

from django_otp import user_has_device

from kap_clinic.kernel.accounts.roles import CLINIC_STAFF, MANAGE_STAFF, ROLE_PERMISSION, Role

ADMIN, CLINICIAN, PATIENT = ROLE_PERMISSION[Role.ADMIN], ROLE_PERMISSION[Role.CLINICIAN], ROLE_PERMISSION[Role.PATIENT]


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    perms: tuple[str, ...]  # shown to users holding any of these (roles.py)
    more: bool = False  # under "More" rather than in the bar


NAV_ITEMS = (
    NavItem("Home", "homes:home", (CLINIC_STAFF, PATIENT)),
    NavItem("Patients", "patients:list", (CLINIC_STAFF,)),
    NavItem("Schedule", "sessions:schedule", (CLINIC_STAFF,)),
    NavItem("My schedule", "homes:portal_schedule", (PATIENT,)),
    NavItem("My check-ins", "aftercare:portal_checkins", (PATIENT,)),
    NavItem("REMS forms", "sessions:rems_pending", (CLINIC_STAFF,)),
    NavItem("Alerts", "notifications:alerts", (CLINIC_STAFF,)),
    NavItem("Reminders", "notifications:list", (CLINIC_STAFF,)),
    NavItem("Authorizations", "billing:authorization_list", (CLINIC_STAFF,), more=True),
    NavItem("Controlled substances", "sessions:cs_lot_list", (ADMIN, CLINICIAN), more=True),
    NavItem("Reports", "reports:index", (ADMIN, CLINICIAN), more=True),
    NavItem("My record", "patients:my_record", (PATIENT,)),
    NavItem("Audit log", "homes:audit_log", (ADMIN,)),
    NavItem("Clinic settings", "clinic:settings", (ADMIN,)),
    NavItem("Staff", "accounts:staff_list", (MANAGE_STAFF,), more=True),
    NavItem("Back office", "admin:index", (ADMIN,), more=True),
    NavItem("Two-factor sign-in", "accounts:backup_codes", (CLINIC_STAFF,), more=True),
)


def items_for(user) -> list[NavItem]:
    if not user.is_authenticated:
        return []
    if user.is_clinic_staff and not user.is_verified() and (user.requires_two_factor or user_has_device(user)):
        return []  # signed in with the password alone: nothing but the code page until the second factor
    return [item for item in NAV_ITEMS if any(user.has_perm(perm) for perm in item.perms)]


def menu_for(user) -> tuple[list[NavItem], list[NavItem]]:
    """The user's menu split in two: the links in the bar, and those under "More"."""
    items = items_for(user)
    return [item for item in items if not item.more], [item for item in items if item.more]
