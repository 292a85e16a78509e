"""Paper venue order round trip (place + fill + persist) against a bare PostgreSQL commit.

Each paper call is one transaction that locks the venue and account rows, advances the venue
(nothing to replay here: the clock does not move), writes the order, the fill, the position
and two ledger rows, and commits. The baseline is the cheapest durable write: one INSERT and
its COMMIT on the same server. The ratio says what the venue model costs per order.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import text

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
TARGET_P50_MS = 15.0


def _timed(call: Callable[[int], object], iterations: int) -> list[float]:
    for i in range(WARMUP):
        call(-1 - i)
    samples = []
    for i in range(iterations):
        began = time.perf_counter()
        call(i)
        samples.append(time.perf_counter() - began)
    return samples


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

        cases = [
            ("bare INSERT + COMMIT", bare),
            ("paper market order (place+fill+persist)", market_order),
            ("paper limit order (rests)", resting_limit),
            ("paper get_order by client id", lookup),
        ]
        measured = {name: summary_ms(_timed(call, ITERATIONS)) for name, call in cases}
    baseline = measured["bare INSERT + COMMIT"]["p50_ms"]
    rows = [
        {"case": name, "n": ITERATIONS, **stats, "x_bare_p50": round(stats["p50_ms"] / baseline, 1)}
        for name, stats in measured.items()
    ]
    order = measured["paper market order (place+fill+persist)"]
    return {
        "name": "paper_orders",
        "title": "Paper venue round trip vs a bare PostgreSQL commit",
        "rows": rows,
        "target": f"paper market order p50 under {TARGET_P50_MS} ms",
        "met": order["p50_ms"] < TARGET_P50_MS,
        "notes": [
            f"paper market order p50 = {order['p50_ms']} ms = "
            f"{order['p50_ms'] / baseline:.1f} x the bare commit ({baseline} ms)"
        ],
    }
