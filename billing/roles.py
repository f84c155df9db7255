"""Who does billing's front-office work (coverage, authorizations, the patient ledger): the one place that says so."""

from kap_clinic.kernel.accounts.roles import Role

WORKING_ROLES = (Role.ADMIN, Role.INTAKE)
