# Two commands do all the set-up: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app
HOST ?= 127.0.0.1
PORT ?= 5000
CHROMIUM ?= /usr/bin/chromium

.PHONY: run serve test install setup lint bench translations

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed; this is " + sys.version.split()[0])'
	@$(PYTHON) -m venv $(VENV) || { echo "Could not create $(VENV): on Debian/Ubuntu install python3-venv (apt-get install python3-venv)."; exit 1; }

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

# Compiled message catalogs (.mo) are built from the committed .po files, never committed.
PO := $(wildcard app/translations/*/LC_MESSAGES/messages.po)
MO := $(PO:.po=.mo)
$(MO): $(PO) | install
	$(BIN)/pybabel compile --statistics -d app/translations

translations: $(MO)

# CITY=paris serves the city folder cities/paris (its own instance folder, instance/paris)
# instead of the Los Angeles demo; its settings (time zone, languages...) come from the folder.
CITY ?=
ifdef CITY
export CIVIC_INSTANCE_PATH ?= $(CURDIR)/instance/$(CITY)
LOAD_CITY := $(FLASK) city load cities/$(CITY)
else
LOAD_CITY := $(FLASK) demo load
# The demo city is Los Angeles: its times read in its own zone unless you set another.
run setup: export CIVIC_TIME_ZONE ?= America/Los_Angeles
endif

setup: install translations
	$(FLASK) db upgrade
	$(LOAD_CITY)
run: setup
	$(FLASK) run --host $(HOST) --port $(PORT)

# Production: gunicorn (gunicorn.conf.py), migrations applied, no demo data; needs
# CIVIC_SECRET_KEY. Listens on HOST:SERVE_PORT (default 127.0.0.1:8000).
SERVE_PORT ?= 8000
serve: install translations
	CIVIC_ENV_NAME=production $(FLASK) db upgrade
	CIVIC_ENV_NAME=production HOST=$(HOST) PORT=$(SERVE_PORT) $(BIN)/gunicorn -c gunicorn.conf.py 'app:create_app()'


# The suite runs twice: on SQLite, then on PostgreSQL + PostGIS (a throwaway cluster on a unix
# socket, started by the run) when they are installed (tests/engines.py missing_postgresql).
HAS_POSTGRESQL = $(BIN)/python -c 'import sys; from tests.engines import missing_postgresql; sys.exit(1 if missing_postgresql() else 0)'
test: setup
	@test -x $(CHROMIUM) || echo "NOTE: Chromium not found at $(CHROMIUM): browser tests will be SKIPPED (apt-get install chromium to run them)."
	$(BIN)/python -m pytest
	@if $(HAS_POSTGRESQL); then \
		echo "$(BIN)/python -m pytest --engine postgresql tests"; \
		$(BIN)/python -m pytest --engine postgresql tests; \
	else \
		echo "NOTE: PostgreSQL not found: the PostgreSQL run is SKIPPED (apt-get install postgresql postgresql-postgis)"; \
	fi

lint: install
	$(BIN)/ruff check .

bench: install
	$(BIN)/python bench/photo_bench.py
	$(BIN)/python bench/route_bench.py
