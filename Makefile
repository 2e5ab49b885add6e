# peaceplans: the everyday commands. `make run` works from a fresh clone.
#
#   make run     serve the demo with gunicorn on 127.0.0.1:$PORT (default 8000), DEBUG off
#   make setup   what `make run` does before it serves: .secret_key, migrate, load_demo, collectstatic
#   make dev     Django's runserver with DEBUG on, same address
#   make test    the test suite (pytest; DATABASE_URL from the environment, SQLite otherwise)
#   make lint    ruff check + ruff format --check + mypy (with django-stubs)
#   make bench   benchmarks: pages in process and over HTTP (gunicorn, wrk, Datasette); .run/bench.md
#   make loadtest  wrk over every kind of page against `make run`'s gunicorn; .run/loadtest.md, non-zero on any error
#   make cluster  nginx (https PORT, http PORT+1; default 8001) before two gunicorn instances, one PostgreSQL, one Redis
#   make clean   remove everything the targets above create (keeps .secret_key)
#
# Variables: PYTHON=/path/to/python3.12 (the interpreter for .venv), PORT, WEB_CONCURRENCY,
# PYTEST_ARGS="-k something -x", TEST_WORKERS (make test's pytest-xdist workers, default cores + 1),
# PEACEPLANS_TEST_PROFILE (dev or ci; see the test target).

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.ONESHELL:
.DELETE_ON_ERROR:
.DEFAULT_GOAL := help
MAKEFLAGS += --no-builtin-rules

VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check --quiet
MANAGE := $(PY) manage.py

# The HTML validator (npm vnu-jar, run with the system java). Bump the pin deliberately.
VNU_VERSION := 26.9.27
NPM_PREFIX := .cache/npm
VNU_JAR := $(NPM_PREFIX)/node_modules/vnu-jar/build/dist/vnu.jar
# Lighthouse (tests/lighthouse.py: tests/browser/test_lighthouse.py and `make bench`), with Debian's
# Chromium. 12.x: the last line that runs on Node 18 and 20 (13 needs Node 22). Same prefix as vnu-jar.
LIGHTHOUSE_VERSION := 12.8.2
LIGHTHOUSE := $(NPM_PREFIX)/node_modules/.bin/lighthouse

# A fixed, public value: tests never read .secret_key and never need a real secret.
TEST_SECRET_KEY := test-only-secret-key-not-for-production-peaceplans

PYTEST_ARGS ?=

.PHONY: help setup run dev test lint bench loadtest cluster clean venv install install-dev validator

# List the targets.
help:
	@sed -n 's/^#   //p' $(firstword $(MAKEFILE_LIST))

