"""What each role may do: the one place that says it.

Each role is a Django group holding the permissions below; `sync_role_groups` writes them after
every migrate, and a user's group follows their `role` field. Views, templates (`perms`), the
navigation and the Django admin all ask `user.has_perm(...)`: `role_required(...)` is a check of the
role's own permission (`accounts.role_<role>`), `permission_required(...)` of any other one. Object
ownership (whose patient) is checked in each app's selectors.
"""

from django.apps import apps as running_apps
from django.db import models


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    CLINICIAN = "clinician", "Clinician"
    INTAKE = "intake", "Intake staff"
    PATIENT = "patient", "Patient"


STAFF_ROLES = frozenset({Role.ADMIN, Role.CLINICIAN, Role.INTAKE})
# Roles whose accounts must use TOTP; intake joins them when the clinic setting says so.
TWO_FACTOR_ROLES = frozenset({Role.ADMIN, Role.CLINICIAN})

# Permissions that are not a model's add/change/view, declared on accounts.User (Meta.permissions).
# Each role holds its own `role_<role>` permission: `role_required(Role.X)` and `perms.accounts.role_x`
# in templates ask for it, so a view and the link to it cannot disagree.
ROLE_PERMISSION = {role: f"accounts.role_{role}" for role in Role}
CLINIC_STAFF = "accounts.clinic_staff"  # every staff role: the staff pages
MANAGE_STAFF = "accounts.manage_staff"  # staff accounts, roles, deactivation and two-factor resets
# The permissions above are asked on every page (menu, views): User.has_perm answers them from ROLE_PERMISSIONS
# below without a query; the groups hold the same, for the Django admin and anyone reading them.
ROLE_MARKERS = frozenset({*ROLE_PERMISSION.values(), CLINIC_STAFF, MANAGE_STAFF})

ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    Role.ADMIN: (
        ROLE_PERMISSION[Role.ADMIN],
        CLINIC_STAFF,
        MANAGE_STAFF,
        "patients.view_patient",
        "patients.add_patient",
        "patients.change_patient",
        "auditlog.view_logentry",
        "clinic.change_clinicsettings",
        "clinic.view_clinicsettings",
        "clinic.view_workerheartbeat",
        "screening.view_screening",
        "screening.view_suicideriskalert",
        "screening.view_conditionrule",
        "screening.add_conditionrule",
        "screening.change_conditionrule",
        "screening.delete_conditionrule",
        "treatment_sessions.view_enrollment",
        "treatment_sessions.view_protocol",
        "treatment_sessions.add_protocol",
        "treatment_sessions.change_protocol",
        "treatment_sessions.view_protocolphase",
        "treatment_sessions.add_protocolphase",
        "treatment_sessions.change_protocolphase",
        "treatment_sessions.view_room",
        "treatment_sessions.add_room",
        "treatment_sessions.change_room",
        "treatment_sessions.view_clinichours",
        "treatment_sessions.add_clinichours",
        "treatment_sessions.change_clinichours",
        "treatment_sessions.view_clinicclosure",
        "treatment_sessions.add_clinicclosure",
        "treatment_sessions.change_clinicclosure",
        "treatment_sessions.view_clinicianhours",
        "treatment_sessions.add_clinicianhours",
        "treatment_sessions.change_clinicianhours",
        "treatment_sessions.delete_protocolphase",
        "treatment_sessions.delete_room",
        "treatment_sessions.delete_clinichours",
        "treatment_sessions.delete_clinicclosure",
        "treatment_sessions.delete_clinicianhours",
        "treatment_sessions.view_dosingsession",
        "treatment_sessions.view_treatmentplan",
        "treatment_sessions.view_remsmonitoringform",
        "treatment_sessions.view_controlledproduct",
        "treatment_sessions.add_controlledproduct",
        "treatment_sessions.change_controlledproduct",
        "treatment_sessions.view_productlot",
        "treatment_sessions.view_cslogentry",
        "aftercare.view_integrationsession",
        "aftercare.view_checkin",
        "notifications.view_reminderrule",
        "notifications.add_reminderrule",
        "notifications.change_reminderrule",
        "notifications.view_preparationtext",
        "notifications.change_preparationtext",
        "outbox.view_outboxemail",
        "billing.view_payer",
        "billing.add_payer",
        "billing.change_payer",
        "billing.view_feescheduleitem",
        "billing.add_feescheduleitem",
        "billing.change_feescheduleitem",
        "billing.view_povertyguideline",
        "billing.add_povertyguideline",
        "billing.change_povertyguideline",
        "billing.view_slidingscaletier",
        "billing.add_slidingscaletier",
        "billing.change_slidingscaletier",
        "billing.delete_slidingscaletier",
        "billing.view_charge",
        "billing.view_invoice",
        "billing.view_goodfaithestimate",
        "billing.view_insurancepolicy",
        "billing.view_selfpay",
        "billing.view_preauthsubmission",
        "billing.view_preauthworkitem",
    ),
    Role.CLINICIAN: (
        ROLE_PERMISSION[Role.CLINICIAN],
        CLINIC_STAFF,
        "patients.view_patient",
        "patients.add_patient",
        "patients.change_patient",
    ),
    Role.INTAKE: (
        ROLE_PERMISSION[Role.INTAKE],
        CLINIC_STAFF,
        "patients.view_patient",
        "patients.add_patient",
        "patients.change_patient",
    ),
    Role.PATIENT: (ROLE_PERMISSION[Role.PATIENT],),
}


def group_name(role: str) -> str:
    return Role(role).label


def sync_role_groups(**kwargs) -> None:
    """Create one group per role holding exactly that role's permissions (after every migrate)."""
    seed_role_groups(running_apps)


def seed_role_groups(apps) -> None:
    """One group per role holding exactly that role's permissions, through the app registry `apps`."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    known = {
        f"{app_label}.{codename}": pk
        for pk, app_label, codename in Permission.objects.values_list("pk", "content_type__app_label", "codename")
    }
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=group_name(role))
        group.permissions.set([known[perm] for perm in perms if perm in known])
