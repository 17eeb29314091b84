# make run  — set up everything and start the panel, worker, cron and WDT simulator
# make test — install what tests need and run the whole suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
HTMX := static/vendor/htmx.min.js
CATALOGS := $(patsubst %.po,%.mo,$(wildcard translations/*/LC_MESSAGES/messages.po))

.PHONY: run test install assets bench clean catalog

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

# Static checks, then the whole suite: SQLite (browser tests included), PostgreSQL (all but the browser) and the
# fault suite (the system as real processes) beside them; see tests/run_suite.sh.
test: install
	bash tests/services.sh install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	bash tests/run_suite.sh $(PYTEST_ARGS)

# After changing UI text: refresh the English catalogue from the sources (then translate the new empty entries).
catalog: $(INSTALLED)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k N_ --no-location --sort-output -o /tmp/wdtpanel-messages.pot .
	$(BIN)/pybabel update -i /tmp/wdtpanel-messages.pot -d translations --no-fuzzy-matching --ignore-obsolete -w 120

bench: install
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) node_modules static/vendor