# The virtualenv, made with the first working Python >= 3.12: $(PYTHON) if given, else
# python3.13 / python3.12 on PATH (pyenv shims without PYENV_VERSION refuse to run, so
# each candidate is tried), else the newest pyenv-installed 3.12+.
$(PY):
	@ok() { "$$1" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; }
	py='$(PYTHON)'
	if [ -n "$$py" ]; then
	  if ! ok "$$py"; then
	    echo "PYTHON=$$py does not run as Python 3.12 or newer." >&2
	    exit 1
	  fi
	else
	  for cand in python3.13 python3.12; do
	    if command -v "$$cand" >/dev/null && ok "$$cand"; then py=$$(command -v "$$cand"); break; fi
	  done
	fi
	if [ -z "$$py" ]; then
	  shopt -s nullglob
	  found=("$${PYENV_ROOT:-$$HOME/.pyenv}"/versions/3.1[2-9]*/bin/python3.1[2-9])
	  if [ $${#found[@]} -gt 0 ]; then
	    while read -r cand; do
	      if ok "$$cand"; then py=$$cand; break; fi
	    done < <(printf '%s\n' "$${found[@]}" | sort -rV)
	  fi
	fi
	if [ -z "$$py" ]; then
	  echo "peaceplans needs Python 3.12 or newer; install it or set PYTHON=/path/to/python3.12" >&2
	  exit 1
	fi
	echo "==> creating $(VENV) with $$py ($$("$$py" -c 'import sys; print(sys.version.split()[0])'))"
	"$$py" -m venv --clear $(VENV)

# Runtime requirements; reinstalled only when requirements.txt changes.
$(VENV)/.installed-runtime: requirements.txt $(PY)
	@if ! $(PY) -c 'import sys; sys.exit(sys.version_info < (3, 12))'; then
	  echo "$(VENV) was made with Python < 3.12; run \`make clean\` and try again." >&2
	  exit 1
	fi
	echo "==> installing requirements.txt into $(VENV)"
	$(PIP) install -r requirements.txt
	touch $@

# Development and test requirements (requirements-dev.txt includes requirements.txt).
$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed-runtime
	@echo "==> installing requirements-dev.txt into $(VENV)"
	$(PIP) install -r requirements-dev.txt
	touch $@

# Shortcuts for the two stamps.
venv install: $(VENV)/.installed-runtime
install-dev: $(VENV)/.installed-dev

# Prepare to serve like production, without serving: a secret generated once into .secret_key
# (unless DJANGO_SECRET_KEY is set), DEBUG off, migrated, demo data loaded, static files collected.
setup: $(VENV)/.installed-runtime
	@if [ -z "$${DJANGO_SECRET_KEY:-}" ]; then
	  if [ ! -s .secret_key ]; then
	    echo "==> generating .secret_key (kept out of git; delete it to rotate)"
	    (umask 077 && $(PY) -c 'import secrets; print(secrets.token_urlsafe(50))' > .secret_key)
	  fi
	  chmod 600 .secret_key
	  DJANGO_SECRET_KEY=$$(< .secret_key)
	  export DJANGO_SECRET_KEY
	fi
	export DJANGO_DEBUG=0
	$(MANAGE) migrate --noinput
	$(MANAGE) load_demo
	$(MANAGE) collectstatic --noinput -v 0

# Serve like production: `setup`, then gunicorn on 127.0.0.1:$PORT with the same secret, DEBUG off.
# gunicorn runs through peaceplans/ops/server.py: a SIGTERM drains for PEACEPLANS_DRAIN_SECONDS (default
# 10; /healthz answers 503 "draining") before it stops, and the stop resets no queued connection. No
# front here, so no forwarded header is trusted (--forwarded-allow-ips ''): X-Forwarded-Proto from any
# local process is ignored. Behind a proxy, name its address there (docs/operations.md).
run: setup
	@if [ -z "$${DJANGO_SECRET_KEY:-}" ]; then
	  DJANGO_SECRET_KEY=$$(< .secret_key)
	  export DJANGO_SECRET_KEY
	fi
	export DJANGO_DEBUG=0
	mkdir -p .run
	echo "==> peaceplans on http://127.0.0.1:$${PORT:-8000}/ (Ctrl-C stops it)"
	exec $(VENV)/bin/python -m peaceplans.ops.server peaceplans.wsgi:application \
	  --bind 127.0.0.1:$${PORT:-8000} --workers $${WEB_CONCURRENCY:-2} \
	  --no-control-socket --pid .run/gunicorn.pid --access-logfile - \
	  --limit-request-line 8190 --forwarded-allow-ips ''

# Development server with DEBUG on (auto-reload, static files served from static/).
dev: $(VENV)/.installed-runtime
	@export DJANGO_DEBUG=1
	$(MANAGE) migrate --noinput
	$(MANAGE) load_demo
	exec $(MANAGE) runserver 127.0.0.1:$${PORT:-8000}

# The HTML validator and Lighthouse for the tests, installed once if npm exists. Never fatal:
# without them the validation and Lighthouse tests skip and say why (vnu-jar also needs java).
# Both in one npm command: `npm install --no-save` prunes what an earlier one installed.
# --ignore-scripts: vnu-jar's postinstall would download a JDK; Lighthouse needs none of its own.
validator:
	@if [ -f $(VNU_JAR) ] && [ -x $(LIGHTHOUSE) ]; then exit 0; fi
	if ! command -v npm >/dev/null; then
	  echo "==> npm missing: skipping vnu-jar and lighthouse (HTML validation and Lighthouse tests will skip)"
	  exit 0
	fi
	command -v java >/dev/null || echo "==> java missing: HTML validation tests will skip"
	echo "==> installing vnu-jar@$(VNU_VERSION) and lighthouse@$(LIGHTHOUSE_VERSION) into $(NPM_PREFIX)"
	mkdir -p .cache
	[ -f .cache/.gitignore ] || printf '*\n' > .cache/.gitignore
	if ! npm install --no-save --no-audit --no-fund --ignore-scripts --loglevel=error \
	    --prefix $(NPM_PREFIX) vnu-jar@$(VNU_VERSION) lighthouse@$(LIGHTHOUSE_VERSION); then
	  echo "==> warning: npm install failed (HTML validation and Lighthouse tests will skip)" >&2
	fi

# The test suite, with a fixed test secret; DATABASE_URL passes through (CI: PostgreSQL).
# In parallel (pytest-xdist), one worker more than there are cores: about a fifth of the suite waits on its
# own servers, browsers and timed holds (the 30 s slow-client hold, the hung Redis), and the extra worker
# renders meanwhile. On 2 cores, 2026-12-07: 632 s with 2 workers and 581 s with 3 on a quiet machine, one
# after the other; in .ci/run 589 s and 610 s with 3, and 640 s with 4 (more workers only contend).
# The run keeps both cores busy throughout, so its CPU time is what to cut: later on 2026-12-07 (one cluster
# for the server tests, WhiteNoise's file table and the bytecode kept), 832 CPU-s against 932 before, both
# runs started together on the same (shared, noisy) machine; single runs of the same code varied from 474 to 640 s.
# TEST_WORKERS=0 runs it in one process.
# --dist loadgroup: tests sharing a server (the browser tests, tests/conftest.py's KEEP_TOGETHER) stay on one worker,
# and the longest units of work go first (tests/conftest.py's LONG).
# Bytecode is kept in .cache/pycache, never beside the sources, and reused from run to run, also where
# PYTHONDONTWRITEBYTECODE is set (as on the CI machines): without it each worker rewrote pytest's asserts
# in every test module and in the Hypothesis and Schemathesis plugins anew, 6 of its 10 s of collection.
# PEACEPLANS_TEST_PROFILE (tests/conftest.py): `dev`, the default here, runs a fifth of the query
# fuzzer's Hypothesis examples, a tenth of the diff properties' and a quarter of the hostile-input
# sample (every category still in it); `ci` (.ci/run exports it; plain `pytest`'s default) runs all.
# Markers: -m "not slow", -m "not browser", -m "not servers" (pyproject.toml lists them).
PEACEPLANS_TEST_PROFILE ?= dev
TEST_WORKERS ?= $(shell echo $$(( $$(nproc) + 1 )))
test: $(VENV)/.installed-dev validator
	@export DJANGO_SECRET_KEY='$(TEST_SECRET_KEY)'
	export PYTHONPYCACHEPREFIX="$(CURDIR)/.cache/pycache"
	unset PYTHONDONTWRITEBYTECODE
	export VNU_JAR="$(CURDIR)/$(VNU_JAR)"
	export PEACEPLANS_TEST_PROFILE='$(PEACEPLANS_TEST_PROFILE)'
	$(VENV)/bin/pytest -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

# Lint, formatting and type checks (configuration: pyproject.toml); reports all three before failing.
# mypy's Django plugin imports peaceplans.settings, which needs a secret: the tests' fixed one.
lint: $(VENV)/.installed-dev
	@status=0
	$(VENV)/bin/ruff check . || status=1
	$(VENV)/bin/ruff format --check . || status=1
	DJANGO_SECRET_KEY='$(TEST_SECRET_KEY)' $(VENV)/bin/mypy || status=1
	exit $$status

# Benchmarks: speed is measured here, never in timed tests (tests/bench/run.py says what and how).
# About 8 minutes; own databases and servers on loopback; a table printed and written to
# .run/bench.md, every figure in .run/bench.json and .run/bench-*.json. Exits 0 whatever the
# figures; fails only when it cannot measure. wrk comes from apt (installed here when root).
bench: $(VENV)/.installed-dev validator
	@mkdir -p .run
	if ! command -v wrk >/dev/null; then
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
	    echo "==> installing wrk (apt-get)"
	    apt-get -o DPkg::Lock::Timeout=600 -y -q install wrk >/dev/null \
	      || { apt-get -q update >/dev/null && apt-get -o DPkg::Lock::Timeout=600 -y -q install wrk >/dev/null; }
	  else
	    echo "make bench needs wrk: sudo apt-get install -y wrk" >&2
	    exit 1
	  fi
	fi
	$(PY) tests/bench/run.py --out .run

# Load test (issue 8, item 3; tests/bench/loadtest.py): gunicorn with the `run` recipe's command on its
# own throwaway demo database and a free loopback port, wrk rotating over the overview, a comparison, a
# point, a search, an HTMX partial and the API. Prints req/s, p50/p99, requests, non-2xx and socket
# errors into .run/loadtest.md and .json; exits non-zero on any non-2xx or error.
LOADTEST_SECONDS ?= 60
LOADTEST_CONNECTIONS ?= 32
loadtest: $(VENV)/.installed-runtime
	@if ! command -v wrk >/dev/null; then
	  echo "make loadtest needs wrk: sudo apt-get install -y wrk" >&2
	  exit 1
	fi
	$(PY) tests/bench/loadtest.py --seconds $(LOADTEST_SECONDS) --connections $(LOADTEST_CONNECTIONS) --out .run

# Several servers (issue 8, item 4; issue 19, item 2; tests/cluster.py): one throwaway PostgreSQL cluster
# and one Redis on free loopback ports (or CLUSTER_PG_PORT, CLUSTER_REDIS_PORT), migrated and loaded with the
# demo; two gunicorn instances started as `run` starts it, on PORT+2 and PORT+3, trusting forwarded headers
# from the front only; and the production front, nginx (peaceplans/ops/nginx/), as the current user with
# its files in the run's temp folder: HTTPS on 127.0.0.1:PORT (default 8001; a throwaway self-signed
# certificate) and plain HTTP on PORT+1. Prints the front's address first. Runs until Ctrl-C or TERM, then
# stops each server by its PID and removes the PostgreSQL folder. A TERM to one app server's master drains
# it first (PEACEPLANS_DRAIN_SECONDS, default 10). Needs the PostgreSQL binaries, redis-server, nginx, openssl.
cluster: $(VENV)/.installed-runtime
	@exec $(PY) tests/cluster.py --port $${PORT:-8001} --workers $${WEB_CONCURRENCY:-2} \
	  --pg-port $${CLUSTER_PG_PORT:-0} --redis-port $${CLUSTER_REDIS_PORT:-0}

# Remove generated files: the venv, collected static files, PID files, caches, the
# SQLite database. .secret_key stays, so sessions survive a clean.
clean:
	rm -rf $(VENV) staticfiles .run .cache .mypy_cache db.sqlite3*
