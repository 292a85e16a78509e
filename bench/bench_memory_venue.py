"""The in-memory venue through a year: what a backtest's venue side costs.

Three venues (Hyperliquid hourly funding, Aster and Paradex every 8 hours), 18 symbols, one
year of hourly marks. Each simulated hour, on every venue, the calls a funding-arbitrage
cycle makes of a venue (its rates come from the funding service, not from here):
`positions()`, `balance()`, `funding_payments()` since the last hour and the book of two
symbols; once a day two positions are closed and two opened with market orders. Four
positions stay open on each venue, so every hour settles funding on them. The data is built
before the clock starts. Three runs of the year: the venue's own simulation alone (`settle()`
each hour: funding, fills, liquidations), the cycle's calls, and the cycle's calls plus
`funding_rates()` of all 18 symbols, for a caller that reads rates from the venue.
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
TARGET_SECONDS = 2.0  # the simulation itself; each read is a few tens of microseconds more


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


WHAT = {
    "settle": "settle() each venue-hour (the simulation alone)",
    "cycle": "positions, balance, funding payments, 2 books each venue-hour",
    "cycle+rates": "the same and funding_rates() of 18 symbols",
}


def _order(cid: str, symbol: str, side: OrderSide) -> OrderRequest:
    qty = Decimal("0.01") if symbol in ("BTC", "ETH") else Decimal(1)
    return OrderRequest(cid, symbol, side, OrderType.MARKET, qty)


def _year(markets: dict[str, SeriesMarket], calls_of: str) -> tuple[float, float, int]:
    """(wall s, CPU s, calls) of one simulated year on fresh venues over `markets`."""
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
            if calls_of == "settle":
                venue.settle()
                calls += 1
                continue
            venue.positions()
            venue.balance()
            venue.funding_payments(None, since)
            venue.top_of_book(SYMBOLS[hour % 18])
            venue.top_of_book(SYMBOLS[(hour + 7) % 18])
            calls += 5
            if calls_of == "cycle+rates":
                venue.funding_rates()
                calls += 1
            if hour % 24 == 0:
                day = hour // 24
                for k in (0, 1):
                    old = SYMBOLS[4 + (day - 1 + k) % 14] if day > 1 else SYMBOLS[k]
                    new = SYMBOLS[4 + (day + k) % 14]
                    venue.place_order(_order(f"close-{day}-{k}", old, OrderSide.SELL))
                    venue.place_order(_order(f"open-{day}-{k}", new, OrderSide.BUY))
                    calls += 2
    return time.perf_counter() - began, time.process_time() - cpu, calls


def run() -> dict[str, Any]:
    ticks = {v: _ticks(v, i) for v, i in VENUES.items()}
    began = time.process_time()
    markets = {v: SeriesMarket.from_ticks(v, ticks[v]) for v in VENUES}
    built = time.process_time() - began
    runs = {name: _year(markets, name) for name in ("settle", "cycle", "cycle+rates")}
    steps = HOURS * len(VENUES)
    simulation_cpu = runs["settle"][1]
    return {
        "name": "memory_venue",
        "title": "In-memory venue: one simulated year, 18 symbols on 3 venues",
        "rows": [
            {
                "what": f"build the markets from {sum(map(len, ticks.values()))} ticks",
                "cpu_s": round(built, 2),
            },
            *(
                {
                    "what": f"the year: {WHAT[name]}",
                    "seconds": round(wall, 2),
                    "cpu_s": round(cpu, 2),
                    "us_per_venue_hour": round(cpu / steps * 1e6, 1),
                    "calls": calls,
                }
                for name, (wall, cpu, calls) in runs.items()
            ),
        ],
        "target": f"the simulation of the year under {TARGET_SECONDS} s of CPU",
        "met": simulation_cpu < TARGET_SECONDS,
        "notes": [
            f"{steps} venue-hours; CPU time is the steadier figure on a shared machine",
        ],
    }
