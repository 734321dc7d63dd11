# llmaz-serverless: `make help` lists the targets.
# Every pinned version lives in versions.toml (`make versions` prints those make uses):
# scripts/pins.py writes them as variables (KEDA_VERSION, HTTP_ADDON_VERSION,
# LLMAZ_CHART_VERSION, HELM_VERSION, KUBECTL_VERSION, ACTIONLINT_MODULE, ACTIONLINT_VERSION)
# into an included file, which make rewrites whenever versions.toml changes.
include .cache/versions.mk
.cache/versions.mk: versions.toml scripts/pins.py
	@mkdir -p $(@D) && python3 scripts/pins.py make > $@

SHELL  := /bin/bash
VENV   ?= .venv
PY     := $(VENV)/bin/python
BIN    := .bin
export PATH := $(abspath $(BIN)):$(abspath $(VENV)/bin):$(PATH)
export LLMAZ_SERVERLESS_BIN_DIR := $(abspath $(BIN))
PYTEST_ARGS ?=
TARGET ?=
RUN_DIR ?=

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: system-deps
system-deps: ## install Redis, Prometheus and NATS servers from Debian if missing
	@bash scripts/install_system.sh

# python/testing (test support, never in the image) is installed beside the package, editable.
$(VENV)/.installed: python/pyproject.toml python/requirements.lock python/testing/pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check uv
	@$(VENV)/bin/uv pip sync --quiet --python $(PY) python/requirements.lock
	@$(VENV)/bin/uv pip install --quiet --python $(PY) --no-deps -e python -e python/testing
	@touch $@

.PHONY: versions
versions: ## print the pinned versions make uses (all pins: versions.toml)
	@printf '%s\n' "KEDA_VERSION=$(KEDA_VERSION)" "HTTP_ADDON_VERSION=$(HTTP_ADDON_VERSION)" \
		"LLMAZ_CHART_VERSION=$(LLMAZ_CHART_VERSION)" "HELM_VERSION=$(HELM_VERSION)" "KUBECTL_VERSION=$(KUBECTL_VERSION)" \
		"ACTIONLINT_VERSION=$(ACTIONLINT_VERSION)"

.PHONY: venv
venv: $(VENV)/.installed ## create .venv with the locked Python dependencies, the package and its test support

.PHONY: lock
lock: ## re-resolve python/requirements.lock from pyproject.toml
	@test -x $(VENV)/bin/uv || { python3 -m venv $(VENV) && $(PY) -m pip install --quiet uv; }
	cd python && ../$(VENV)/bin/uv pip compile --quiet --python-version 3.11 --all-extras pyproject.toml -o requirements.lock

# CI uses the pinned binaries only (runners carry other helm versions on PATH).
PINNED_TOOLS ?= $(CI)

.PHONY: tools
tools: ## install pinned helm and kubectl into .bin (or link supported ones from PATH unless CI=true)
	@python3 scripts/install_tools.py --bin-dir $(BIN) $(if $(filter true 1 yes,$(PINNED_TOOLS)),--pinned)

# actionlint from its pinned Go module (versions.toml [tools.actionlint]); the stamp names the version.
ACTIONLINT_STAMP := $(BIN)/.actionlint-$(ACTIONLINT_VERSION)
$(ACTIONLINT_STAMP): versions.toml
	@command -v go >/dev/null || { echo "make lint: actionlint is built with Go (go install $(ACTIONLINT_MODULE)@$(ACTIONLINT_VERSION)); install Go first" >&2; exit 2; }
	GOBIN=$(abspath $(BIN)) GOFLAGS=-modcacherw go install $(ACTIONLINT_MODULE)@$(ACTIONLINT_VERSION)
	@rm -f $(BIN)/.actionlint-* && touch $@

.PHONY: deps
deps: system-deps venv tools ## everything the tests need

# A fresh machine with only Python and apt has no Go: there actionlint is said NOT RUN and the rest
# of lint goes on; under CI=true (the CI runners have Go) a missing Go fails lint.
.PHONY: actionlint
actionlint: ## actionlint over .github/workflows (built with Go; NOT RUN without Go outside CI)
	@if ! command -v go >/dev/null && [ ! -f $(ACTIONLINT_STAMP) ] && [ "$${CI:-}" != true ]; then \
		echo "== actionlint: NOT RUN: Go is not installed (go install $(ACTIONLINT_MODULE)@$(ACTIONLINT_VERSION) builds it)"; \
	else \
		$(MAKE) --no-print-directory $(ACTIONLINT_STAMP) && $(BIN)/actionlint && echo "== actionlint: passed"; \
	fi

