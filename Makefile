# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NODE_STAMP := tests/interop/node_modules/.installed
export SKILLSHUB_DATA_DIR ?= ./var

.PHONY: run test setup setup-test system-deps services lint format bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

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

$(NODE_STAMP): tests/interop/package.json tests/interop/package-lock.json
	cd tests/interop && npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

# PostgreSQL runs on this kind of machine; start a stopped local cluster (best effort: the
# tests skip PostgreSQL, saying why, when none answers).
services:
	@if command -v pg_isready >/dev/null 2>&1 && ! pg_isready -q -h 127.0.0.1 -p 5432; then \
	  for v in $$(ls /etc/postgresql 2>/dev/null); do \
	    pg_ctlcluster --skip-systemctl-redirect $$v main start || true; \
	  done; \
	fi

setup-test: $(STAMP) system-deps $(NODE_STAMP) services

run: $(STAMP)
	$(BIN)/skillshub init
	$(BIN)/skillshub demo
	$(BIN)/skillshub serve

test: setup-test
	$(BIN)/pytest -n 2 --dist loadgroup -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	for b in benchmarks/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) var tests/interop/node_modules .pytest_cache
