# Developer commands. The two a newcomer needs are `make demo` and `make test`;
# each creates the virtualenv .venv/ and installs what it needs first.

PYTHON ?= python3
VENV := .venv
VENV_PYTHON := $(VENV)/bin/python
PIP := $(VENV_PYTHON) -m pip install --quiet --disable-pip-version-check
# Stamp files: a set of requirements is reinstalled whenever it (or the packaging) changes.
PACKAGING := setup.py pyproject.toml
TEST_STAMP := $(VENV)/.installed-test
DEMO_STAMP := $(VENV)/.installed-demo
DOCS_STAMP := $(VENV)/.installed-docs
INTEGRATION_STAMP := $(VENV)/.installed-integration
MYSQL_STAMP := $(VENV)/.installed-mysql
RELEASE_STAMP := $(VENV)/.installed-release
BENCH_STAMP := $(VENV)/.installed-bench

.DEFAULT_GOAL := help
.PHONY: help venv browser test test-integration test-integration-mariadb test-django-tasks bench bench-real demo quality docs messages messages-check dist check-install release-check tox tox-ends clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-25s %s\n", $$1, $$2}'

venv: $(TEST_STAMP) ## Create .venv with the test and quality requirements and the package (editable)

# Debian's python3 ships `venv` without `ensurepip` unless python3-venv is installed.
$(VENV_PYTHON):
	@if ! $(PYTHON) -m venv --help >/dev/null 2>&1 || ! $(PYTHON) -c 'import ensurepip' >/dev/null 2>&1; then \
		echo "$(PYTHON) cannot create virtualenvs: installing the Debian package python3-venv"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update && $$SUDO apt-get install -y python3-venv; \
	fi
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); exit 1; }

$(TEST_STAMP): requirements/test.txt requirements/base.txt requirements/test-tools.txt requirements/quality.txt \
		$(PACKAGING) | $(VENV_PYTHON)
	$(PIP) -r requirements/test.txt -e .
	@touch $@

$(DEMO_STAMP): requirements/demo.txt requirements/base.txt $(PACKAGING) | $(VENV_PYTHON)
	$(PIP) -r requirements/demo.txt -e .
	@touch $@

# mysqlclient builds from source: scripts/services.sh installs the Debian packages it needs first.
$(MYSQL_STAMP): requirements/mysql.txt | $(VENV_PYTHON)
	scripts/services.sh build-deps
	$(PIP) -r requirements/mysql.txt
	@touch $@

$(INTEGRATION_STAMP): requirements/integration.txt $(MYSQL_STAMP) | $(VENV_PYTHON)
	$(PIP) -r requirements/integration.txt
	@touch $@

$(BENCH_STAMP): requirements/bench.txt $(INTEGRATION_STAMP) | $(VENV_PYTHON)
	$(PIP) -r requirements/bench.txt
	@touch $@

