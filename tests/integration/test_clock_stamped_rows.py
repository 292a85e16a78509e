"""A run on a simulated clock writes simulated times only, never the server's or the wall's.

Funding arbitrage and the grid trade on paper venues under a `ManualClock` in January 2020
(as the in-process runner or a backtest drives them), then their Celery tasks run in-process
on a clock scaled from a later 2020 origin (as a worker does), pause and resume included.
Afterwards no time column of any table holds a time near the wall clock, except the
`BOOKKEEPING` ones: they only say when a row was written, and no code reads them as the time
of anything.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import DateTime, Engine, func, select, text
from sqlalchemy.orm import Session

import db.models
from core.clock import ManualClock
from core.enums import PositionStatus
from core.settings import PROJECT_ROOT, get_settings
from db.models import Event, Order, StrategyPosition, StrategyState, TaskRun
from db.models.paper import PaperFill
from exchanges.scenarios import generate_scenario, store_ticks
from exchanges.venues import venue_profile
from funding_service.collector import FundingCollector
from strategies.runtime import Runtime, get_runtime, reset_runtime, venue_accounts

MANUAL_START = datetime(2020, 1, 6, tzinfo=UTC)  # a Monday, 00:00 UTC
SCALED_ORIGIN = datetime(2020, 1, 8, tzinfo=UTC)
ROUNDS = 8  # simulated hours of the in-process run

BOOKKEEPING = {
    ("orders", "created_at"),
    ("orders", "updated_at"),
    ("funding_rates", "created_at"),
    ("funding_payments", "created_at"),
    ("paper_venues", "created_at"),
    ("paper_accounts", "created_at"),
    ("paper_ledger", "created_at"),
    ("paper_funding_settlements", "created_at"),
    ("strategy_controls", "updated_at"),
    ("deployment", "recorded_at"),
}


@pytest.fixture
def empty_db(clean_db: Engine, monkeypatch: pytest.MonkeyPatch) -> Engine:
    """No rows left by earlier tests (the scan below reads whole tables); the demo configs.
    The mode the database records stays: without it nothing may trade on it."""
    tables = db.models.Base.metadata.sorted_tables
    names = ", ".join(t.name for t in tables if t.name != db.models.Deployment.__tablename__)
    with clean_db.begin() as connection:
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    monkeypatch.setenv("PERPBOT_STRATEGIES", str(PROJECT_ROOT / "configs" / "demo"))
    get_settings.cache_clear()
    reset_runtime()
    yield clean_db
    get_settings.cache_clear()
    reset_runtime()


def _seed(runtime: Runtime) -> None:
    configs = runtime.configs.values()
    pairs = sorted({(va.venue, va.account) for c in configs for va in venue_accounts(c)})
    venues = sorted({venue for venue, _ in pairs})
    symbols = sorted({symbol for c in configs for symbol in c.traded_symbols()})
    start = MANUAL_START - timedelta(hours=24)
    store_ticks(runtime.engine, generate_scenario(11, venues, symbols, start, hours=24 * 5))
    for venue, account in pairs:
        runtime.exchange(venue, account).credit_deposit(  # type: ignore[attr-defined]
            f"seed-{venue}-{account}", "USDC", Decimal(50_000), venue_profile(venue).deposit_chain
        )


def _run_in_process(engine: Engine) -> None:
    clock = ManualClock(MANUAL_START)
    runtime = Runtime(engine=engine, clock=clock)
    _seed(runtime)
    venues = sorted({va.venue for c in runtime.configs.values() for va in venue_accounts(c)})
    collector = FundingCollector({v: runtime.exchange(v) for v in venues}, clock, engine)
    for _ in range(ROUNDS):
        clock.advance(timedelta(hours=1))
        collector.collect()
        arb = runtime.build("arb-demo")
        for phase in (arb.monitor, arb.rebalance, arb.open_positions):
            assert phase(clock.now()).ok
        assert runtime.build("grid-demo").run_cycle(clock.now()).ok
    arb = runtime.build("arb-demo")
    for position in arb.position_manager.find("arb-demo", [PositionStatus.OPEN]):
        assert arb.close_position(position.id, "test ends", clock.now()).ok


def _run_tasks_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    from tasks.market_tasks import collect_funding
    from tasks.strategy_tasks import monitor, pause, resume, run_cycle

    monkeypatch.setenv("PERPBOT_CLOCK_ORIGIN", SCALED_ORIGIN.isoformat())
    monkeypatch.setenv("PERPBOT_CLOCK_SPEED", "60")
    monkeypatch.setenv("PERPBOT_CLOCK_REAL_START", repr(time.time()))
    get_settings.cache_clear()
    reset_runtime()
    assert abs(get_runtime().clock.now() - SCALED_ORIGIN) < timedelta(hours=1)
    collect_funding.apply().get()
    assert monitor.apply(args=("arb-demo",)).get()["skipped"] is False
    pause.apply(args=("grid-demo",), kwargs={"reason": "test"}).get()
    assert run_cycle.apply(args=("grid-demo",)).get()["skipped"] is True  # a beat tick
    resume.apply(args=("grid-demo",)).get()
    assert run_cycle.apply(args=("grid-demo",)).get()["skipped"] is False


def _near_the_wall_clock(engine: Engine) -> list[str]:
    wall = datetime.now(UTC)
    window = {"low": wall - timedelta(days=1), "high": wall + timedelta(days=1)}
    found = []
    with engine.connect() as connection:
        for table in db.models.Base.metadata.sorted_tables:
            for column in table.columns:
                if not isinstance(column.type, DateTime):
                    continue
                if (table.name, column.name) in BOOKKEEPING:
                    continue
                count = connection.execute(
                    select(func.count())
                    .select_from(table)
                    .where(column.between(text(":low"), text(":high"))),
                    window,
                ).scalar_one()
                if count:
                    found.append(f"{table.name}.{column.name}: {count} rows")
    return found


def test_a_simulated_run_writes_no_wall_clock_time(empty_db, monkeypatch):
    _run_in_process(empty_db)
    _run_tasks_in_process(monkeypatch)
    with Session(empty_db) as session:
        # It did write what is checked: events, state, runs, positions, sent orders, fills.
        for query in (
            select(func.count()).select_from(Event),
            select(func.count()).select_from(StrategyState),
            select(func.count()).select_from(TaskRun).where(TaskRun.status == "skipped"),
            select(func.count()).select_from(StrategyPosition),
            select(func.count()).select_from(Order).where(Order.sent_at.is_not(None)),
            select(func.count()).select_from(PaperFill),
        ):
            assert session.scalar(query), str(query)
        times = session.scalars(select(Event.occurred_at)).all()
    assert all(
        datetime(2020, 1, 1, tzinfo=UTC) <= t < datetime(2020, 2, 1, tzinfo=UTC) for t in times
    )
    assert _near_the_wall_clock(empty_db) == []
