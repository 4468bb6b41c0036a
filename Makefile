# The two commands: `make run` and `make test`. Both bootstrap .venv from python3 first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PLUGIN_DIRS := $(patsubst %/pyproject.toml,%,$(wildcard plugins/*/pyproject.toml))

.PHONY: install run test lint format bench clients clean

install: $(STAMP)

$(STAMP): pyproject.toml $(wildcard plugins/*/pyproject.toml)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check \
		-e '.[dev]' $(addprefix -e ,$(PLUGIN_DIRS))
	@touch $@

run: $(STAMP)
	$(BIN)/gnews dev

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

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
