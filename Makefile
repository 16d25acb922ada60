# Two commands do everything on a fresh machine: `make run` and `make test`. See README.md.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export GATEWAY_BASE_URL ?= http://127.0.0.1:$(PORT)
export PORT

.PHONY: run serve worker install install-dev system-deps translations messages lint test test-all bench clean

## run: install, migrate, seed demo data, and serve the gateway with its job worker (embedded default)
run: install translations
	@$(PY) -m gateway migrate
	@$(PY) -m gateway seed
	@echo "Gateway: $(GATEWAY_BASE_URL)  (Ctrl-C stops the server and the worker)"
	@$(PY) -m gateway worker 2>>instance/worker.log & worker=$$!; \
	  trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	  $(PY) -m gateway serve --bind 127.0.0.1:$(PORT)

## test: install dev requirements, lint, and run every test on SQLite and PostgreSQL
test: install-dev translations system-deps
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -m "not soak"

## test-all: everything in `make test` plus long soak runs
test-all: install-dev translations system-deps
	$(VENV)/bin/ruff check .
	$(PY) -m pytest

## bench: benchmarks, each printed next to a baseline measured in the same run
bench: install-dev translations system-deps
	$(PY) -m bench

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip

$(VENV)/.installed: requirements.txt | $(VENV)/bin/activate
	$(VENV)/bin/pip install -q -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(VENV)/bin/pip install -q -r requirements-dev.txt
	@touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## system-deps: the system packages the tests and benchmarks need (chromium, fonts, PDF tools, wrk, ...)
system-deps:
	@bash scripts/system-deps.sh

## translations: compile the .po catalogues the app reads (generated .mo files are not in git)
MO_FILES := $(patsubst %.po,%.mo,$(wildcard web/translations/*/LC_MESSAGES/messages.po))
translations: $(MO_FILES)
%.mo: %.po | install
	@$(VENV)/bin/pybabel compile -i $< -o $@ 2>/dev/null || $(VENV)/bin/pybabel compile -i $< -o $@

## messages: extract UI strings and merge them into the catalogues for translators
messages: install
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l --no-location -o web/translations/messages.pot .
	$(VENV)/bin/pybabel update -i web/translations/messages.pot -d web/translations --no-location --width 110

lint: install-dev
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
