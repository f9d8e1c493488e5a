# Quartier – zwei Befehle für alles:
#   make run    installiert die Laufzeit, baut die Demo-Stadt (falls nötig) und startet die App
#   make test   installiert die Testwerkzeuge (auch Debians chromium, als root) und führt alle Tests aus
# Für die Entwicklung:
#   make check  ruff + import-linter + mypy + Unit- und AppTest-Tests (ohne Browser); unter 90 s auf 2 Kernen (zuletzt 85 s, 87 s nach einer Quelländerung)
#   make e2e    nur die Browser-Tests (Playwright + Chromium + axe-core)

PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
PIP     = $(PY) -m pip
DB     ?= data/quartier.duckdb
PORT   ?= 8501

.PHONY: run test venv deps test-deps chromium node-deps lint check e2e bench demo clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip "setuptools>=70.1"

$(VENV)/.deps: requirements.txt pyproject.toml | $(VENV)/bin/python
	$(PIP) install --quiet -r requirements.txt
	$(PIP) install --quiet "setuptools>=70.1" && $(PIP) install --quiet --no-deps --no-build-isolation -e .
	touch $@

$(VENV)/.test-deps: requirements-dev.txt requirements.txt pyproject.toml | $(VENV)/bin/python
	$(PIP) install --quiet -r requirements-dev.txt
	$(PIP) install --quiet "setuptools>=70.1" && $(PIP) install --quiet --no-deps --no-build-isolation -e .
	touch $@ $(VENV)/.deps

deps: $(VENV)/.deps
test-deps: $(VENV)/.test-deps chromium node-deps

demo: deps
	@test -f $(DB) || QUARTIER_DB=$(DB) $(PY) -m quartier demo

run: deps demo
	QUARTIER_DB=$(DB) $(PY) -m streamlit run server.py --server.port $(PORT)

chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    echo "Installiere Debians chromium für die Browser-Tests …"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium poppler-utils >/dev/null; \
	  else echo "Bitte 'sudo apt-get install chromium poppler-utils' ausführen (Browser-Tests)."; exit 1; fi; \
	fi
	@command -v pdftoppm >/dev/null || { [ "$$(id -u)" = "0" ] && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils >/dev/null; } || true

node-deps: node_modules/axe-core/axe.min.js

node_modules/axe-core/axe.min.js: package.json
	npm install --no-audit --no-fund --silent
	@touch $@

lint: $(VENV)/.test-deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

# Compiled modules (and pytest's rewritten test modules) are cached in __pycache__ even where the environment
# switches that off (PYTHONDONTWRITEBYTECODE): otherwise every test worker compiles everything again (~2 s each).
PYTEST = PYTHONDONTWRITEBYTECODE= $(PY) -m pytest

check: lint
	$(PYTEST) -n 2 --dist loadgroup -m "not e2e" -q

e2e: test-deps
	$(PYTEST) -n 2 --dist loadgroup -m e2e

test: test-deps lint
	$(PYTEST) -n 2 --dist loadgroup

bench: test-deps
	$(PY) -m bench

clean:
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache
