# The two commands a newcomer needs: `make run` and `make test`. Everything they install is here.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# checkov's dependencies conflict with ours: it gets its own virtualenv (requirements-checkov.txt).
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed
PORT ?= 3000
export AWS_ACCOUNT_ID_ENDPOINT_MODE := disabled
export SAM_CLI_TELEMETRY := 0
export SAM_CLI_CONTAINER_CONNECTION_TIMEOUT := 1

.PHONY: openapi fuzz soak run test security lint typecheck validate build pytest unit integration e2e bench fmt system-deps clean api-key revoke-api-key

$(STAMP): requirements-dev.txt layers/receivables/requirements.txt pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip==25.3
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

$(CHECKOV_STAMP): requirements-checkov.txt
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
	$(BIN)/sam validate --lint --region eu-central-1
	$(BIN)/cfn-lint template.yaml

build: $(STAMP)
	$(BIN)/sam build --parallel --cached --region eu-central-1

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

## make soak: the invoice ledger's state machine at length (random payments, refunds, credit notes, voids)
soak: $(STAMP)
	LEDGER_SOAK_EXAMPLES=$(or $(EXAMPLES),200) LEDGER_SOAK_STEPS=$(or $(STEPS),25) \
		$(BIN)/pytest tests/integration/test_ledger_state_machine.py -n 0

## make bench: speed and cost figures (reports, never fails on a figure)
bench: $(STAMP) system-deps
	PYTHONPATH=layers/receivables:. $(BIN)/python -m bench.run

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
