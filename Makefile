# Two commands for a newcomer: `make run` and `make test`. Both install on first use, on a
# machine that has only python3 and make: the pinned uv is bootstrapped with pip into
# .cache/ (git-ignored), then `uv sync --frozen` makes .venv exactly what uv.lock says,
# dev extra included. After changing dependencies in pyproject.toml: `make lock`, and
# commit uv.lock with it (`make lint` refuses a lock that no longer matches).
PYTHON     ?= python3
VENV       ?= .venv
PY         := $(VENV)/bin/python
UV_VERSION := 0.13.9
UV_HOME    := .cache/uv-$(UV_VERSION)
UV         := $(UV_HOME)/bin/uv
# uv works on the Makefile's .venv with the python3 above, and never downloads a Python.
UV_ENV     := UV_PROJECT_ENVIRONMENT=$(abspath $(VENV)) UV_PYTHON_DOWNLOADS=never

.PHONY: install lock run test lint bench bench-quick clean-data mutation

$(UV):
	$(PYTHON) -m venv $(UV_HOME)
	$(UV_HOME)/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# On every run: a few milliseconds when .venv already matches uv.lock; otherwise (first
# run, a pull that changed the lock, a package installed by hand) it is made to match.
install: $(UV)
	$(UV_ENV) $(UV) sync --frozen --extra dev --python $(PYTHON)

lock: $(UV)
	$(UV_ENV) $(UV) lock --python $(PYTHON)

run: install
	$(PY) -m worker.dev

lint: install
	$(UV_ENV) $(UV) lock --check --python $(PYTHON)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .

# pytest exits 5 when it collected no test; make treats that as the failure it is.
test: lint
	$(VENV)/bin/pytest
	TZ=Asia/Tokyo $(VENV)/bin/pytest tests/test_sla_calendar.py tests/test_sla_policy.py tests/test_sla_deadlines.py

# Mutation testing of the pure core (config: [tool.mutmut] in pyproject.toml) with the fast,
# server-free tests only. Prints every mutant not killed and the score per module, then
# removes mutants/ (KEEP_MUTANTS=1 keeps it, for `.venv/bin/mutmut show <name>`). Equivalent
# mutants and why: tests/mutation-equivalents.md. Fails if a module kills under 90 %.
mutation: install
	@rm -rf mutants && mkdir mutants
	@echo "mutmut run: about 2 minutes on 2 cores (log: mutants/run.log)"
	@$(VENV)/bin/mutmut run > mutants/run.log 2>&1 \
	  || { tail -n 40 mutants/run.log; [ -n "$(KEEP_MUTANTS)" ] || rm -rf mutants; exit 1; }
	@$(VENV)/bin/mutmut results --all true > mutants/results.txt
	@echo "Not killed (each must be listed in tests/mutation-equivalents.md):"
	@grep -v -E ': (killed|timeout|caught by type check)$$' mutants/results.txt || true
	@awk -F': ' '{ m = $$1; sub(/^ +/, "", m); sub(/\.x(_|ǁ).*/, "", m); n[m]++; \
	    if ($$2 ~ /^(killed|timeout|caught by type check)$$/) k[m]++ } \
	  END { bad = 0; for (m in n) { s = 100 * k[m] / n[m]; bad = bad || s < 90; \
	    printf "%-22s %4d of %4d mutants killed  %5.1f %%\n", m, k[m], n[m], s | "sort" }; \
	    close("sort"); exit bad }' \
	  mutants/results.txt; status=$$?; [ -n "$(KEEP_MUTANTS)" ] || rm -rf mutants; exit $$status

# Side-by-side benchmarks against bare Temporal (tens of minutes; not part of `test`).
bench: install
	$(PY) -m bench.compare
	$(PY) -m bench.profile_intake
	$(PY) -m bench.burst --deadlines 2000 --recovery 500
	$(PY) -m bench.scale --sizes 10000,20000
	$(PY) -m bench.sla_timers

# The same at sizes that fit a few minutes.
bench-quick: install
	$(PY) -m bench.compare --seconds 10
	$(PY) -m bench.burst --deadlines 500 --recovery 200
	$(PY) -m bench.scale --sizes 1000,2000 --no-bare

clean-data:
	rm -rf data
