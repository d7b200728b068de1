# The README's commands. Everything runs inside a local virtual environment that `make` builds itself.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: venv test lint bench soak demo package clean chromium

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q -r requirements-dev.txt
	touch $(STAMP)

test: $(STAMP) chromium
	$(PY) -m pytest -q -n 2 $(PYTEST_ARGS)

# The dashboard's browser test needs Debian's chromium (and CJK fonts for the zh page's screenshots).
# Installed where missing when apt-get can run (root, or sudo without a password); otherwise the test
# skips and says why.
CHROMIUM_PACKAGES := chromium fonts-noto-cjk
chromium:
	@if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		{ apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
			$(CHROMIUM_PACKAGES); } || echo "WARNING: apt-get could not install chromium: the browser test will be SKIPPED" >&2; \
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then \
		{ sudo apt-get update -q && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
			$(CHROMIUM_PACKAGES); } || echo "WARNING: apt-get could not install chromium: the browser test will be SKIPPED" >&2; \
	else \
		echo "WARNING: chromium is missing and cannot be installed here (not root, no sudo):" >&2; \
		echo "WARNING: the dashboard's browser test (tests/e2e/test_dashboard_browser.py) will be SKIPPED" >&2; \
	fi

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
