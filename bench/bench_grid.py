"""The grid's cycle cost: the pure planner alone, and a whole cycle on the paper venue.

- `decide`: `plan_cycle` over a state with N levels whose take-profits rest (the steady
  state of a grid in a falling market), records in memory: what the decision itself costs.
- `cycle`: a whole `run_cycle` in a fresh strategy instance, as the Celery task runs it
  (load state, refresh each resting order from the paper venue, read book / position /
  instrument / position records, decide; nothing to save), against PostgreSQL.
A cycle fires every `intervals.cycle_seconds` (10 s in the example), so the target is that a
steady-state cycle with 10 resting orders costs a small fraction of one second.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from bench import scratch_database, summary_ms
from core.clock import ManualClock
from core.enums import OrderSide, OrderStatus, OrderType
from core.market import Instrument, TopOfBook
from exchanges.base import Position
from exchanges.paper import PaperExchange
from exchanges.scenarios import store_ticks
from exchanges.simulation.market import Tick
from strategies.components.base_components import OrderIntent, OrderRecord
from strategies.components.kits import PostgresKit
from strategies.factory import build_strategy, load_strategy_config
from strategies.implementations.grid.actions import GridSnapshot
from strategies.implementations.grid.config import GridConfig
from strategies.implementations.grid.models import GridDirection, GridLevel, GridState, LevelStage
from strategies.implementations.grid.planner import plan_cycle

START = datetime(2026, 1, 1, tzinfo=UTC)
TARGET_CYCLE_P50_MS = 150.0
CONFIG: dict[str, Any] = {
    "type": "grid",
    "name": "bench-grid",
    "venue": "hyperliquid",
    "account": "bench",
    "symbol": "ETH",
    "direction": "long",
    "order_qty": "0.1",
    "take_profit_pct": "1",
    "max_orders": 500,
    "wait_time_seconds": 3600,
}


def _timed(call: Callable[[], object], iterations: int, warmup: int = 5) -> list[float]:
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(iterations):
        began = time.perf_counter()
        call()
        samples.append(time.perf_counter() - began)
    return samples


def _steady_snapshot(config: GridConfig, levels: int) -> GridSnapshot:
    state = GridState.fresh(config.name, GridDirection.LONG, START)
    built, records = [], {}
    for seq in range(1, levels + 1):
        entry = Decimal(3000) - seq
        level = GridLevel(
            seq,
            LevelStage.CLOSING,
            entry,
            Decimal("0.1"),
            START,
            qty=Decimal("0.1"),
            entry_price=entry,
            tp_price=entry * Decimal("1.01"),
        )
        built.append(level)
        intent = OrderIntent(
            level.tp_id(state.run_id),
            config.name,
            "hyperliquid",
            "ETH",
            OrderSide.SELL,
            OrderType.LIMIT,
            Decimal("0.1"),
            "grid_take_profit",
            price=level.tp_price,
            reduce_only=True,
        )
        records[intent.client_order_id] = OrderRecord(intent, OrderStatus.OPEN)
    state = replace(state, levels=tuple(built), next_seq=levels + 1, last_open_at=START)
    book = TopOfBook(
        "hyperliquid", "ETH", Decimal(2900), Decimal(10), Decimal("2900.6"), Decimal(10), START
    )
    instrument = Instrument(
        "hyperliquid",
        "ETH",
        Decimal("0.01"),
        Decimal("0.01"),
        Decimal("0.01"),
        Decimal(0),
        Decimal(0),
    )
    position = Position(
        "hyperliquid", "ETH", Decimal("0.1") * levels, Decimal(2950), Decimal(2900),
        Decimal(0), None, Decimal(0), Decimal(1),
    )  # fmt: skip
    return GridSnapshot(
        "hyperliquid", "ETH", book, position, (), START, instrument, state, 1, records
    )


def _decide_rows() -> list[dict[str, Any]]:
    config = load_strategy_config(CONFIG)
    assert isinstance(config, GridConfig)
    rows = []
    for levels in (10, 100, 500):
        snapshot = _steady_snapshot(config, levels)
        now = START + timedelta(seconds=1)
        actions = plan_cycle(config.name, config, snapshot, now)
        # Steady: no order, no state change (only the position record, absent here, to open).
        assert [type(a).__name__ for a in actions] == ["OpenPositionRecord"], actions
        stats = summary_ms(_timed(partial(plan_cycle, config.name, config, snapshot, now), 200))
        rows.append({"case": f"decide, {levels} resting take-profits", "n": 200, **stats})
    return rows


def _cycle_row() -> tuple[dict[str, Any], float]:
    from db.engine import engine_for

    with scratch_database() as url:
        engine = engine_for(url)
        marks = [3000 - 10 * i for i in range(12)]
        zero, hour = Decimal(0), Decimal(1)
        ticks = [
            Tick("hyperliquid", "ETH", START + timedelta(minutes=i), Decimal(m), zero, hour)
            for i, m in enumerate(marks)
        ]
        store_ticks(engine, ticks)
        clock = ManualClock(START)
        venue = PaperExchange("hyperliquid", engine=engine, clock=clock, account="bench")
        venue.credit_deposit("bench-grid", "USDC", Decimal(1_000_000), "arbitrum")
        config = load_strategy_config({**CONFIG, "wait_time_seconds": 0, "max_orders": 10})

        def cycle() -> None:
            kit = PostgresKit(engine, clock, {"hyperliquid": venue})
            result = build_strategy(config, kit).run_cycle(clock.now())
            assert result.ok, result.error

        # Build up 10 levels on a falling path, then measure the steady state.
        for i in range(12):
            clock.set(START + timedelta(minutes=i, seconds=30))
            cycle()
        clock.set(START + timedelta(minutes=11, seconds=40))
        stats = summary_ms(_timed(cycle, 50))
    return {
        "case": "whole cycle, 10 resting take-profits (paper + PostgreSQL)",
        "n": 50,
        **stats,
    }, stats["p50_ms"]


def run() -> dict[str, Any]:
    rows = _decide_rows()
    cycle_row, cycle_p50 = _cycle_row()
    rows.append(cycle_row)
    return {
        "name": "grid",
        "title": "Grid: decision cost and a whole steady-state cycle",
        "rows": rows,
        "target": f"steady-state cycle with 10 resting orders p50 under {TARGET_CYCLE_P50_MS} ms",
        "met": cycle_p50 < TARGET_CYCLE_P50_MS,
    }
