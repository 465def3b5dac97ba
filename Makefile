# Custodia: `make run` starts the demo on http://127.0.0.1:8000/, `make test` runs every test.
# Needs only Python 3.11, pip and apt; everything else is installed into .venv on first use, and
# reinstalled only when a requirements file changes.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
RUNTIME_STAMP := $(VENV)/.installed-runtime
DEV_STAMP := $(VENV)/.installed-dev
# dbt for the lineage tests lives in a venv of its own: its pins would downgrade packages of .venv.
DBT_VENV := $(VENV)/dbt
DBT_STAMP := $(DBT_VENV)/.installed
# So does the MLflow server for the MLflow integration tests (the app itself needs only mlflow-skinny).
MLFLOW_VENV := $(VENV)/mlflow
MLFLOW_STAMP := $(MLFLOW_VENV)/.installed
# Compiled translations, rebuilt when their .po file changes.
MO_FILES := $(patsubst %.po,%.mo,$(wildcard locale/*/LC_MESSAGES/*.po))
# The local run is a development server: DEBUG on, no production secret needed.
RUN_ENV := DEBUG=true
PYTEST_ARGS ?=

.PHONY: help run test lint migrate demo venv dev-venv dbt-venv mlflow-venv chromium pdf-libs messages clean

help:
	@echo "make run      create .venv, migrate, load the demo, start web + Celery worker (Ctrl-C stops)"
	@echo "make test     install the test tools, dbt, the MLflow server and Chromium, run the whole pytest suite"
	@echo "make lint     ruff check, ruff format --check, mypy, lint-imports"
	@echo "make migrate  apply database migrations"
	@echo "make demo     load the demo data (only into an empty registry)"

$(PY):
	@if ! $(PYTHON) -c "import ensurepip, venv" 2>/dev/null; then scripts/apt-install.sh python3-venv; fi
	$(PYTHON) -m venv $(VENV)

$(RUNTIME_STAMP): requirements.txt | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

$(DEV_STAMP): requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@ $(RUNTIME_STAMP)

$(DBT_STAMP): requirements-dbt.txt | $(PY)
	$(PYTHON) -m venv $(DBT_VENV)
	$(DBT_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dbt.txt
	@touch $@

$(MLFLOW_STAMP): requirements-mlflow.txt | $(PY)
	$(PYTHON) -m venv $(MLFLOW_VENV)
	$(MLFLOW_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-mlflow.txt
	@touch $@

venv: $(RUNTIME_STAMP)

dev-venv: $(DEV_STAMP)

dbt-venv: $(DBT_STAMP)

mlflow-venv: $(MLFLOW_STAMP)

%.mo: %.po
	@command -v msgfmt >/dev/null || scripts/apt-install.sh gettext
	msgfmt --check-format -o $@ $<

messages: $(MO_FILES)

chromium:
	@[ -x /usr/bin/chromium ] || scripts/apt-install.sh chromium

# WeasyPrint (PDF reports) needs Pango and a font; the report tests read PDFs back with poppler.
pdf-libs:
	@scripts/apt-install.sh libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core poppler-utils

migrate: $(RUNTIME_STAMP) pdf-libs
	$(RUN_ENV) $(PY) manage.py migrate --noinput

demo: migrate
	$(RUN_ENV) $(PY) manage.py load_demo --if-empty

run: demo messages
	@$(RUN_ENV) PY=$(PY) scripts/run.sh

test: $(DEV_STAMP) $(DBT_STAMP) $(MLFLOW_STAMP) messages chromium pdf-libs
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	CUSTODIA_TESTING=1 $(BIN)/mypy .
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) var/staticfiles var/broker var/broker-test .mypy_cache .ruff_cache .pytest_cache
