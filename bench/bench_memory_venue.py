"""The in-memory venue through a year: what a backtest's venue side costs.

Three venues (Hyperliquid hourly funding, Aster and Paradex every 8 hours), 18 symbols, one
year of hourly marks. Each simulated hour, on every venue, the calls a funding-arbitrage
cycle makes: `funding_rates()` for every symbol, `positions()`, `balance()` and
`funding_payments()` since the last hour; once a day two positions are closed and two opened
with market orders. Four positions stay open on each venue, so every hour settles funding
on them. The data is built before the clock starts; the figure is the simulated year.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from core.clock import ManualClock
from core.enums import OrderSide, OrderType
from exchanges.base import OrderRequest
from exchanges.memory import InMemoryVenue, InMemoryVenueState
from exchanges.simulation.market import Tick
from exchanges.simulation.series import SeriesMarket

START = datetime(2025, 1, 1, tzinfo=UTC)
HOURS = 365 * 24
VENUES = {"hyperliquid": 1, "aster": 8, "paradex": 8}
SYMBOLS = ["BTC", "ETH", "SOL"] + [f"ALT{i:02d}" for i in range(15)]
PRICES = {"BTC": 60_000, "ETH": 3_000, "SOL": 150}
TARGET_SECONDS = 3.0


def _ticks(venue: str, interval: int) -> list[Tick]:
    """Hourly marks moving by whole ticks (deterministic), a rate per interval."""
    ticks = []
    for n, symbol in enumerate(SYMBOLS):
        base = Decimal(PRICES.get(symbol, 10 + n))
        step = base / 1000
        rate = Decimal("0.00001") * (n % 5 + 1) * interval
        for hour in range(HOURS + 1):
            mark = base + step * ((hour * (n + 3)) % 17 - 8)
            ticks.append(
                Tick(venue, symbol, START + timedelta(hours=hour), mark, rate, Decimal(interval))
            )
    return ticks


def _order(cid: str, symbol: str, side: OrderSide) -> OrderRequest:
    qty = Decimal("0.01") if symbol in ("BTC", "ETH") else Decimal(1)
    return OrderRequest(cid, symbol, side, OrderType.MARKET, qty)


def run() -> dict[str, Any]:
    began = time.perf_counter()
    markets = {v: SeriesMarket.from_ticks(v, _ticks(v, i)) for v, i in VENUES.items()}
    built = time.perf_counter() - began
    clock = ManualClock(START)
    venues = {v: InMemoryVenue(InMemoryVenueState(v, m), clock=clock) for v, m in markets.items()}
    for venue in venues.values():
        venue.credit_deposit("seed", "USDC", Decimal(10_000_000), "arbitrum")
        for symbol in SYMBOLS[:4]:
            venue.place_order(_order(f"open-{symbol}", symbol, OrderSide.BUY))
    calls = 0
    began, cpu = time.perf_counter(), time.process_time()
    for hour in range(1, HOURS + 1):
        since = clock.now()
        clock.set(START + timedelta(hours=hour))
        for venue in venues.values():
            venue.funding_rates()
            venue.positions()
            venue.balance()
            venue.funding_payments(None, since)
            calls += 4
            if hour % 24 == 0:
                day = hour // 24
                for k in (0, 1):
                    old = SYMBOLS[4 + (day - 1 + k) % 14] if day > 1 else SYMBOLS[k]
                    new = SYMBOLS[4 + (day + k) % 14]
                    venue.place_order(_order(f"close-{day}-{k}", old, OrderSide.SELL))
                    venue.place_order(_order(f"open-{day}-{k}", new, OrderSide.BUY))
                    calls += 2
    seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
    payments = sum(len(v.funding_payments(None, START)) for v in venues.values())
    settlements = sum(
        len(v.state.settlements) + len(v.state.unpaid_funding) for v in venues.values()
    )
    steps = HOURS * len(venues)
    return {
        "name": "memory_venue",
        "title": "In-memory venue: one simulated year, 18 symbols on 3 venues",
        "rows": [
            {
                "what": "build the markets (parse, sort, funding calendar)",
                "seconds": round(built, 2),
            },
            {"what": "the simulated year", "seconds": round(seconds, 2)},
            {"what": "the simulated year, CPU time of this process", "seconds": round(cpu, 2)},
            {"what": "per venue-hour (advance + 4 reads)", "us": round(seconds / steps * 1e6, 1)},
            {"what": "per call", "us": round(seconds / calls * 1e6, 1)},
            {"what": "funding settlements / payments", "count": f"{settlements} / {payments}"},
        ],
        "target": f"the simulated year under {TARGET_SECONDS} s (a backtest's budget is 10 s)",
        "met": seconds < TARGET_SECONDS,
        "notes": [
            f"{calls} venue calls, {steps} venue-hours",
            "on a shared machine the CPU time is the steadier figure",
        ],
    }
