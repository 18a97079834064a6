# Defensa: two commands. `make run` serves the demo; `make test` checks everything.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
# The demo's fictional network name and hotline (555 numbers are reserved for fiction).
DEMO_NETWORK_NAME ?= Red de Defensa de Los Ángeles
DEMO_HOTLINE ?= +1-213-555-0100
export DJANGO_SETTINGS_MODULE := defensa.settings
# Links in the demo's alerts point at the port the demo serves on.
DEFENSA_SITE_URL ?= http://localhost:$(PORT)
export DEFENSA_SITE_URL

.PHONY: run test lint deps dev-deps messages bench clean

$(VENV)/.deps: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev-deps: requirements.txt requirements-dev.txt $(VENV)/.deps
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

deps: $(VENV)/.deps
dev-deps: $(VENV)/.dev-deps

messages: deps
	$(PY) manage.py compile_translations --verbosity 0

## make run: install, migrate, collect static files, seed the demo network, then serve with
## gunicorn beside the task worker and the delivery worker.
run: messages
	DEFENSA_DEMO=1 $(PY) manage.py migrate --verbosity 0
	DEFENSA_DEMO=1 $(PY) manage.py collectstatic --noinput --verbosity 0
	DEFENSA_DEMO=1 DEFENSA_HOTLINE_NUMBER="$(DEMO_HOTLINE)" $(PY) manage.py seed_demo
	DEFENSA_DEMO=1 PORT=$(PORT) DEFENSA_NETWORK_NAME="$(DEMO_NETWORK_NAME)" \
	  DEFENSA_HOTLINE_NUMBER="$(DEMO_HOTLINE)" ./scripts/serve

## make test: everything the suite needs, then lint, then the suite on SQLite and PostgreSQL.
test: dev-deps messages
	./scripts/ensure-test-tools
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	./scripts/test-all

bench: dev-deps messages
	$(PY) -m bench all

clean:
	rm -rf $(VENV) var/test-*
