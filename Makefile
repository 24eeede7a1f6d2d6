# SafeLabel: `make run` starts the app, `make test` runs every test. Both set themselves up.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test bench bench-browser chromium clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@ $(VENV)/.installed

# Browser tests drive Debian's Chromium (Playwright's own browser download cannot work here).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "Installing Debian's chromium for the browser tests"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium >/dev/null; }

# `cli.py init` creates the database (with the demo) and prints the first-admin token, if one
# is still needed, before the app takes the file.
run: $(VENV)/.installed
	$(PY) cli.py init
	$(VENV)/bin/streamlit run serve.py

test: $(VENV)/.installed-dev chromium
	$(PY) -m pytest

bench: $(VENV)/.installed-dev
	$(PY) bench/bench_store.py
	$(PY) bench/bench_export.py
	$(PY) bench/bench_dashboard.py

bench-browser: $(VENV)/.installed-dev chromium
	$(PY) bench/bench_browser.py

clean:
	rm -rf $(VENV) .pytest_cache
