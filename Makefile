# dossier front door. `make run` and `make test` do all set-up on a fresh machine.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
PYTHON ?= python3
PYTEST_ARGS ?=

.PHONY: install install-dev run run-cluster demo test check lint fmt type unit integration e2e browser \
        browser-deps e2e-deps bench lock record-fixtures clean

$(VENV)/.base: pyproject.toml requirements.lock
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PIP) install -q --disable-pip-version-check -c requirements.lock -e .
	@touch $@

$(VENV)/.dev: $(VENV)/.base
	@$(PIP) install -q --disable-pip-version-check -c requirements.lock -e ".[dev]"
	@touch $@

install: $(VENV)/.base
install-dev: $(VENV)/.dev

## run: the server on embedded defaults (SQLite, disk cache, builtin analyst), 127.0.0.1:8000
run: install
	$(VENV)/bin/dossier serve

## run-cluster: 2 API replicas (8001, 8002) + 2 workers (9101, 9102) behind a loopback
## balancer on 8000, on the local PostgreSQL and Redis (DOSSIER_DATABASE_URL, DOSSIER_REDIS_URL)
run-cluster: install
	$(PY) scripts/run_cluster.py

## demo: the same, answering sources from the packaged recordings (no network)
demo: install
	DOSSIER_SOURCES=replay DOSSIER_REPLAY_LATENCY_MS=$${DOSSIER_REPLAY_LATENCY_MS:-300} \
	  DOSSIER_VENDOR_NAME="$${DOSSIER_VENDOR_NAME:-Acme Analytics}" \
	  DOSSIER_VENDOR_DESCRIPTION="$${DOSSIER_VENDOR_DESCRIPTION:-fraud and risk analytics for payment teams}" \
	  $(VENV)/bin/dossier serve

## test: everything CI runs: lint, types, unit + integration + e2e + browser tests
test: install-dev browser-deps e2e-deps lint type
	$(PY) -m pytest -q $(PYTEST_ARGS)

check: lint type

lint: install-dev
	$(VENV)/bin/ruff check src tests bench scripts
	$(VENV)/bin/ruff format --check src tests bench scripts

fmt: install-dev
	$(VENV)/bin/ruff format src tests bench
	$(VENV)/bin/ruff check --fix src tests bench

type: install-dev
	$(VENV)/bin/mypy src tests

unit: install-dev
	$(PY) -m pytest -q -m unit $(PYTEST_ARGS)

integration: install-dev
	$(PY) -m pytest -q -m integration $(PYTEST_ARGS)

e2e: install-dev e2e-deps
	$(PY) -m pytest -q -m e2e $(PYTEST_ARGS)

browser: install-dev browser-deps
	$(PY) -m pytest -q -m browser $(PYTEST_ARGS)

## browser-deps: Debian chromium for the Playwright tests (never `playwright install`)
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian chromium for browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

## e2e-deps: Debian nginx for the test of deploy/nginx.conf (its system service is stopped)
e2e-deps:
	@command -v nginx >/dev/null 2>&1 || test -x /usr/sbin/nginx || { \
	  echo "installing Debian nginx-light for the load-balancer test"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq nginx-light >/dev/null; \
	  $$SUDO service nginx stop >/dev/null 2>&1 || true; }

## bench: performance as ratios against the raw baseline measured in the same run
bench: install-dev
	$(PY) bench/run.py --update-readme

## record-fixtures: refresh recordings from the live sources (network; never in CI)
record-fixtures: install-dev
	$(PY) scripts/record_fixtures.py

lock:
	$(PIP) freeze --exclude-editable | grep -v '^dossier' > requirements.lock

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
