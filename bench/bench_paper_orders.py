"""Paper venue order round trip (place + fill + persist) against a bare PostgreSQL commit.

Each paper call is one transaction that locks the venue and account rows, advances the venue
(nothing to replay here: the clock does not move), writes the order, the fill, the position
and two ledger rows, and commits. The baseline is the cheapest durable write: one INSERT and
its COMMIT on the same server. The ratio says what the venue model costs per order.

The cases run interleaved (one call of each in turn, round after round), so a load spike on
this shared machine hits the baseline and the paper calls alike and the ratio stays fair. The
SQL statements of one market order are counted too (the round trips are most of its cost).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from sqlalchemy import Engine, event, text

from bench import scratch_database, summary_ms
from core.clock import ManualClock
from core.enums import OrderSide, OrderType
from exchanges.base import OrderRequest
from exchanges.paper import PaperExchange
from exchanges.scenarios import store_ticks
from exchanges.simulation.market import Tick

ITERATIONS = 400
WARMUP = 20
START = datetime(2026, 1, 1, tzinfo=UTC)
TARGET_RATIO = 3.0


def _timed(calls: Mapping[str, Callable[[int], object]], iterations: int) -> dict[str, list[float]]:
    """Interleaved: round i calls every case once, so load hits all cases alike."""
    for i in range(WARMUP):
        for call in calls.values():
            call(-1 - i)
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for i in range(iterations):
        for name, call in calls.items():
            began = time.perf_counter()
            call(i)
            samples[name].append(time.perf_counter() - began)
    return samples


def _statements(engine: Engine, call: Callable[[], object]) -> int:
    """How many SQL statements `call` sends (BEGIN, the pool's ping and COMMIT not counted)."""
    seen: list[str] = []

    def count(*args: object) -> None:
        seen.append("")

    event.listen(engine, "before_cursor_execute", count)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(seen)


def run() -> dict[str, Any]:
    from db.engine import engine_for

    with scratch_database() as url:
        engine = engine_for(url)
        store_ticks(
            engine, [Tick("hyperliquid", "BTC", START, Decimal(60_000), Decimal(0), Decimal(1))]
        )
        clock = ManualClock(START + timedelta(minutes=1))
        venue = PaperExchange("hyperliquid", engine=engine, clock=clock, account="bench")
        venue.credit_deposit("bench-funding", "USDC", Decimal(10_000_000), "arbitrum")
        with engine.begin() as connection:
            connection.execute(
                text("CREATE TABLE bench_commit (id bigserial PRIMARY KEY, v numeric)")
            )

        def bare(i: int) -> None:
            with engine.begin() as connection:
                connection.execute(text("INSERT INTO bench_commit (v) VALUES (:v)"), {"v": i})

        def market_order(i: int) -> None:
            side = OrderSide.BUY if i % 2 == 0 else OrderSide.SELL
            venue.place_order(
                OrderRequest(f"m-{i}", "BTC", side, OrderType.MARKET, Decimal("0.001"))
            )

        def resting_limit(i: int) -> None:
            venue.place_order(
                OrderRequest(
                    f"l-{i}",
                    "BTC",
                    OrderSide.BUY,
                    OrderType.LIMIT,
                    Decimal("0.001"),
                    Decimal(50_000),
                )
            )

        def lookup(i: int) -> None:
            venue.get_order("BTC", f"m-{max(i, 0)}")

        cases = {
            "bare INSERT + COMMIT": bare,
            "paper market order (place+fill+persist)": market_order,
            "paper limit order (rests)": resting_limit,
            "paper get_order by client id": lookup,
        }
        counts = {
            name: _statements(engine, partial(call, 10_000_000)) for name, call in cases.items()
        }
        measured = {
            name: summary_ms(samples) for name, samples in _timed(cases, ITERATIONS).items()
        }
    baseline = measured["bare INSERT + COMMIT"]["p50_ms"]
    rows = [
        {
            "case": name,
            "n": ITERATIONS,
            "statements": counts[name],
            **stats,
            "x_bare_p50": round(stats["p50_ms"] / baseline, 2),
        }
        for name, stats in measured.items()
    ]
    order = measured["paper market order (place+fill+persist)"]
    ratio = order["p50_ms"] / baseline
    rows[1].update(target=f"<= {TARGET_RATIO} x bare", met=ratio <= TARGET_RATIO)
    return {
        "name": "paper_orders",
        "title": "Paper venue round trip vs a bare PostgreSQL commit",
        "rows": rows,
        "target": f"paper market order p50 <= {TARGET_RATIO} x the bare commit",
        "met": ratio <= TARGET_RATIO,
        "notes": [
            f"paper market order p50 = {order['p50_ms']} ms = "
            f"{ratio:.2f} x the bare commit ({baseline} ms)",
            "statements: SQL sent per call, besides BEGIN, the pool's ping and COMMIT",
        ],
    }