# The demo on DATABASE_URL=mysql://… needs the MySQL/MariaDB driver too.
DEMO_DRIVERS := $(if $(filter mysql://%,$(DATABASE_URL)),$(MYSQL_STAMP))

$(DOCS_STAMP): requirements/docs.txt requirements/base.txt $(PACKAGING) | $(VENV_PYTHON)
	$(PIP) -r requirements/docs.txt -e .
	@touch $@

$(RELEASE_STAMP): requirements/release.txt | $(VENV_PYTHON)
	$(PIP) -r requirements/release.txt
	@touch $@

# The browser tests drive Debian's Chromium (never a downloaded one); CHROMIUM points elsewhere.
CHROMIUM ?= /usr/bin/chromium
browser: ## Install Chromium for the browser tests (Debian package), unless $(CHROMIUM) exists
	@if [ ! -x "$(CHROMIUM)" ]; then \
		echo "$(CHROMIUM) is missing: installing the Debian package chromium"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y chromium; \
	fi

test: venv browser ## Run the whole test suite (browser tests included) with a coverage report
	$(VENV_PYTHON) -m pytest --cov --cov-report=term-missing --ignore=tests/integration --ignore=tests/mariadb $(PYTEST_ARGS)

# The browser tests run the SQLite demo: `make test` covers them.
test-integration: venv $(INTEGRATION_STAMP) ## Run the suite on PostgreSQL and Redis, which scripts/services.sh installs and starts
	scripts/services.sh
	$(VENV_PYTHON) -m pytest --ds=tests.settings_integration --ignore=tests/browser --ignore=tests/mariadb $(PYTEST_ARGS)

# The same suite, and tests/mariadb/ (migrations of MariaDB databases written by django-user-tasks).
test-integration-mariadb: venv $(INTEGRATION_STAMP) ## Run the suite on MariaDB and Redis, which scripts/services.sh installs and starts
	scripts/services.sh start mariadb redis
	$(VENV_PYTHON) -m pytest --ds=tests.settings_mariadb --ignore=tests/browser $(PYTEST_ARGS)

# Django 6's django.tasks needs Python 3.12+: its own virtualenv, from pyenv's newest 3.12/3.13 when
# pyenv is there (python3.13 or python3.12 on PATH otherwise), with django-tasks-db for db_worker.
DJANGO_TASKS_VENV := .venv-django-tasks
DJANGO_TASKS_PYTHON ?= $(shell for v in 3.13 3.12; do \
	p=$$(command -v pyenv >/dev/null 2>&1 && ls -d "$$(pyenv root)"/versions/$$v.*/bin/python$$v 2>/dev/null | tail -1); \
	[ -n "$$p" ] || p=$$(command -v python$$v); [ -n "$$p" ] && { echo "$$p"; break; }; done)
DJANGO_TASKS_STAMP := $(DJANGO_TASKS_VENV)/.installed
$(DJANGO_TASKS_STAMP): requirements/django-tasks.txt requirements/test-tools.txt $(PACKAGING)
	@[ -n "$(DJANGO_TASKS_PYTHON)" ] || { echo "make test-django-tasks needs Python 3.12 or 3.13 (pyenv or PATH)"; exit 1; }
	[ -x $(DJANGO_TASKS_VENV)/bin/python ] || $(DJANGO_TASKS_PYTHON) -m venv $(DJANGO_TASKS_VENV)
	$(DJANGO_TASKS_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements/django-tasks.txt -e .
	@touch $@

# django.tasks tracked on Django 6: the Immediate backend, and django-tasks-db's db_worker processes on PostgreSQL;
# then the demo on Django 6, whose django.tasks export its own db_worker runs (in Chromium, then over HTTP).
test-django-tasks: $(DJANGO_TASKS_STAMP) browser ## Run the django.tasks tests and the demo's django.tasks export on Django 6 (own virtualenv)
	scripts/services.sh start postgresql
	$(DJANGO_TASKS_VENV)/bin/python -m pytest -p no:cacheprovider --ds=tests.settings_django_tasks \
		tests/django_tasks tests/test_django_tasks_gate.py tests/browser/test_demo_django_tasks.py $(PYTEST_ARGS)
	$(DJANGO_TASKS_VENV)/bin/python scripts/check_demo.py --django-tasks

DEMO_ADDRPORT ?= 127.0.0.1:8000
bench: venv ## Run the benchmarks on SQLite with in-process workers (quick; prints figures)
	$(VENV_PYTHON) -m benchmarks

bench-real: venv $(BENCH_STAMP) ## Run the benchmarks on PostgreSQL, Redis and worker processes, full sizes
	scripts/services.sh
	$(VENV_PYTHON) -m benchmarks --real

demo: $(DEMO_STAMP) $(DEMO_DRIVERS) ## Run the demo (web server + Celery worker) at http://127.0.0.1:8000/, login demo/demo
	$(VENV_PYTHON) manage.py demo $(DEMO_ADDRPORT)

quality: venv ## Lint, check formatting, type-check the package
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

docs: $(DOCS_STAMP) ## Build the HTML documentation into docs/_build/html (warnings are errors)
	$(VENV_PYTHON) -m sphinx -W --keep-going -b html docs docs/_build/html

# Run from user_tasks/ so the catalogs are the app's own; file-only locations keep them stable.
messages: venv ## Regenerate the translation catalogs from the code and compile them (needs GNU gettext)
	cd user_tasks && ../$(VENV)/bin/django-admin makemessages -l en -l fr --no-obsolete --add-location=file
	cd user_tasks && ../$(VENV)/bin/django-admin compilemessages

messages-check: venv ## Check that the catalogs match the code and the .mo files their .po (installs gettext if missing)
	scripts/check_messages.sh

dist: $(RELEASE_STAMP) ## Build the sdist and wheel into dist/, run twine check and check their contents
	$(VENV_PYTHON) scripts/check_dist.py --outdir dist

check-install: dist ## Install the wheel into a fresh virtualenv, add the app to a new Django project, run a task
	$(VENV_PYTHON) scripts/check_install.py --wheel $$(ls dist/*.whl)

# What CI runs besides the tests: tox's quality, docs and dist environments, each in its own
# virtualenv built from the declared requirements only.
release-check: $(RELEASE_STAMP) ## Run tox's quality, docs and dist (build, twine check, fresh install) environments
	$(VENV)/bin/tox -e quality,docs,dist

# tox finds python3.X on PATH: pyenv's versions are put first when pyenv is there.
PYENV_PATH := $(shell command -v pyenv >/dev/null 2>&1 && for v in $$(pyenv versions --bare | grep -E '^3\.1[0-3]\.'); do printf '%s:' "$$(pyenv root)/versions/$$v/bin"; done)
tox: $(RELEASE_STAMP) ## Run the whole tox matrix (Python 3.10–3.13 × Django 4.2–6.1, Celery, DRF), two at a time
	PATH="$(PYENV_PATH)$$PATH" $(VENV)/bin/tox -p 2 $(TOX_ARGS)

# The two ends of the matrix, which CI runs: the oldest releases setup.py admits, on the oldest
# Python, and the newest Django on the newest Python. A missing interpreter fails here.
tox-ends: $(RELEASE_STAMP) ## Run tox's py310-oldest and py313-django61 environments (the ends of the matrix)
	PATH="$(PYENV_PATH)$$PATH" $(VENV)/bin/tox -p 2 --skip-missing-interpreters false -e py310-oldest,py313-django61

clean: ## Remove the virtualenv, demo data and build and test leftovers
	rm -rf $(VENV) $(DJANGO_TASKS_VENV) var build dist *.egg-info .tox docs/_build htmlcov .coverage coverage.xml \
		.pytest_cache .mypy_cache .ruff_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
