# SafeLabel: `make run` starts the app, `make test` runs every test. Both set themselves up.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run run-cluster test bench bench-browser bench-pg chromium nginx postgresql clean

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

# The tests run every store test on PostgreSQL too: Debian's server binaries, started by the
# tests themselves as a throwaway cluster in a temporary folder (deploy/local_postgres.py).
postgresql:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
		echo "Installing Debian's postgresql for the tests on the second store"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq postgresql >/dev/null; }

# Where `make run` listens: this machine only, unless told otherwise, e.g.
# `make run ADDRESS=0.0.0.0` for a team network (put deploy/nginx.conf in front of it).
ADDRESS ?= 127.0.0.1
PORT ?= 8501

# The reverse-proxy example (deploy/nginx.conf) is tested with Debian's nginx, unpacked into
# .venv/nginx rather than installed: no root needed, no system service started on port 80.
NGINX := $(VENV)/nginx/usr/sbin/nginx

nginx: $(NGINX)

$(NGINX): | $(PY)
	@echo "Unpacking Debian's nginx into $(VENV)/nginx for the proxy example's tests"
	@mkdir -p $(VENV)/nginx
	@cd $(VENV)/nginx && { apt-get download -qq nginx 2>/dev/null || { \
		$(SUDO) apt-get update -qq && apt-get download -qq nginx; }; }
	@dpkg-deb -x $(VENV)/nginx/nginx_*.deb $(VENV)/nginx && rm -f $(VENV)/nginx/nginx_*.deb

# `cli.py init` creates the database (with the demo) and prints the first-admin token, if one
# is still needed, before the app takes the file. While another SafeLabel holds the file it
# says so and exits non-zero, so make stops before starting a second server.
run: $(VENV)/.installed
	$(PY) cli.py init
	$(VENV)/bin/streamlit run serve.py --server.address $(ADDRESS) --server.port $(PORT)

# Several app processes on one PostgreSQL, behind nginx with sticky sessions, on this
# machine (deploy/run_cluster.py; README "Several app processes"): PostgreSQL's data, the
# nginx configuration and the logs go to .cluster/. `make run-cluster N=3 PORT=8501`.
N ?= 3

run-cluster: $(VENV)/.installed postgresql $(NGINX)
	$(PY) deploy/run_cluster.py --processes $(N) --address $(ADDRESS) --port $(PORT)

test: $(VENV)/.installed-dev chromium postgresql $(NGINX)
	$(PY) -m pytest

bench: $(VENV)/.installed-dev
	$(PY) bench/bench_cli.py
	$(PY) bench/bench_store.py
	$(PY) bench/bench_export.py
	$(PY) bench/bench_dashboard.py

# The PostgreSQL half of the proof under load and faults (a throwaway local cluster).
bench-pg: $(VENV)/.installed-dev postgresql
	$(PY) bench/bench_load_pg.py
	$(PY) bench/bench_crash.py --postgresql

bench-browser: $(VENV)/.installed-dev chromium
	$(PY) bench/bench_browser.py

clean:
	rm -rf $(VENV) .pytest_cache
