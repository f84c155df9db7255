# Two commands run everything: `make run` (demo clinic on embedded defaults) and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
RUNDIR := .run

.PHONY: run test lint install lock check-deploy bench clean

# Installs the exact versions in requirements.lock (a constraints file: a dependency added to pyproject.toml and not
# yet locked still installs, at its newest allowed version, until `make lock` pins it).
$(STAMP): pyproject.toml requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c requirements.lock -e '.[dev]'
	touch $(STAMP)

# Resolve pyproject.toml's dependencies afresh (dev extras included, nothing installed) and pin every one exactly.
lock: install
	mkdir -p $(RUNDIR)
	$(PY) -m pip install --quiet --dry-run --ignore-installed --report $(RUNDIR)/lock-report.json -e '.[dev]'
	$(PY) -c 'import json, sys; \
	pins = sorted((i["metadata"]["name"], i["metadata"]["version"]) for i in json.load(open(sys.argv[1]))["install"]); \
	print("# Exact versions for reproducible installs (make install, Dockerfile). Regenerate with: make lock"); \
	print("\n".join(f"{n}=={v}" for n, v in pins if n.lower() != "kap-clinic"))' \
	$(RUNDIR)/lock-report.json > requirements.lock

install: $(STAMP)

# Site, Celery worker and beat together; Ctrl-C stops all three.
run: export DEBUG ?= true
run: install
	mkdir -p $(RUNDIR)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	@echo "Serving on http://127.0.0.1:8000/ with a Celery worker and beat (Ctrl-C stops all)"
	@trap 'kill 0' INT TERM; \
	$(VENV)/bin/celery -A kap_clinic.celery worker --pool=solo --loglevel=info & \
	$(VENV)/bin/celery -A kap_clinic.celery beat --loglevel=info --schedule=$(RUNDIR)/celerybeat-schedule & \
	$(PY) manage.py runserver 127.0.0.1:8000 & \
	wait

# Two test processes (pytest-xdist), one per core here; the tests that start a real Celery worker share one broker and
# keep to one process (tests/conftest.py). TEST_PROCESSES=0 runs everything in this process.
TEST_PROCESSES ?= 2
test: install
	$(VENV)/bin/pytest -n $(TEST_PROCESSES) --dist loadgroup $(PYTEST_ARGS)

# Style (ruff's checks and its formatting), the import contracts between layers (pyproject.toml [tool.importlinter],
# docs/architecture.md), migrations.
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	DEBUG=true $(PY) manage.py makemigrations --check --dry-run

check-deploy: install
	env -u DJANGO_ALLOW_ASYNC_UNSAFE DEBUG=false SECRET_KEY="$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(64))')" \
	ALLOWED_HOSTS=clinic.example.org $(PY) manage.py check --deploy --fail-level WARNING

bench: install
	$(PY) -m tests.bench

clean:
	rm -rf $(VENV) $(RUNDIR) db.sqlite3 *.egg-info
