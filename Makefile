# Set-up and everyday commands. `make serve` and `make test` each do all the set-up they need.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: serve test browser validate bench loadtest messages clean js

$(BIN)/geomap: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

serve: $(BIN)/geomap
	$(BIN)/geomap serve --host 127.0.0.1 --port 8000

# The browser tests drive Debian's Chromium (and a CJK font, so screenshots show Chinese);
# install them when they are missing.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser:
	@if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi zenhei; then \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium fonts-wqy-zenhei >/dev/null; \
	fi

test: $(BIN)/geomap browser node_modules/.bin/esbuild
	$(BIN)/pytest

# The map's script is ES modules (geomap/static/src/map/, one job each) that esbuild bundles
# into geomap/static/geomap.js. The built file is committed, so serving needs no Node; the
# tests check it is what the modules build (`make js` after editing them).
node_modules/.bin/esbuild: package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq nodejs npm >/dev/null; }
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

js: node_modules/.bin/esbuild
	node geomap/static/src/build.mjs

validate: $(BIN)/geomap
	$(BIN)/geomap validate

# Benchmarks (docs/performance.md): minutes of work, not part of `make test`.
bench: $(BIN)/geomap browser
	$(BIN)/pip install --quiet -r bench/requirements.txt
	$(BIN)/python bench/run.py

loadtest: $(BIN)/geomap
	$(BIN)/python bench/loadtest.py

clean:
	rm -rf $(VENV) test-artifacts .pytest_cache node_modules

# The UI's message catalogs (Babel gettext): extract the strings marked in geomap/ (N_, gettext)
# and templates/ (_, gettext, ngettext) into the .pot, merge them into each language's .po, and
# compile the .mo. All three are committed, so an install needs no build step; translate the
# new entries in geomap/translations/<lang>/LC_MESSAGES/messages.po, then run this again.
messages: $(BIN)/geomap
	$(BIN)/pybabel extract -F babel.cfg -k N_ -o geomap/translations/messages.pot . \
	  --add-location=file --sort-by-file -c TRANSLATORS: --project=geomap --no-wrap --copyright-holder="geomap contributors"
	$(BIN)/pybabel update -i geomap/translations/messages.pot -d geomap/translations -D messages \
	  --no-wrap --ignore-obsolete --no-fuzzy-matching
	$(BIN)/pybabel compile -d geomap/translations -D messages --statistics
