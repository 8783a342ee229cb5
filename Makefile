# `make run` and `make test` set everything up on a fresh machine (Python >= 3.11 and PyPI access).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run
STAMP := $(VENV)/.installed
LEGACY_SQS_MODEL := $(VENV)/legacy-models/sqs/2012-11-05/service-2.json
PYTEST_ARGS ?=
HOST ?= 127.0.0.1
PORT ?= 4566

.PHONY: run test bench lint clean

# The server alone: its runtime dependencies, no test tools.
$(RUN_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $(RUN_STAMP)

# The server and what the tests drive it with (the `test` extra).
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# An older botocore whose SQS model still speaks the query protocol: the tests use it as a
# second, older SDK to prove both SQS protocols end to end.
$(LEGACY_SQS_MODEL): $(STAMP)
	$(BIN)/python tests/tools/fetch_legacy_sqs_model.py $(VENV)/legacy-models

run: $(RUN_STAMP)
	$(BIN)/eventyard serve --host $(HOST) --port $(PORT)

test: $(STAMP) $(LEGACY_SQS_MODEL)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# wrk (Debian's package) drives the load; bench/load.py also installs it when it is missing.
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	command -v wrk >/dev/null || (apt-get install -y -q wrk || (apt-get update -q && apt-get install -y -q wrk))
	$(BIN)/python bench/sqs.py

lint: $(STAMP)
	$(BIN)/python -m pip install --quiet ruff mypy
	$(BIN)/ruff check eventyard tests bench
	$(BIN)/mypy eventyard

clean:
	rm -rf $(VENV) .eventyard
