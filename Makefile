# Two commands for a newcomer: `make run` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: install run test lint bench clean-data mutation

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(PY) -m worker.dev

lint: $(STAMP)
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
mutation: $(STAMP)
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

bench: $(STAMP)
	$(PY) -m bench.sla_timers
	$(PY) -m bench.intake

clean-data:
	rm -rf data
