# Sello: the two set-up commands are `make up` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON_PREFERENCE := only-system
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CDK_DISABLE_CLI_TELEMETRY := true
PYTHON ?= python3
UV_VERSION := 0.13.8
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
RUN := $(UV) run --frozen

.PHONY: help install up test synth demo bench deploy clean messages

help:
	@echo "make up      install, then run the local stack (API, emulator, outbox, Swagger UI)"
	@echo "make test    install, then run every test (unit, integration, infra, end-to-end)"
	@echo "make synth   CloudFormation into cdk.out/ (offline)"
	@echo "make demo    the main job against a fresh local stack, step by step (COUNTRY=MX for Mexico)"
	@echo "make bench   benchmarks, JSON into bench/results.json (SECTIONS=\"cold_import warm\": only those)"
	@echo "make messages  extract the texts people read, update the catalogs (layers/sello/locale), compile them"
	@echo "make deploy  SENDER_EMAIL=... [STAGE=dev]: deploy to the AWS account of your credentials (CDK)"

# uv itself comes from PyPI into a private virtualenv when the machine has none.
.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet "uv==$(UV_VERSION)"

# Bytecode compiled at install, as the Lambda layer ships it (`make bench` measures what Lambda runs).
.venv/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --compile-bytecode
	@touch $@

# The CDK command line, and CPython 3.13 as WebAssembly that compiles the layer's bytecode (infra/layer.py).
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

install: .venv/.installed node_modules/.package-lock.json

up: install
	$(RUN) python -m local

test: install
	$(RUN) pytest -n 2 --dist loadgroup

synth: install
	$(RUN) python infra/app.py

COUNTRY ?= EC
demo: install
	$(RUN) python -m local.demo --country $(COUNTRY)

bench: install
	$(RUN) python -m bench $(SECTIONS)

messages: install
	$(RUN) python -m tools.messages

STAGE ?= dev
deploy: install
	@test -n "$(SENDER_EMAIL)" || { echo "usage: make deploy SENDER_EMAIL=billing@your-domain [STAGE=dev]"; exit 2; }
	npx cdk deploy --all --no-notices --context stage=$(STAGE) --parameters SenderEmail=$(SENDER_EMAIL)

clean:
	rm -rf .venv .tools cdk.out node_modules .local
