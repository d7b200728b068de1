# The README's commands. Everything runs inside a local virtual environment that `make` builds itself.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: venv test lint bench soak demo package clean

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q -r requirements-dev.txt
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q -n 2 $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check lib handlers sandbox tests bench scripts
	$(BIN)/ruff format --check lib handlers sandbox tests bench scripts
	$(BIN)/mypy

bench: $(STAMP)
	$(PY) -m bench

# The full reliability runs: a month of timer ticks against the sandbox, state in a folder, then in COS.
soak: $(STAMP)
	$(PY) scripts/soak.py
	$(PY) scripts/soak.py --store cos --time-limit 600

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache

demo: $(STAMP)
	$(PY) -m sandbox demo

package: $(STAMP)
	$(PY) scripts/package.py
