"""Backends under test: every contract test runs against PostgreSQL and the in-memory twin."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from core.clock import ManualClock
from strategies.components.base_components import PositionManager, StateManager
from strategies.components.event_sink import InMemoryEventSink, PostgresEventSink
from strategies.components.position_manager import (
    InMemoryPositionManager,
    PostgresPositionManager,
)
from strategies.components.sessions import engine_scope
from strategies.components.state_manager import InMemoryStateManager, PostgresStateManager
from tests.unit.strategies.fakes import T0

BACKENDS = ["postgres", "memory"]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def postgres(backend: str, request: pytest.FixtureRequest) -> Engine | None:
    """The engine (tables truncated after the test) for the PostgreSQL run, else None."""
    if backend != "postgres":
        return None
    engine: Engine = request.getfixturevalue("clean_db")
    return engine


@pytest.fixture
def state_manager(postgres: Engine | None, clock: ManualClock) -> StateManager:
    if postgres is None:
        return InMemoryStateManager(clock)
    return PostgresStateManager(engine_scope(postgres), clock)


@pytest.fixture
def position_manager(postgres: Engine | None, clock: ManualClock) -> PositionManager:
    if postgres is None:
        return InMemoryPositionManager(clock)
    return PostgresPositionManager(engine_scope(postgres), clock)


@pytest.fixture
def event_sink(
    postgres: Engine | None, clock: ManualClock
) -> PostgresEventSink | InMemoryEventSink:
    if postgres is None:
        return InMemoryEventSink(clock)
    return PostgresEventSink(engine_scope(postgres), clock)
