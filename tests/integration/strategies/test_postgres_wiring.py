"""A stateful strategy built by the factory on PostgreSQL components, end to end."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from core.clock import ManualClock
from core.enums import PositionStatus
from strategies.components.base_components import NewPosition
from strategies.components.kits import PostgresKit
from strategies.components.position_manager import PostgresPositionManager
from strategies.components.sessions import savepoint_scope
from strategies.factory import StrategyRegistry, build_strategy_from
from tests.unit.strategies.fakes import T0, FakeVenue
from tests.unit.strategies.sample_strategies import LedgerStrategy

LEDGER_YAML = """\
type: sample_ledger
name: ledger-pg
symbol: ETH
venues: [alpha, beta]
size_usd: 750.25
rebalance: {min_erosion: 0.5, max_hold_hours: 12}
"""


def _rows(engine: Engine, sql: str) -> list[tuple[object, ...]]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(sql))]


def test_a_strategy_persists_positions_state_and_audit_in_postgres(clean_db, tmp_path):
    path = tmp_path / "ledger.yaml"
    path.write_text(LEDGER_YAML)
    registry = StrategyRegistry()
    registry.register(LedgerStrategy)
    clock = ManualClock(T0)
    venues = {"alpha": FakeVenue("alpha"), "beta": FakeVenue("beta")}

    strategy = build_strategy_from(path, PostgresKit(clean_db, clock, venues), registry)
    strategy.start()
    assert strategy.run_cycle(clock.now()).ok

    # A worker restart: a fresh instance over the same database carries on, no second open.
    clock.advance(timedelta(minutes=1))
    restarted = build_strategy_from(path, PostgresKit(clean_db, clock, venues), registry)
    again = restarted.run_cycle(clock.now())
    assert again.ok and again.actions == ()

    assert _rows(
        clean_db,
        "SELECT strategy_name, symbol, long_dex, short_dex, size_usd, status "
        "FROM strategy_positions",
    ) == [("ledger-pg", "ETH", "alpha", "beta", Decimal("750.25"), "opening")]
    ((state, version),) = _rows(
        clean_db, "SELECT state_data, version FROM strategy_state WHERE strategy_name = 'ledger-pg'"
    )
    assert version == 2
    assert state == {
        "cycles": 2,
        "last_cycle_at": {"__datetime__": "2025-01-01T00:01:00+00:00"},
    }
    assert _rows(
        clean_db, "SELECT kind FROM events WHERE strategy_name = 'ledger-pg' ORDER BY id"
    ) == [
        ("strategy.started",),
        ("position.opened",),
        ("ledger.opened",),
    ]


def test_components_can_join_the_callers_transaction(engine, clean_db):
    """With a savepoint scope, the caller's rollback undoes the position and its event."""
    clock = ManualClock(T0)
    with engine.connect() as connection:
        outer = connection.begin()
        session = Session(bind=connection, expire_on_commit=False)
        manager = PostgresPositionManager(savepoint_scope(session), clock)
        record = manager.open(NewPosition("joined", "BTC", "alpha", "beta", Decimal(10)))
        manager.mark_status(record.id, PositionStatus.OPEN)
        assert manager.get(record.id).status == PositionStatus.OPEN
        assert len(manager.history(record.id)) == 2
        session.close()
        outer.rollback()
    assert _rows(engine, "SELECT count(*) FROM strategy_positions") == [(0,)]
    assert _rows(engine, "SELECT count(*) FROM events") == [(0,)]