.PHONY: lint
lint: deps ## ruff, mypy, import layers (lint-imports), long functions explained, actionlint, helm lint --strict, chart-testing-style lint, Chart.lock in step
	$(VENV)/bin/ruff check python
	$(VENV)/bin/ruff format --check python
	$(VENV)/bin/ruff check --config python/pyproject.toml scripts
	$(VENV)/bin/ruff format --config python/pyproject.toml --check scripts
	cd python && ../$(VENV)/bin/mypy src testing/src
	cd python && ../$(VENV)/bin/lint-imports
	$(PY) scripts/lint_code_shape.py
	@$(MAKE) --no-print-directory actionlint
	$(PY) scripts/chart_lock.py --check
	$(PY) scripts/lint_charts.py

.PHONY: test
test: deps lint ## unit, chart render and integration tests (the e2e tier skips without kind)
	cd python && ../$(PY) -m pytest $(PYTEST_ARGS)

# The lowest versions python/pyproject.toml allows, resolved by uv (lowest-direct: each direct
# dependency at its lower bound), in a temporary virtualenv; the unit tests run there against the
# package's source. The cluster scripts' tests are left out: they use the standard library only.
LOWEST_DIR ?= .cache/lowest-deps
LOWEST_TESTS ?= tests/unit --ignore=tests/unit/cluster

.PHONY: test-lowest
test-lowest: deps ## the unit tests with the lowest dependency versions pyproject.toml allows (temporary venv)
	rm -rf $(LOWEST_DIR) && mkdir -p $(LOWEST_DIR)
	cd python && ../$(VENV)/bin/uv pip compile --quiet --python-version 3.11 --resolution lowest-direct \
		--all-extras pyproject.toml -o ../$(LOWEST_DIR)/requirements.txt
	$(VENV)/bin/uv venv --quiet --python $(PY) $(LOWEST_DIR)/venv
	$(VENV)/bin/uv pip sync --quiet --python $(LOWEST_DIR)/venv/bin/python $(LOWEST_DIR)/requirements.txt
	@grep -E '^(aiohttp|cloudevents|kubernetes|pydantic|redis|pytest)==' $(LOWEST_DIR)/requirements.txt | tr '\n' ' '; echo
	cd python && PATH=$(abspath $(LOWEST_DIR)/venv/bin):$$PATH PYTHONPATH=src:testing/src \
		../$(LOWEST_DIR)/venv/bin/python -m pytest $(LOWEST_TESTS) -q -p no:cacheprovider

.PHONY: up
up: deps ## run the main job locally: Redis + model emulators + gateway + async worker on loopback
	$(PY) -m llmaz_serverless up --config manifests/local/runtime.yaml

PROFILE ?= emulator
KEEP ?= 0
# kind (Docker, the default) or local (the real node of `make cluster`, offline)
CLUSTER ?= kind

.PHONY: e2e
e2e: deps ## the e2e tests on a cluster with KEDA, the HTTP add-on, llmaz, Prometheus and our chart (CLUSTER=kind|local, PROFILE=emulator|llamacpp, KEEP=1)
	cd python && LLMAZ_SERVERLESS_E2E=1 E2E_CLUSTER=$(CLUSTER) E2E_PROFILE=$(PROFILE) KEEP=$(KEEP) ../$(PY) -m pytest tests/e2e -v -rs $(PYTEST_ARGS)

.PHONY: cluster
cluster: deps ## build (cached) and start one real Kubernetes node on this machine, offline (root)
	$(PY) scripts/cluster/cluster.py up

.PHONY: cluster-build
cluster-build: deps ## only build the local cluster's binaries and images into the cache
	$(PY) scripts/cluster/cluster.py build

.PHONY: cluster-status
cluster-status: deps ## kubeconfig, node, processes and pods of the local cluster
	$(PY) scripts/cluster/cluster.py status

.PHONY: cluster-down
cluster-down: ## stop the local cluster and remove every process, mount, bridge and rule of it
	$(PY) scripts/cluster/cluster.py down

.PHONY: loadtest
loadtest: deps ## short load test (local stack, or TARGET=https://...) and its report
	$(PY) -m llmaz_serverless loadtest $(if $(TARGET),--target $(TARGET),--local) --out runs

.PHONY: report
report: deps ## write the report for RUN_DIR (default: the newest run under runs/)
	$(PY) -m llmaz_serverless report $(or $(RUN_DIR),$$(ls -dt runs/*/ | head -1))

.PHONY: docs
docs: deps ## regenerate chart READMEs and docs/design/api.md from the values comments
	$(PY) scripts/gen_chart_docs.py

BENCHMARKS ?= validate events worker gateway cold_path

.PHONY: bench
bench: deps ## run the benchmarks (BENCHMARKS="validate events worker gateway cold_path") and print their numbers
	@for b in $(BENCHMARKS); do echo "== bench_$$b"; $(PY) python/benchmarks/bench_$$b.py || exit 1; done

.PHONY: clean
clean: ## remove the virtualenv, tools and caches
	rm -rf $(VENV) $(BIN) .cache .pytest_cache python/.pytest_cache
