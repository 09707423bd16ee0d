# Two commands for a newcomer: `make run` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: install run test lint bench clean-data

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

bench: $(STAMP)
	$(PY) -m bench.sla_timers
	$(PY) -m bench.intake

clean-data:
	rm -rf data
