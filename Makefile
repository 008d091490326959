PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: install test test-fast lint run clean clean-data

install: $(BIN)/tuco

$(BIN)/tuco: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $(BIN)/tuco

test: install
	$(BIN)/pytest -q

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The walk-through's usage example needs a service token; this is the development one
# (set TUCO_INTERNAL_TOKEN to use another).
TUCO_INTERNAL_TOKEN ?= tuco-dev-internal

run: install
	TUCO_INTERNAL_TOKEN='$(TUCO_INTERNAL_TOKEN)' $(BIN)/tuco serve --port $(PORT)

# Forget everything `make run` stored (the SQLite file ./tuco.db and its WAL), so the
# walk-through starts again from an empty service. Stop `make run` first.
clean-data:
	rm -f tuco.db tuco.db-wal tuco.db-shm

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .mypy_cache .ruff_cache

.PHONY: api-docs

# docs/openapi.json and docs/api.md from the operation table (a test checks they are current).
api-docs: install
	$(BIN)/python -m api.reference docs

.PHONY: bench bench-quick

# Benchmarks (issue 7): prints a table of figures and ratios, writes it as JSON under
# bench/results/. PostgreSQL rows need 127.0.0.1:5432 (database `test`), as `make test` does.
# Sections: BENCH_ARGS="--only write,stores,scale,crud" (crud: the product against the
# plain-CRUD baseline in bench/crud_app.py, product ÷ CRUD).
bench: install
	$(BIN)/python -m bench.run $(BENCH_ARGS)

bench-quick: install
	$(BIN)/python -m bench.run --quick $(BENCH_ARGS)

.PHONY: profile-tools

# py-spy and pyinstrument, pinned in pyproject's `profile` extra (bench/README.md).
profile-tools: install
	$(BIN)/pip install -q -e '.[test,profile]'

.PHONY: soak

# Soak (issue 12, not in CI): 10 minutes of mixed load on one `tuco serve` (SQLite), a row per
# minute (requests, p99, RSS, 5xx); exits 1 when a target is missed. SOAK_ARGS="--minutes 3".
soak: install
	$(BIN)/python -m bench.soak $(SOAK_ARGS)
