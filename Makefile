# The two commands a newcomer needs: `make run` and `make test`. Everything they install is here.
SHELL := /bin/bash
# Lambda runs python3.13 (template.yaml); the tests, the local runtime and `sam build` run on the same minor.
# Found on PATH first, then among pyenv's versions (tools/find_python.sh); PYTHON=/path/to/python3.13 overrides.
PYTHON_VERSION := 3.13
ifeq ($(origin PYTHON),undefined)
PYTHON := $(shell tools/find_python.sh $(PYTHON_VERSION))
endif
VENV := .venv
BIN := $(VENV)/bin
# The stamp names the Python version: a .venv made with another one (3.11 before) is rebuilt, not reused.
STAMP := $(VENV)/.installed-python$(PYTHON_VERSION)
# checkov's dependencies conflict with ours: it gets its own virtualenv (requirements-checkov.txt).
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed-python$(PYTHON_VERSION)
PORT ?= 3000
export AWS_ACCOUNT_ID_ENDPOINT_MODE := disabled
export SAM_CLI_TELEMETRY := 0
export SAM_CLI_CONTAINER_CONNECTION_TIMEOUT := 1
# `sam build` needs python3.13 on PATH (the layer's Makefile and SAM's runtime check call it): the venv's own.
SAM := PATH="$(abspath $(BIN)):$$PATH" $(BIN)/sam

define NO_PYTHON
python$(PYTHON_VERSION) not found (Lambda runs python$(PYTHON_VERSION); tests and the local runtime use the same).
Looked on PATH and in $$(pyenv root)/versions/$(PYTHON_VERSION)*. Install it, then run make again:
  pyenv install $(PYTHON_VERSION)                  (with pyenv; `make` finds it without `pyenv global`)
  apt-get install python$(PYTHON_VERSION)-venv     (Debian 13, Ubuntu 25.04; older Ubuntu: deadsnakes PPA)
  https://www.python.org/downloads/  (macOS, Windows)
or name one: make PYTHON=/path/to/python$(PYTHON_VERSION) ...
endef
export NO_PYTHON

.PHONY: openapi fuzz soak run test security lint typecheck validate build pytest unit integration e2e bench bench-cold-start fmt system-deps clean api-key revoke-api-key

$(STAMP): requirements-dev.txt layers/receivables/requirements.txt pyproject.toml
	@test -n "$(PYTHON)" || { echo "$$NO_PYTHON" >&2; exit 1; }
	@echo "Python $(PYTHON_VERSION): $(PYTHON)"
	@if [ -d $(VENV) ] && [ "$$($(BIN)/python -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" != "$(PYTHON_VERSION)" ]; then \
	  echo "$(VENV) was not made with Python $(PYTHON_VERSION): rebuilding it"; rm -rf $(VENV); fi
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip==25.3
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

$(CHECKOV_STAMP): requirements-checkov.txt
	@test -n "$(PYTHON)" || { echo "$$NO_PYTHON" >&2; exit 1; }
	@if [ -d $(CHECKOV_VENV) ] && [ "$$($(CHECKOV_VENV)/bin/python -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" != "$(PYTHON_VERSION)" ]; then \
	  echo "$(CHECKOV_VENV) was not made with Python $(PYTHON_VERSION): rebuilding it"; rm -rf $(CHECKOV_VENV); fi
	test -d $(CHECKOV_VENV) || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check --upgrade pip==25.3
	$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	touch $(CHECKOV_STAMP)

## make run: the whole system on this machine (emulated AWS, no Docker), on http://127.0.0.1:$(PORT)
run: $(STAMP)
	PORT=$(PORT) $(BIN)/python -m local_runtime

## make test: every check CI runs
test: $(STAMP) system-deps security lint typecheck validate build pytest

# Debian tools the tests use to look at what people see (PDF text and pictures, the hosted page).
system-deps:
	@command -v pdftotext >/dev/null && command -v pdftoppm >/dev/null && command -v chromium >/dev/null || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils chromium >/dev/null; }

## make security: checkov on template.yaml; any finding fails, and every skip is justified on its resource
## (Metadata: checkov: skip: in the template, docs/decisions/0017-security-checks.md). Offline: no download of
## Prisma Cloud guidelines, no update check.
security: $(CHECKOV_STAMP)
	CKV_SKIP_PACKAGE_UPDATE_CHECK=true $(CHECKOV_VENV)/bin/checkov --framework cloudformation --file template.yaml \
	  --compact --quiet --skip-download

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

validate: $(STAMP)
	$(SAM) validate --lint --region eu-central-1
	$(BIN)/cfn-lint template.yaml

build: $(STAMP)
	$(SAM) build --parallel --cached --region eu-central-1

pytest: $(STAMP)
	$(BIN)/pytest

unit integration e2e: $(STAMP)
	$(BIN)/pytest tests/$@

## make openapi: regenerate openapi.json from the handlers (a test fails while it is stale)
openapi: $(STAMP)
	$(BIN)/python -m local_runtime.openapi

## make fuzz: schemathesis from openapi.json against the local runtime, 10,000+ requests, zero 5xx
fuzz: $(STAMP)
	FUZZ_EXAMPLES=$(or $(EXAMPLES),450) FUZZ_MINIMUM_REQUESTS=10000 $(BIN)/pytest tests/fuzz -n 0 -s

## make soak: the invoice ledger's state machine at length (payments, refunds, credit notes, voids, disputes, plans, time to the write-off)
soak: $(STAMP)
	LEDGER_SOAK_EXAMPLES=$(or $(EXAMPLES),200) LEDGER_SOAK_STEPS=$(or $(STEPS),25) \
		$(BIN)/pytest tests/integration/test_ledger_state_machine.py -n 0

## make bench: speed and cost figures (reports, never fails on a figure); cold starts from the built artifact
bench: $(STAMP) system-deps build
	PYTHONPATH=layers/receivables:. $(BIN)/python -m bench.run

## make bench-cold-start: only the cold-start section (each function's import as shipped ÷ boto3 + a client)
bench-cold-start: $(STAMP) build
	PYTHONPATH=layers/receivables:. $(BIN)/python -m bench.run bench.cold_start

fmt: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## make api-key TABLE=<TableName output> STOREFRONT=<id> [SCOPES="orders reports"]: issue a key (AWS credentials)
api-key: $(STAMP)
	PYTHONPATH=layers/receivables:. $(BIN)/python -m tools.api_key issue --table "$(TABLE)" --storefront "$(STOREFRONT)" --scopes "$(or $(SCOPES),orders)"

revoke-api-key: $(STAMP)
	PYTHONPATH=layers/receivables:. $(BIN)/python -m tools.api_key revoke --table "$(TABLE)" --key "$(KEY)"

clean:
	rm -rf .aws-sam .local .mypy_cache .ruff_cache .pytest_cache $(CHECKOV_VENV)
