from django.apps import AppConfig


class SessionsConfig(AppConfig):
    # The label `sessions` belongs to django.contrib.sessions; ours is fixed from the first migration.
    name = "sessions"
    label = "treatment_sessions"
    verbose_name = "Dosing sessions"
