# The README's two commands are `make run` and `make test`; everything else here serves them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# pinned with hashes (`make lock` regenerates them): the image installs requirements.lock,
# `make test` and the console requirements-dev.lock (the same pins plus the dev tools)
LOCK := requirements.lock
DEV_LOCK := requirements-dev.lock
UV_COMPILE = $(BIN)/uv pip compile pyproject.toml --generate-hashes --universal \
	--python-version 3.11 --no-header -q
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: chaos run test setup redis-server lint types unit flow-check locales-check docs fuzz bench clean \
	lock image-test

$(STAMP): pyproject.toml $(DEV_LOCK)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { \
	  echo "python3 -m venv failed: installing python3-venv with apt"; rm -rf $(VENV); \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq python3-venv && \
	  $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install -q --require-hashes -r $(DEV_LOCK)
	$(BIN)/python -m pip install -q --no-deps --no-build-isolation -e .
	@touch $@

lock: $(STAMP)
	$(UV_COMPILE) -o $(LOCK)
	$(UV_COMPILE) --extra dev --extra embedded -o $(DEV_LOCK)

setup: $(STAMP)

redis-server:
	@# redis-server runs sentinels too (--sentinel); redis-cli (redis-tools) joins a test cluster
	@{ command -v redis-server && command -v redis-cli; } >/dev/null || { \
	  echo "installing redis-server and redis-tools with apt"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends \
	    redis-server redis-tools; }

run: $(STAMP)
	@if [ -n "$$BOT_TOKEN" ]; then $(BIN)/hotline run; else $(BIN)/hotline console; fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/hadolint Dockerfile

types: $(STAMP)
	$(BIN)/mypy

flow-check: $(STAMP)
	$(BIN)/hotline flow check
	$(BIN)/hotline locales check
	@$(BIN)/hotline flow diagram --markdown | diff -u docs/flow.md - >/dev/null || { \
	  echo "docs/flow.md is stale: run 'make docs'"; exit 1; }

docs: $(STAMP)
	$(BIN)/hotline flow diagram --markdown > docs/flow.md

test: $(STAMP) redis-server lint types flow-check
	$(BIN)/pytest

# property tests on fresh random examples, HOTLINE_FUZZ times as many as `make test` tries
fuzz: $(STAMP) redis-server
	HOTLINE_FUZZ=$${HOTLINE_FUZZ:-25} $(BIN)/pytest -q \
	  tests/unit/test_engine_stateful.py tests/unit/test_fields.py tests/unit/test_codec.py \
	  tests/unit/test_sealing.py tests/e2e/test_caller_fuzz.py

# the fault tests in full (README "Faults, several processes, Sentinel and Cluster"): real
# processes, 20 kills, 1,000 requests at once, a failover; then the store and e2e suites on a
# 3-master Redis Cluster
chaos: $(STAMP) redis-server
	HOTLINE_CHAOS=full $(BIN)/pytest -q -s tests/chaos
	HOTLINE_TEST_REDIS=cluster $(BIN)/pytest -q -rs tests/integration/test_store.py tests/e2e

bench: $(STAMP) redis-server
	$(BIN)/python -m bench

# the image against a local fake Bot API and Redis; needs a Docker daemon, says so without one
image-test: $(STAMP)
	$(BIN)/python -m tests.image

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
