# make run  — set up everything and start the panel, worker, cron and WDT simulator
# make test — install what tests need and run the whole suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
HTMX := static/vendor/htmx.min.js
CATALOGS := $(patsubst %.po,%.mo,$(wildcard translations/*/LC_MESSAGES/messages.po))

.PHONY: run test install assets bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(INSTALLED): $(BIN)/python requirements.txt requirements-dev.txt
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

$(HTMX): package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	mkdir -p static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js $@

translations/%/LC_MESSAGES/messages.mo: translations/%/LC_MESSAGES/messages.po $(INSTALLED)
	$(BIN)/pybabel compile -i $< -o $@ >/dev/null

install: $(INSTALLED) $(HTMX) $(CATALOGS)

assets: $(HTMX) $(CATALOGS)

run: install
	$(BIN)/python -m wdtpanel.devserver

# The whole suite on SQLite (browser tests included), then everything but the browser on PostgreSQL, then the
# fault suite (the system as real processes, one set per test, in parallel).
test: install
	bash tests/services.sh install
	$(BIN)/python -m pytest -m "not faults" $(PYTEST_ARGS)
	WDTPANEL_TEST_DATABASE_URL=$$(bash tests/services.sh postgres) $(BIN)/python -m pytest -q -m "not browser and not faults" $(PYTEST_ARGS)
	$(BIN)/python -m pytest -q tests/faults -n 6 $(PYTEST_ARGS)

bench: install
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) node_modules static/vendor
