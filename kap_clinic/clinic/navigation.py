"""The menu each role sees. Links only; every view checks access again on its own."""

from dataclasses import dataclass

from kap_clinic.accounts.roles import Role


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    roles: frozenset


NAV_ITEMS = (
    NavItem("Home", "clinic:home", frozenset(Role)),
    NavItem("Patients", "patients:list", frozenset({Role.ADMIN, Role.CLINICIAN, Role.INTAKE})),
    NavItem("Schedule", "sessions:schedule", frozenset({Role.ADMIN, Role.CLINICIAN, Role.INTAKE})),
    NavItem("My schedule", "sessions:portal_schedule", frozenset({Role.PATIENT})),
    NavItem("My check-ins", "aftercare:portal_checkins", frozenset({Role.PATIENT})),
    NavItem("REMS forms", "sessions:rems_pending", frozenset({Role.ADMIN, Role.CLINICIAN, Role.INTAKE})),
    NavItem("Alerts", "notifications:alerts", frozenset({Role.ADMIN, Role.CLINICIAN, Role.INTAKE})),
    NavItem("Reminders", "notifications:list", frozenset({Role.ADMIN, Role.CLINICIAN, Role.INTAKE})),
    NavItem("Authorizations", "billing:authorization_list", frozenset({Role.ADMIN, Role.CLINICIAN, Role.INTAKE})),
    NavItem("Controlled substances", "sessions:cs_lot_list", frozenset({Role.ADMIN, Role.CLINICIAN})),
    NavItem("My record", "patients:my_record", frozenset({Role.PATIENT})),
    NavItem("Audit log", "audit:log", frozenset({Role.ADMIN})),
    NavItem("Clinic settings", "clinic:settings", frozenset({Role.ADMIN})),
)


def items_for(user) -> list[NavItem]:
    if not user.is_authenticated:
        return []
    return [item for item in NAV_ITEMS if user.role in item.roles]
