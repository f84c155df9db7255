"""docker-compose.yml is a valid Compose file and describes the production stack we rely on.

No Docker engine is needed: the file is checked against the Compose Specification's JSON schema,
kept beside the tests (tests/schemas/compose-spec.json).
"""

import json
import re
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft7Validator

REPO_ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
SCHEMA_FILE = Path(__file__).resolve().parent / "schemas" / "compose-spec.json"

APP_SERVICES = ("web", "worker", "beat")
REQUIRED_SERVICES = (*APP_SERVICES, "db", "redis")
INTERPOLATION = re.compile(r"^\$\{[A-Z0-9_]+(:?[-?][^}]*)?\}$")
REQUIRED_INTERPOLATION = re.compile(r"^\$\{[A-Z0-9_]+:?\?[^}]*\}$")
SECRET_NAME = re.compile(r"SECRET|PASSWORD|TOKEN|_KEY$")
URL_USER = re.compile(r"^postgres(?:ql)?://(?P<user>[^:/@]+):(?P<password>[^@]+)@")
URL_CREDENTIALS = re.compile(r"^[a-z][a-z0-9+.-]*://[^:/@]*:(?P<password>[^@]+)@")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


def depends_on(service: dict) -> dict[str, str]:
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return {name: "service_started" for name in deps}
    return {name: spec.get("condition", "service_started") for name, spec in deps.items()}


def test_compose_file_matches_the_compose_schema(compose):
    if not SCHEMA_FILE.is_file():
        pytest.fail(f"Compose JSON schema not found at {SCHEMA_FILE} (it lives in tests/schemas/).")
    schema = json.loads(SCHEMA_FILE.read_text())
    errors = sorted(Draft7Validator(schema).iter_errors(compose), key=lambda error: list(error.path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.path)) or '<root>'}: {e.message}" for e in errors)


def test_stack_has_site_worker_scheduler_database_and_broker(services):
    missing = [name for name in REQUIRED_SERVICES if name not in services]
    assert not missing, f"missing services: {missing}"


def test_app_services_build_from_the_project_image(services):
    for name in APP_SERVICES:
        assert services[name].get("build"), f"{name} does not build from the Dockerfile"


def test_commands(services):
    assert "gunicorn kap_clinic.wsgi:application" in " ".join(_command(services["web"]))
    assert "0.0.0.0:8000" in " ".join(_command(services["web"]))
    assert _command(services["worker"])[:4] == ["celery", "-A", "kap_clinic.celery", "worker"]
    assert _command(services["beat"])[:4] == ["celery", "-A", "kap_clinic.celery", "beat"]


def test_migrations_and_static_files_run_before_the_site_serves(services):
    commands = [" ".join(_command(service)) for service in services.values()]
    assert any("manage.py migrate --noinput" in command for command in commands)
    assert "manage.py collectstatic --noinput" in " ".join(_command(services["web"]))
    migrators = [name for name, service in services.items() if "manage.py migrate" in " ".join(_command(service))]
    for migrator in migrators:
        if migrator == "web":
            continue
        for name in APP_SERVICES:
            assert depends_on(services[name]).get(migrator) == "service_completed_successfully", (
                f"{name} may start before migrations are applied"
            )


def test_beat_runs_exactly_one_replica(services):
    deploy = services["beat"].get("deploy") or {}
    assert int(deploy.get("replicas", 0)) == 1
    assert "scale" not in services["beat"]


@pytest.mark.parametrize("name", ["db", "redis"])
def test_data_services_are_health_checked_and_persist(services, compose, name):
    service = services[name]
    assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
    volumes = service.get("volumes") or []
    named = [(volume.split(":", 1)[0] if isinstance(volume, str) else volume.get("source")) for volume in volumes]
    assert any(source in (compose.get("volumes") or {}) for source in named), f"{name} has no named volume"


def test_data_service_images_and_checks(services):
    assert services["db"]["image"].startswith("postgres:15")
    assert "pg_isready" in " ".join(_as_list(services["db"]["healthcheck"]["test"]))
    assert services["redis"]["image"].startswith("redis:7")
    assert "ping" in " ".join(_as_list(services["redis"]["healthcheck"]["test"]))
    assert "--appendonly yes" in " ".join(_command(services["redis"]))


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_wait_for_healthy_database_and_broker(services, name):
    deps = depends_on(services[name])
    assert deps.get("db") == "service_healthy"
    assert deps.get("redis") == "service_healthy"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_are_configured_through_the_environment(services, name):
    env = environment(services[name])
    for key in (
        "DATABASE_URL",
        "REDIS_URL",
        "SECRET_KEY",
        "ALLOWED_HOSTS",
        "CSRF_TRUSTED_ORIGINS",
        "TIME_ZONE",
    ):
        assert key in env, f"{name} lacks {key}"
    assert env["DEBUG"].lower() == "false"
    assert REQUIRED_INTERPOLATION.match(env["SECRET_KEY"]), "SECRET_KEY must be required from the environment"
    assert any(key.startswith("EMAIL_") for key in env)


def test_no_secret_is_hard_coded(services):
    for name, service in services.items():
        for key, value in environment(service).items():
            if SECRET_NAME.search(key) and value:
                assert INTERPOLATION.match(value), f"{name}: {key} is written into the file"
            credentials = URL_CREDENTIALS.match(value)
            if credentials:
                assert INTERPOLATION.match(credentials["password"]), f"{name}: {key} carries a password"


def test_site_healthcheck_speaks_as_the_tls_proxy(services):
    check = " ".join(_as_list(services["web"]["healthcheck"]["test"]))
    assert "127.0.0.1:8000/healthz/" in check
    assert "X-Forwarded-Proto" in check and "https" in check


def _database_user_and_password(url: str) -> tuple[str, str]:
    parsed = URL_USER.match(url)
    assert parsed, f"not a database URL with credentials: {url}"
    return parsed["user"], parsed["password"]


def test_app_services_connect_as_the_runtime_role_and_only_migrate_as_the_owner(services):
    """The audit trail cannot be rewritten by the application: the site, worker and scheduler hold only the runtime
    role's credentials; the owner's are given to the one-shot migrate service alone, which grants the runtime role."""
    owner = environment(services["db"])["POSTGRES_USER"]
    migrate = environment(services["migrate"])
    owner_user, owner_password = _database_user_and_password(migrate["DATABASE_URL"])
    runtime = migrate.get("DATABASE_RUNTIME_ROLE", "")
    assert owner_user == owner
    assert runtime and runtime != owner
    assert REQUIRED_INTERPOLATION.match(migrate.get("DATABASE_RUNTIME_PASSWORD", ""))
    assert services["migrate"].get("restart") == "no"
    assert _command(services["migrate"])[-3:] == ["manage.py", "migrate", "--noinput"]

    for name, service in services.items():
        env = environment(service)
        if name in ("migrate", "db") or "DATABASE_URL" not in env:
            continue
        user, password = _database_user_and_password(env["DATABASE_URL"])
        assert user == runtime, f"{name} connects as {user}, not as the runtime role"
        assert REQUIRED_INTERPOLATION.match(password)
        assert password != owner_password and migrate["DATABASE_RUNTIME_PASSWORD"] == password
        assert not any(owner_password in value for value in env.values()), f"{name} holds the owner's password"
    for name in APP_SERVICES:
        assert _database_user_and_password(environment(services[name])["DATABASE_URL"])[0] == runtime


def _as_list(value) -> list[str]:
    return value.split() if isinstance(value, str) else [str(part) for part in value]


def _command(service: dict) -> list[str]:
    return _as_list(service.get("command") or [])
