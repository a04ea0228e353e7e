# The two commands of the README: `make run` (the whole platform) and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: install run test lint format bench-payin bench-statement bench-sync bench-dashboard clean-data

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(PY) -m launcher

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .
	$(PY) -m launcher.lint_migrations

# The suite runs twice, side by side: on PostgreSQL and on SQLite (the default a new user
# gets; that pass runs only the tests that touch a database). Each pass spreads its test
# files over TEST_WORKERS processes (pytest-xdist); every process has its own database,
# Temporal, SeaweedFS and Redis prefix. The lint runs beside them. Outputs are printed one
# after the other once all end. pytest exits 5 when it collects no tests; that is not a
# failure of the suite. (Three workers for the PostgreSQL pass were slower here: the two
# cores are busy with four.)
TEST_WORKERS ?= 2

test: install
	@mkdir -p .test-logs; start=$$(date +%s); \
	( $(MAKE) --no-print-directory lint > .test-logs/lint.log 2>&1; echo $$? > .test-logs/lint.rc ) & \
	for db in postgresql sqlite; do \
	  ( TEST_DATABASE=$$db $(VENV)/bin/pytest -n $(TEST_WORKERS) --dist loadfile \
	      > .test-logs/$$db.log 2>&1; \
	    echo $$? > .test-logs/$$db.rc ) & \
	done; wait; \
	status=0; \
	echo "== lint"; cat .test-logs/lint.log; status=$$(cat .test-logs/lint.rc); \
	for db in postgresql sqlite; do \
	  echo "== the suite on $$db"; cat .test-logs/$$db.log; rc=$$(cat .test-logs/$$db.rc); \
	  if [ $$rc -eq 5 ]; then echo "no tests collected"; elif [ $$rc -ne 0 ]; then status=$$rc; fi; \
	done; \
	echo "make test: $$(( $$(date +%s) - start )) s of wall time, exit $$status"; \
	exit $$status

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench-payin: install
	$(PY) bench/payin.py $(ARGS)

bench-statement: install
	$(PY) bench/statement.py $(ARGS)

bench-sync: install
	$(PY) bench/sync.py $(ARGS)

bench-dashboard: install
	$(PY) bench/dashboard.py $(ARGS)

.PHONY: bench-scale
bench-scale: install
	$(PY) bench/scale.py $(ARGS)

clean-data:
	rm -rf .data
