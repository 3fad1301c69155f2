# The README's two commands: `make run` and `make test`. Both set up what they need.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
export FLASK_APP := elevator_safety

.PHONY: run test test-sqlite test-postgres lint format bench catalogs extract-messages system-deps setup db clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

setup: $(BIN)/.installed catalogs

## Compile the translation catalogues (the .mo files are build output, not committed).
catalogs: $(BIN)/.installed
	$(BIN)/pybabel compile -d elevator_safety/translations

## Re-extract messages and merge them into the catalogues (then translate the new ones).
extract-messages: $(BIN)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k _lp:1c,2 -o elevator_safety/translations/messages.pot .
	$(BIN)/pybabel update -i elevator_safety/translations/messages.pot -d elevator_safety/translations

## Debian packages: CJK font (PDFs, screenshots), Chromium (browser tests), poppler (PDF checks).
system-deps:
	@bash scripts/system-deps.sh

db: setup
	@bash scripts/instance-config.sh
	$(BIN)/flask db upgrade

run: setup system-deps db
	$(BIN)/flask demo load --if-empty
	@echo
	@echo "Demo logins (password for all: see DEMO_PASSWORD, default demo12345):"
	@$(BIN)/flask demo logins
	@echo
	@echo "Serving on http://$(HOST):$(PORT)/  (Ctrl-C stops everything)"
	@ELEVATOR_SAFETY_COOKIE_SECURE=false HOST=$(HOST) PORT=$(PORT) BIN=$(BIN) bash scripts/serve.sh

## Test processes (pytest-xdist): one per CPU; TEST_WORKERS=0 runs the tests in pytest's own process.
TEST_WORKERS ?= auto

## SQLite always; PostgreSQL too when TEST_DATABASE_URL is set.
test: setup system-deps
	$(MAKE) --no-print-directory test-sqlite
	@if [ -n "$$TEST_DATABASE_URL" ]; then $(MAKE) --no-print-directory test-postgres; \
	else echo "TEST_DATABASE_URL not set: PostgreSQL run skipped (CI sets it)."; fi

test-sqlite:
	env -u TEST_DATABASE_URL $(BIN)/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

test-postgres:
	$(BIN)/python -m pytest -n $(TEST_WORKERS) -m "not browser" $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: setup
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
