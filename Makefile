# perpbot — every target does its own set-up from a fresh clone.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: install services services-stop migrate test lint bench demo chaos clean up

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "perpbot needs Python >= 3.11")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

## Find PostgreSQL and Redis (DATABASE_URL/REDIS_URL, else localhost, else embedded under .run/)
services: install
	$(PY) -m core.services up

## Stop the embedded servers this checkout started (local ones are left alone)
services-stop: install
	$(PY) -m core.services down

migrate: services
	$(PY) -m alembic upgrade head

## The whole suite against real PostgreSQL, Redis and Celery workers, with an 80% coverage gate
test: services
	$(PY) -m pytest --cov --cov-report=term --cov-fail-under=80 $(PYTEST_ARGS)

## Ruff, then mypy (strict; what it checks is configured in pyproject.toml)
lint: install
	$(PY) -m ruff check .
	$(PY) -m mypy

## The demo: funding arbitrage + grid on paper venues with worker, beat and Flower (DEMO_SECONDS)
demo: install
	$(PY) trading_bot.py demo

## Benchmarks (not tests): each prints a table and writes JSON under bench/results/
bench: services
	$(PY) -m bench $(BENCH_ARGS)

## Chaos: 200 fund transfers while workers are SIGKILLed and Redis restarts; 10 kills between
## the legs of funding-arbitrage opens, venues changed behind it; 10 minutes of coinciding ticks
chaos: services
	PERPBOT_CHAOS_TRANSFERS=$${PERPBOT_CHAOS_TRANSFERS:-200} \
	PERPBOT_CHAOS_KILLS=$${PERPBOT_CHAOS_KILLS:-10} \
	PERPBOT_STARVATION_SECONDS=$${PERPBOT_STARVATION_SECONDS:-600} \
	$(PY) -m pytest tests/chaos -q -s -p no:cacheprovider

## docker compose: the production-shaped stack
up:
	docker compose up --build

clean:
	rm -rf .pytest_cache .ruff_cache .mypy_cache .coverage .coverage.* htmlcov bench/results
