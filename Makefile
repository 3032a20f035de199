# Two commands from a fresh clone: `make up` runs the whole system, `make test` runs the tests.
# Each builds .venv on first use and again whenever pyproject.toml changes.
SHELL := /bin/bash
VENV := .venv
STAMP := $(VENV)/.installed
PYTHON ?= $(shell for p in python3 python3.13 python3.12 python3.11; do \
	command -v $$p >/dev/null && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && { echo $$p; break; }; done)

.PHONY: up test lint bench demo clean

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "fieldwork needs Python 3.11 or newer (python3 --version)"; exit 1; }
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e '.[test,bench]'
	@touch $(STAMP)

up: $(STAMP)
	$(VENV)/bin/fieldwork up

test: $(STAMP) lint
	$(VENV)/bin/python -m pytest -n $${PYTEST_WORKERS:-2} $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

demo: $(STAMP)
	$(VENV)/bin/fieldwork demo

clean:
	rm -rf $(VENV) .fieldwork .pytest_cache
