"""Test harness: real PostgreSQL and Redis, a throwaway database per test run.

At start-up the environment is made paper-only (`tests/support/environment.py`: no live
confirmation, no venue credentials), the servers are found or started (`core.services`), a
database `perpbot_test_<id>` is created and migrated (a paper database), and every process the
tests start (Celery workers included) is pointed at it through the environment. Broker keys
get a per-run prefix, so several test runs can share one Redis. The database is dropped at
the end. Under pytest-xdist (`make test` runs `-n 2`) every worker process is such a run.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

RUN_ID = uuid.uuid4().hex[:10]
_state: dict[str, str] = {}


def _is_xdist_controller(config: pytest.Config) -> bool:
    """With `-n N` the controlling process runs no test: each worker process (its own
    RUN_ID, as it imports this module itself) makes its own database and broker prefix."""
    return not hasattr(config, "workerinput") and bool(getattr(config.option, "numprocesses", None))


def pytest_configure(config: pytest.Config) -> None:
    if _is_xdist_controller(config):
        return
    from tests.support.environment import force_paper

    force_paper(os.environ)  # whatever the caller's shell holds: paper, no credentials
    # The CLI's rich consoles take their width when first imported: one width for every test,
    # whichever test (or process of pytest-xdist) imports them first.
    os.environ["COLUMNS"] = "200"
    from core.services import ensure_services

    services = ensure_services(announce=False)
    base_url = make_url(services.postgres.url)
    test_url = base_url.set(database=f"perpbot_test_{RUN_ID}").render_as_string(hide_password=False)
    _state["base_url"] = base_url.render_as_string(hide_password=False)
    _state["test_url"] = test_url
    os.environ["DATABASE_URL"] = test_url
    os.environ["REDIS_URL"] = services.redis.url
    os.environ["PERPBOT_BROKER_PREFIX"] = f"perpbot-test-{RUN_ID}:"
    os.environ.setdefault("PERPBOT_LOG_LEVEL", "INFO")

    from core.services import ensure_database
    from core.settings import get_settings
    from db.migrate import upgrade

    get_settings.cache_clear()
    ensure_database(test_url)
    upgrade(test_url)


def pytest_unconfigure(config: pytest.Config) -> None:
    test_url = _state.get("test_url")
    if not test_url:
        return
    from db.engine import engine_for

    for engine_url in list(_state.values()):
        with contextlib.suppress(Exception):
            engine_for(engine_url).dispose()
    engine_for.cache_clear()
    from core.services import drop_database

    drop_database(test_url)
    _flush_broker_keys()


def _flush_broker_keys() -> None:
    import redis

    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    try:
        prefix = os.environ["PERPBOT_BROKER_PREFIX"]
        keys = list(client.scan_iter(match=f"{prefix}*", count=500))
        keys += list(client.scan_iter(match=f"*{prefix}*", count=500))
        if keys:
            client.delete(*set(keys))
    finally:
        client.close()


@pytest.fixture(scope="session")
def database_url() -> str:
    return _state["test_url"]


@pytest.fixture(scope="session")
def server_url() -> str:
    """URL of the PostgreSQL server's own database (for creating throwaway databases)."""
    return _state["base_url"]


@pytest.fixture(scope="session")
def engine(database_url: str) -> Engine:
    from db.engine import engine_for

    return engine_for(database_url)


@pytest.fixture
def db_session(engine: Engine) -> Iterator[Session]:
    """A session whose work is rolled back after the test (commits become savepoints)."""
    connection = engine.connect()
    transaction = connection.begin()
    session = Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    try:
        yield session
    finally:
        session.close()
        transaction.rollback()
        connection.close()


ALL_TABLES_SQL = """
SELECT string_agg(format('%I', tablename), ', ')
FROM pg_tables WHERE schemaname = 'public'
  AND tablename NOT IN ('alembic_version', 'deployment')
"""


@pytest.fixture
def clean_db(engine: Engine) -> Iterator[Engine]:
    """For tests whose data must be committed (other processes read it): truncate after.

    The schema's own rows stay: its revision and the mode it records (paper)."""
    yield engine
    with engine.begin() as connection:
        tables = connection.execute(text(ALL_TABLES_SQL)).scalar_one()
        if tables:
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
