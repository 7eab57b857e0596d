# Set-up and everyday commands. `make serve` and `make test` each do all the set-up they need.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: serve test browser validate bench loadtest messages clean

$(BIN)/geomap: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

serve: $(BIN)/geomap
	$(BIN)/geomap serve --host 127.0.0.1 --port 8000

# The browser tests drive Debian's Chromium; install it when it is missing.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null; fi; }

test: $(BIN)/geomap browser
	$(BIN)/pytest

validate: $(BIN)/geomap
	$(BIN)/geomap validate

clean:
	rm -rf $(VENV) test-artifacts .pytest_cache
