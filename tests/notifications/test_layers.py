"""The reminder outbox is kernel: it knows the apps only through the occasions they register."""

import ast
from pathlib import Path

from kap_clinic.kernel.notifications import occasions

DOMAIN_APPS = {"patients", "screening", "sessions", "aftercare", "billing"}
PACKAGE = Path(__file__).resolve().parents[2] / "kap_clinic" / "kernel" / "notifications"


def imported_apps(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names & DOMAIN_APPS


def test_the_notifications_package_imports_no_domain_app():
    offenders = {
        str(path.relative_to(PACKAGE)): sorted(imported_apps(path))
        for path in PACKAGE.rglob("*.py")
        if "migrations" not in path.parts and imported_apps(path)
    }
    assert offenders == {}


def test_the_apps_register_every_kind_of_reminded_target():
    registered = {occasion.field: occasion.model._meta.label for occasion in occasions.registered()}
    assert registered == {
        "session": "treatment_sessions.DosingSession",
        "integration_session": "aftercare.IntegrationSession",
        "checkin": "aftercare.CheckIn",
    }
