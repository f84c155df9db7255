from django.apps import AppConfig

from kap_clinic.kernel import reference_data

from . import reference_data as role_groups


class AccountsConfig(AppConfig):
    name = "kap_clinic.kernel.accounts"
    label = "accounts"
    verbose_name = "Users and sign-in"

    def ready(self):
        # The signal receivers and the role sync import models, which load only once the app registry is ready.
        from django.db.models.signals import post_migrate

        from . import signals  # noqa: F401
        from .roles import sync_role_groups

        # After every app's migrate, so the permissions of apps migrated later exist too (idempotent).
        post_migrate.connect(sync_role_groups, dispatch_uid="kap_clinic.sync_role_groups")
        reference_data.register(role_groups.seed)
