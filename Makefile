# The README's two commands: `make run` and `make test`. Both create the virtual environment
# when it is missing, install the pinned requirements, and are safe to run again.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
PORT ?= 8000

# Development values for `make run`; values already in the environment win.
RUN_ENV = DEBUG=$${DEBUG:-1} \
	SECRET_KEY=$${SECRET_KEY:-dev-only-not-for-production} \
	ALLOWED_HOSTS=$${ALLOWED_HOSTS:-127.0.0.1,localhost}

# The suite runs with DEBUG off, as production does, but over plain HTTP, on each process's own
# memory cache (every test clears the cache; the Redis tests use TEST_REDIS_URL and their own keys).
TEST_ENV = DEBUG=$${DEBUG:-0} \
	SECRET_KEY=$${SECRET_KEY:-test-only-not-for-production} \
	ALLOWED_HOSTS=$${ALLOWED_HOSTS:-localhost,127.0.0.1,testserver} \
	SECURE_SSL_REDIRECT=0 SESSION_COOKIE_SECURE=0 CSRF_COOKIE_SECURE=0 CACHE_URL=

.PHONY: run test setup lint messages bench docs

$(INSTALLED): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e ".[dev,prod]"
	touch $(INSTALLED)

setup: $(INSTALLED)

run: $(INSTALLED)
	$(RUN_ENV) $(BIN)/python manage.py migrate --noinput
	$(RUN_ENV) $(BIN)/python manage.py load_criteria
	$(RUN_ENV) $(BIN)/python manage.py import_units --region trung-du-mien-nui-phia-bac
	$(RUN_ENV) $(BIN)/python manage.py apply_reorganisation
	$(RUN_ENV) $(BIN)/python manage.py create_demo_accounts --if-debug
	$(RUN_ENV) $(BIN)/python manage.py create_demo_period --if-debug
	$(RUN_ENV) $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

# `make test` ends with its own duration (pytest prints the ten slowest tests before it). The
# suite runs on every core (pytest-xdist: a test database per worker); PYTEST_WORKERS=0 runs it
# in one process.
STARTED := $(shell date +%s)
PYTEST_WORKERS ?= auto

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache --no-logo

test: lint
	$(TEST_ENV) $(BIN)/python manage.py makemigrations --check --dry-run
	$(TEST_ENV) $(BIN)/python -m pytest -n $(PYTEST_WORKERS); status=$$?; \
	echo "make test: $$(( $$(date +%s) - $(STARTED) )) s in all (lint, migrations check, pytest)"; \
	exit $$status

# Refresh the Vietnamese catalogue after changing user-facing strings (needs GNU gettext).
messages: $(INSTALLED)
	$(TEST_ENV) $(BIN)/python manage.py makemessages -l vi --no-obsolete --add-location file -i ".venv/*" -i "static/*"
	$(TEST_ENV) $(BIN)/python manage.py compilemessages -l vi

# Benchmarks at national scale (see docs/performance.md); PostgreSQL when DATABASE_URL is set.
bench: $(INSTALLED)
	$(BIN)/python bench/run.py

# The user guide (docs/guide/): the browser walk takes fresh screenshots on the demo data and
# checks every button the guide names, then build_guide writes templates/guide/_body.html (served
# at /huong-dan/) and prints docs/guide/huong-dan-su-dung.pdf with Chromium.
docs: $(INSTALLED)
	$(TEST_ENV) GUIDE_SCREENSHOT_DIR=docs/guide/img $(BIN)/python -m pytest -q -p no:cacheprovider tests/e2e/test_guide_screens.py
	$(TEST_ENV) $(BIN)/python manage.py build_guide
