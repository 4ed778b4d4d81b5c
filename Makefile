# Every target creates .venv with uv (from the committed uv.lock) when it is missing.
# Bytecode is compiled at install: where PYTHONDONTWRITEBYTECODE is set (as on this
# machine), Python would otherwise compile every module from source in every process
# (each Airflow task, each dbt run): `import dbt.cli.main` took 6.2 s against 2.6-3.1 s.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
STUDENTS ?= 300

.PHONY: demo up test bench lint clean

$(BIN)/steward: pyproject.toml uv.lock
	@python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	python3 -m uv sync --frozen --compile-bytecode
	@touch $@

demo: $(BIN)/steward  ## generate a small institution and run every DAG through Airflow
	$(BIN)/steward demo --students $(STUDENTS)

up: $(BIN)/steward  ## Airflow standalone with our DAGs (demo data loaded first if empty); prints the address and login
	$(BIN)/steward up --students $(STUDENTS)

test: $(BIN)/steward  ## the whole test suite
	$(BIN)/pytest

bench: $(BIN)/steward  ## the platform stage by stage at 10,000 and 50,000 students: one table (docs/performance.md)
	$(BIN)/python benchmarks/bench_platform.py

lint: $(BIN)/steward  ## ruff, and sqlfluff with the dbt templater (on an empty throw-away store)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@tmp=$$(mktemp -d) && $(BIN)/python -c "import duckdb, sys; duckdb.connect(sys.argv[1] + '/identified.duckdb').close()" $$tmp \
	  && STEWARD_HOME=$$tmp $(BIN)/sqlfluff lint dbt_project/models dbt_project/tests --processes 2; \
	  status=$$?; rm -rf $$tmp; exit $$status

clean:
	rm -rf .steward .pytest_cache .ruff_cache
