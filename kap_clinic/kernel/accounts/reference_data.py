"""Sign-in's reference rows: one group per role with exactly that role's permissions
(kap_clinic/kernel/accounts/roles.py says which). Registered with kap_clinic.kernel.reference_data in
AccountsConfig.ready()."""

from .roles import seed_role_groups


def seed(apps) -> None:
    """Role groups, through the app registry `apps`; their permissions are set to the roles' own each time."""
    seed_role_groups(apps)
