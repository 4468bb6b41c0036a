# The two commands: `make run` and `make test`. Both bootstrap .venv from python3 first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PLUGIN_DIRS := $(patsubst %/pyproject.toml,%,$(wildcard plugins/*/pyproject.toml))
# Every dependency's exact version (all extras, every platform): installs use it as constraints,
# so they are the same everywhere (here, CI, the Containerfile). Change it only with `make lock`.
LOCK := requirements.lock
LOCK_COMPILE = $(BIN)/uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 \
	--quiet --custom-compile-command "make lock"

.PHONY: install run test lint format bench clients clean lock lock-check

install: $(STAMP)

$(STAMP): pyproject.toml $(LOCK) $(wildcard plugins/*/pyproject.toml)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c $(LOCK) \
		-e '.[dev]' $(addprefix -e ,$(PLUGIN_DIRS))
	@touch $@

# After changing dependencies in pyproject.toml: pins what is new, keeps the other pins.
# `make lock UPGRADE=1` moves every pin to the newest allowed version.
lock: $(STAMP)
	$(LOCK_COMPILE) $(if $(UPGRADE),--upgrade) -o $(LOCK)
	@echo "$(LOCK) updated: review and commit it with the pyproject.toml change"

# Fails when pyproject.toml asks for something the lock does not pin (run by `make test`).
lock-check: $(STAMP)
	@cp $(LOCK) $(VENV)/lock-check.txt
	@$(LOCK_COMPILE) -o $(VENV)/lock-check.txt
	@diff -u $(LOCK) $(VENV)/lock-check.txt \
		|| (echo "$(LOCK) is out of date with pyproject.toml: run make lock" && exit 1)

run: $(STAMP)
	$(BIN)/gnews dev

test: $(STAMP) lock-check
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest -n 2  # two processes: most tests wait on servers, so they overlap

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	@for script in $(filter-out bench/support.py,$(wildcard bench/*.py)); do echo "== $$script"; $(BIN)/python $$script || exit 1; done

# Clients generated from the live OpenAPI document of a running API (`make run`, or API_URL):
# a Python package (openapi-python-client) and TypeScript types (openapi-typescript, via npx).
API_URL ?= http://127.0.0.1:8000
CLIENTS_DIR ?= var/clients
OPENAPI_TYPESCRIPT ?= openapi-typescript@7.13.0
clients: $(STAMP)
	@mkdir -p $(CLIENTS_DIR)
	curl -fsS --max-time 120 $(API_URL)/schema/openapi.json -o $(CLIENTS_DIR)/openapi.json
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/openapi-python-client generate --overwrite \
		--path $(CLIENTS_DIR)/openapi.json --output-path $(CLIENTS_DIR)/python \
		--config clients/openapi-python-client.yaml
	@mkdir -p $(CLIENTS_DIR)/typescript
	npx --yes $(OPENAPI_TYPESCRIPT) $(CLIENTS_DIR)/openapi.json -o $(CLIENTS_DIR)/typescript/gnews-api.d.ts
	@echo "clients in $(CLIENTS_DIR): python/ (package gnews_api_client), typescript/gnews-api.d.ts"

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
