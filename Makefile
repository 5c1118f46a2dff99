# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# One stamp per set of packages, so `make run` installs the runtime only (no test tools).
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test
LINT_STAMP := $(VENV)/.installed-lint
BENCH_STAMP := $(VENV)/.installed-bench
NODE_STAMP := tests/interop/node_modules/.installed
export SKILLSHUB_DATA_DIR ?= ./var

.PHONY: run test test-fast setup setup-test system-deps services lint format bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(TEST_STAMP): $(RUN_STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,lint]'
	touch $@

# mypy reads the benchmarks and the tests too, so their packages (the bench and test extras)
# are installed with it.
$(LINT_STAMP): $(RUN_STAMP)
	$(BIN)/python -m pip install --quiet -e '.[lint,bench,test]'
	touch $@

$(BENCH_STAMP): $(RUN_STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	touch $@

setup: $(RUN_STAMP)

# Debian packages the tests need: Chromium for page checks, Node.js for the interop oracles;
# DejaVu fonts draw the default badge images (Pillow's built-in font otherwise).
system-deps:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	test -f /usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf || missing="$$missing fonts-dejavu-core"; \
	command -v node >/dev/null 2>&1 || missing="$$missing nodejs"; \
	command -v npm >/dev/null 2>&1 || missing="$$missing npm"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

# npm ci empties node_modules first: one linked from another checkout is not ours to reinstall.
$(NODE_STAMP): tests/interop/package.json tests/interop/package-lock.json
	@if [ -L tests/interop/node_modules ]; then \
	  echo "tests/interop/node_modules is a link to another checkout's: left as it is"; \
	else \
	  cd tests/interop && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed; \
	fi

# PostgreSQL runs on this kind of machine; start a stopped local cluster (best effort: the
# tests skip PostgreSQL, saying why, when none answers).
services:
	@if command -v pg_isready >/dev/null 2>&1 && ! pg_isready -q -h 127.0.0.1 -p 5432; then \
	  for v in $$(ls /etc/postgresql 2>/dev/null); do \
	    pg_ctlcluster --skip-systemctl-redirect $$v main start || true; \
	  done; \
	fi

setup-test: $(TEST_STAMP) system-deps $(NODE_STAMP) services

# `demo` prints how to sign in to the console (the demo owners and their password).
run: $(RUN_STAMP)
	$(BIN)/skillshub init
	$(BIN)/skillshub demo
	@echo "Provider console: sign in at BASE_URL/console/login as a demo owner printed above (password: skillshub-demo)"
	$(BIN)/skillshub serve

test: setup-test
	$(BIN)/pytest -n 2 --dist loadgroup -q

# The edit-test loop: SQLite only; no browser, interop oracles or slow (multi-process,
# full-size) tests, so it needs neither Chromium, Node nor PostgreSQL. `make test` runs all.
test-fast: $(TEST_STAMP)
	SKILLSHUB_TEST_DATABASES=sqlite $(BIN)/pytest -n 2 --dist loadgroup -q \
	  -m "not slow and not browser and not interop"

# The same checks as .pre-commit-config.yaml; CI runs it before `make test`.
lint: $(LINT_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(LINT_STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Figures only (no pytest); reference-based ones are skipped, saying so, without ../shared.
bench: $(BENCH_STAMP)
	for b in benchmarks/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) var tests/interop/node_modules .pytest_cache .mypy_cache
