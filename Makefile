# Powerlet: the project's face. `make run` and `make test` are the two commands;
# each installs what it needs (system packages included) on a fresh Debian machine.

SHELL := /bin/bash
.DEFAULT_GOAL := help
export PYTHONPATH := $(CURDIR)/functions:$(CURDIR)/greengrass_component:$(CURDIR)/infra:$(CURDIR)
export UV_PYTHON_DOWNLOADS := never
UV ?= uv
RUN := $(UV) run --frozen --python python3.11
SYSTEM_PACKAGES := mosquitto socat chromium fonts-noto-cjk
STAGE ?= dev
# The component's version: unset, derived from its content (greengrass_component/build.py).
VERSION ?=
REGION ?= ap-northeast-1

.PHONY: token invitation help setup system-packages run test lint typecheck test-unit test-gateway \
        test-functional bench soak component package deploy requirements clean

help:
	@echo "make run        the whole system locally (AWS stand-in, API, demo data)"
	@echo "make test       install what is needed, lint, type-check, run every test tier"
	@echo "make bench      measure; JSON under bench/results/"
	@echo "make soak       a simulated month, 200 meters, 10 gateways, with faults"
	@echo "make component  build the Greengrass component artifact and recipe"
	@echo "make package    the CloudFormation stack for STAGE, offline (.local/deploy/STAGE/)"
	@echo "make deploy     deploy STAGE to the AWS account in your credentials (docs/deploy.md)"

# --- set-up -----------------------------------------------------------------

system-packages:
	@missing=""; for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo ">> installing system packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

.venv/.synced: uv.lock pyproject.toml
	@command -v $(UV) >/dev/null || python3 -m pip install -q 'uv==0.13.9'
	@echo ">> installing the locked Python environment (uv.lock)"
	@$(UV) sync --frozen --python python3.11 --quiet
	@touch $@

setup: system-packages .venv/.synced

requirements: .venv/.synced
	@$(UV) export --frozen --no-dev --no-group gateway --no-hashes --no-emit-project \
	  --no-header --format requirements-txt -o functions/requirements.txt --quiet
	@$(UV) export --frozen --only-group gateway --no-hashes --no-emit-project \
	  --no-header --format requirements-txt -o greengrass_component/requirements.txt --quiet
	@echo ">> functions/requirements.txt and greengrass_component/requirements.txt regenerated from uv.lock"

# --- the two commands -------------------------------------------------------

run: setup
	@exec .venv/bin/python -m local_run

test: setup lint typecheck
	@echo ">> tests: unit, gateway, local IoT, functional (AWS stand-in), infra, browser (Chromium), end to end"
	@$(RUN) pytest -q -p no:cacheprovider --timeout=300 tests
	@echo ">> all test tiers passed"

lint:
	@echo ">> ruff"
	@$(RUN) ruff check .
	@$(RUN) ruff format --check --quiet .
	@echo ">> import-linter (the layers of functions/chalicelib, docs/architecture.md)"
	@$(RUN) lint-imports --no-cache

typecheck:
	@echo ">> mypy (strict on the domain package)"
	@$(RUN) mypy --strict functions/chalicelib/domain
	@$(RUN) mypy functions/app.py functions/chalicelib infra/local_aws infra/local_run infra/local_iot infra/deploy greengrass_component/meter_gateway

bench: setup
	@mkdir -p bench/results
	@$(RUN) python bench/run_all.py

component: setup
	@$(RUN) python greengrass_component/build.py $(if $(VERSION),--version $(VERSION))

# The simulated month for a real-sized portfolio (docs/reliability.md); its short
# variant runs inside `make test` (tests/soak).
soak: setup
	@mkdir -p bench/results
	@$(RUN) python bench/soak.py --days 30 --meters 200 --gateways 10

package: setup
	@$(RUN) python -m deploy package --stage $(STAGE) $(if $(VERSION),--version $(VERSION))

deploy: setup
	@if [ -z "$(SENDER_EMAIL)" ]; then \
	  echo "make deploy needs SENDER_EMAIL=<an address verified in SES in $(REGION)> (docs/deploy.md)"; exit 2; fi
	@$(RUN) python -m deploy deploy --stage $(STAGE) $(if $(VERSION),--version $(VERSION)) --region $(REGION) \
	  --sender-email $(SENDER_EMAIL) $(if $(ALARM_EMAIL),--alarm-email $(ALARM_EMAIL))

clean:
	rm -rf .venv .local greengrass_component/greengrass-build .mypy_cache .ruff_cache

USER ?= tenant@formosa.example
token:
	@exec .venv/bin/python -m local_run.signin $(USER)

# A login invited on the local stack (reseller onboarding, move-in) gets the temporary
# password Cognito would have e-mailed (docs/api.md, "Trying it locally").
invitation:
	@exec .venv/bin/python -m local_run.invitation $(EMAIL)
