# Two commands run everything: `make run` (demo clinic on embedded defaults) and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
RUNDIR := .run

.PHONY: run test lint install check-deploy bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Site, Celery worker and beat together; Ctrl-C stops all three.
run: export DEBUG ?= true
run: install
	mkdir -p $(RUNDIR)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	@echo "Serving on http://127.0.0.1:8000/ with a Celery worker and beat (Ctrl-C stops all)"
	@trap 'kill 0' INT TERM; \
	$(VENV)/bin/celery -A kap_clinic worker --pool=solo --loglevel=info & \
	$(VENV)/bin/celery -A kap_clinic beat --loglevel=info --schedule=$(RUNDIR)/celerybeat-schedule & \
	$(PY) manage.py runserver 127.0.0.1:8000 & \
	wait

test: install
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	DEBUG=true $(PY) manage.py makemigrations --check --dry-run

check-deploy: install
	env -u DJANGO_ALLOW_ASYNC_UNSAFE DEBUG=false SECRET_KEY="$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(64))')" \
	ALLOWED_HOSTS=clinic.example.org $(PY) manage.py check --deploy --fail-level WARNING

bench: install
	$(PY) -m tests.bench

clean:
	rm -rf $(VENV) $(RUNDIR) db.sqlite3 *.egg-info
